#!/usr/bin/env bash
# One arm of a controlled codec comparison, in the background: the release run's flags
# (experiments/release_runs.sh, task_flags compression), fine-tuned from START (or trained
# from scratch when START is `scratch`: seed 0, so arms of one comparison start alike),
# plus EXTRA flags, one thread, in a scheduling group of its own at low priority (as release_runs.sh
# starts the long runs). Rerunning the same command resumes the arm from its checkpoint.
#
#   experiments/codec_arm.sh RUN_DIR START [EXTRA_FLAG...]
#
# ARM_TASK=style_student (or another run of release_runs.sh) makes an arm of that run instead.
#
# e.g. the arms of experiments/README.md's entropy-model and lambda-range comparisons:
#   experiments/codec_arm.sh runs/cmp36/channel_context3 runs/cmp36/start3_channel_context \
#       "--config=entropy_model='channel_context'"
#   experiments/codec_arm.sh runs/cmp36/range072 runs/cmp36/base95000 --config=lmbda_high=0.72
#   experiments/codec_arm.sh runs/scratch36/scale scratch --config=num_filters=48 ...
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 RUN_DIR START [EXTRA_FLAG...]" >&2; exit 2; }
run_dir=$1 start=$2
shift 2
if [ "$start" = scratch ]; then
  start_flags=(--seed=0)
else
  [ -f "$start/snapshot.json" ] || { echo "$start is not a weights snapshot" >&2; exit 2; }
  start_flags=(--init_from="$start")
fi
WORK=releases/work  # task_flags names the style student's teacher in it.
source <(sed -n '/^task_flags()/,/^}/p' experiments/release_runs.sh)
flags=$(task_flags "${ARM_TASK:-compression}")
# shellcheck disable=SC2086  # $flags is a list of flags.
TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2 \
  setsid nohup nice -n 19 .venv/bin/yoto-train $flags --steps=6000 \
  --checkpoint_every=300 "$@" --model_dir="$run_dir" "${start_flags[@]}" \
  >>"$run_dir.log" 2>&1 &
pid=$!
for _ in $(seq 10); do
  [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] && break
  sleep 0.5
done
echo 19 >"/proc/$pid/autogroup" 2>/dev/null || true
echo "$run_dir: started (pid $pid), log $run_dir.log"
