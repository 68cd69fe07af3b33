#!/usr/bin/env bash
# One YOTO style student against four single-style students of as many steps, each at its own
# weights (issue 41: the one network within 3% of single-style networks at equal steps).
#
#   experiments/student_vs_fixed.sh STUDENT_DIR STEPS [OUT=runs/student_vs_fixed]
#
# STUDENT_DIR is a yoto-train run of the YOTO student that holds a checkpoint at STEPS
# (checkpoints are kept at every --checkpoint_every). Each single-style student trains with
# the YOTO student's own config (its network, styles and teacher: every field that differs
# from the defaults) plus fixed_weights=(1, style k at 1), for STEPS steps, JOBS at a time
# (environment, default 1), one thread each (a run dir that already holds STEPS steps is
# only resumed: a no-op). Then `zoo.style_transfer.style_eval` compares the YOTO student at
# STEPS with each at its own weights (`compare.csv`: each term and the weighted total,
# yoto / fixed).
set -euo pipefail
student=${1:?usage: $0 STUDENT_DIR STEPS [OUT]}
steps=${2:?usage: $0 STUDENT_DIR STEPS [OUT]}
out=${3:-runs/student_vs_fixed}
python=${PYTHON:-.venv/bin/python}
[[ "$steps" =~ ^[0-9]+$ ]] || { echo "STEPS must be a number of steps, got $steps" >&2; exit 2; }
if [ ! -f "$student/checkpoints/ckpt-$steps.index" ]; then
  echo "$student has no checkpoint at step $steps (ckpt-$steps): pick a step it saved." >&2
  exit 2
fi

# The YOTO student at STEPS, copied so that its run can go on training meanwhile.
mkdir -p "$out/yoto/checkpoints"
cp "$student"/*.json "$out/yoto/"
cp "$student/checkpoints/ckpt-$steps".* "$out/yoto/checkpoints/"
printf 'model_checkpoint_path: "ckpt-%s"\n' "$steps" >"$out/yoto/checkpoints/checkpoint"

# The student's config as yoto-train flags: every field that differs from the default.
mapfile -t flags < <("$python" - "$student/config.json" <<'PY'
import dataclasses, json, sys
from zoo.style_transfer.config import Config
record = json.load(open(sys.argv[1]))
config, defaults = record["config"], dataclasses.asdict(Config())
for name, value in sorted(config.items()):
    if name in defaults and name not in ("fixed_weights", "steps") and value != defaults[name]:
        literal = repr(tuple(value)) if isinstance(value, list) else repr(value)
        print(f"--config={name}={literal}")
if record.get("seed", 0):
    print(f"--seed={record['seed']}")
PY
)

jobs=${JOBS:-1}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "JOBS must be a positive number, got $jobs" >&2; exit 2; }
train_single_style() {
  local k=$1 weights=$2
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2 \
    "$python" -m zoo.training.train --task=style_transfer --model_dir="$out/fixed_$k" \
    --steps="$steps" "${flags[@]}" --config="fixed_weights=($weights)" \
    --checkpoint_every="$steps" --log_every=50 >>"$out/fixed_$k.log" 2>&1
}
compares=()
pids=()
for k in 1 2 3 4; do
  weights="1"
  for j in 1 2 3 4; do [ "$j" = "$k" ] && weights="$weights,1" || weights="$weights,0"; done
  train_single_style "$k" "$weights" &
  pids+=($!)
  compares+=(--compare="style_$k=$out/fixed_$k@$weights")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    for pid in "${pids[@]}"; do wait "$pid"; done
    pids=()
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
"$python" -m zoo.style_transfer.style_eval --model="$out/yoto" --output_dir="$out/eval" \
  "${compares[@]}" | tee "$out/eval.txt"
