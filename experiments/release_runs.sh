#!/usr/bin/env bash
# The release trainings: one background run per zoo task, trained across sessions.
#
#   experiments/release_runs.sh start [TASK...]     start or resume each run in the background
#   experiments/release_runs.sh snapshot [TASK...]  write each run's weights to the work area
#   experiments/release_runs.sh status              each run's step and process
#   experiments/release_runs.sh pause [TASK...]     stop each run where it is (a measurement
#                                                   needs the CPU); nothing is lost
#   experiments/release_runs.sh resume [TASK...]    let each paused run go on
#   experiments/release_runs.sh candidate TASK STEPS
#                                                   a release candidate: the run's weights
#                                                   with its learning rate decayed for STEPS
#   experiments/release_runs.sh teacher STEPS       the student's teacher: the teacher run's
#                                                   latest checkpoint decayed for STEPS, into
#                                                   releases/work/style_teacher
#
# TASK: beta_vae, compression, style_transfer, style_student (default: all four); style
# transfer has two runs, the teacher (style_transfer, Johnson's network) and the release
# network distilled from it (style_student). Each run trains in
# runs/long/TASK (ignored by git) with one intra-op thread at the lowest priority, so
# that tests and other work on a 2-core machine keep a core and the scheduler's
# preference. `start` resumes from runs/long/TASK or from the committed snapshot in
# releases/work/TASK, whichever holds more steps (`yoto-train --init_from`; from a
# snapshot the optimizer state restarts, and the log says so). `snapshot` is what a
# session runs before it ends, then commits releases/work/. Never two runs of a name.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
RUNS=runs/long
WORK=releases/work

# The training command of each task, without --model_dir and --init_from.
task_flags() {
  case "$1" in
    beta_vae)
      echo "--task=beta_vae --steps=40000 --checkpoint_every=1000 --image_every=5000 --log_every=200" ;;
    compression)
      # The default config on the bundled and Debian photographs (make photos), the learning
      # rate divided by 10 for the last quarter, with 192 latent channels: at 64 the
      # transforms capped PSNR at high lambda (experiments/README.md; the run was widened
      # at step 19,400 with zoo/compression/widen_latents.py), and 96 filters in the analysis
      # and synthesis since step 69,200 (zoo/compression/widen_filters.py): level with 64
      # filters at equal time after 82 minutes, with more room at the flat top. With
      # packaged_photos (issue 35), on the 168 training photographs of zoo/data/photo_sets.py
      # (make photos) instead of 27; experiments/README.md says at which step it switched.
      echo "--task=compression --steps=200000 --config=debian_photos=True" \
        "--config=packaged_photos=True" \
        "--config=learning_rate_drops=(150000,190000) --config=num_latent_filters=192" \
        "--config=num_filters=96 --config=num_hyper_filters=64" \
        "--config=crop_scale_low=0.25 --config=crop_flips=True --config=crop_rotations=True" \
        "--checkpoint_every=500 --image_every=10000 --log_every=200" ;;
    style_transfer)
      # A step takes about a second on one thread: checkpoints often enough that a session's
      # end loses little. (The peer's widths and the strided network, input_stride=2, are as
      # fast as the peer but fall behind Johnson's network at equal steps: experiments/README.md.)
      # Styles of distinct colour and structure: four paintings (zoo/style_transfer/config.py
      # RELEASE_STYLES; `sudo make paintings`). Until issue 41 they were scikit-image's
      # ("brick","retina","immunohistochemistry","hubble_deep_field"), which came out as colour
      # casts. yoto-train refuses to resume a run dir of those on these: move
      # runs/long/style_transfer aside first (--init_from a snapshot of them fine-tunes it).
      # With the photograph's skip, its strength chosen by the weights, since step 500 on the
      # paintings (zoo/style_transfer/upgrade_skip.py; experiments/README.md, "The
      # photograph's skip on the trained teacher"): without it the network cannot see the
      # photograph's colour.
      echo "--task=style_transfer --steps=100000 --checkpoint_every=250 --image_every=5000" \
        "--log_every=50" \
        '--config=styles=("starry_night","great_wave","composition_viii","grande_jatte_study")' \
        "--config=input_skip=True --config=conditioned_skip=True" ;;
    style_student)
      # The release network (issue 41): style_config.FAST_NETWORK's shape (as fast as the
      # peer; the skip's gain started at 0) distilled from releases/work/style_teacher, the
      # teacher run decayed at a tenth of its rate (`teacher` below): at 1e-3 the teacher's
      # checkpoints are a noisy walk, and 250 decayed steps made it 16% better by its own
      # objective (experiments/README.md, "The teacher's checkpoints are noisy at 1e-3").
      # A fixed teacher until the next commit of it; a resume after that commit distils
      # from the newer one. Same styles and weight ranges as the teacher (load_teacher
      # checks).
      echo "--task=style_transfer --steps=100000 --checkpoint_every=250 --image_every=5000" \
        "--log_every=50" \
        '--config=styles=("starry_night","great_wave","composition_viii","grande_jatte_study")' \
        "--config=input_stride=2 --config=output_kernel=3" \
        "--config=output_upsampling=\"subpixel\" --config=input_skip=True" \
        "--config=conditioned_skip=True --config=skip_gain_start=0.0" \
        "--config=teacher=$WORK/style_teacher" ;;
    *)
      echo "unknown run $1 (beta_vae, compression, style_transfer, style_student)" >&2
      return 2 ;;
  esac
}

# Flags that turn the task's command into its decay branch (a tenth of the learning rate).
decay_flags() {
  case "$1" in
    beta_vae) echo "--config=learning_rate=1e-4" ;;
    compression) echo "--config=learning_rate=1e-4 --config=learning_rate_drops=()" ;;
    style_transfer | style_student) echo "--config=learning_rate=1e-4" ;;
    *) echo "unknown run $1" >&2; return 2 ;;
  esac
}

# The step of the newest checkpoint of a run (its checkpoint state file names it).
latest_step() {
  sed -n 's/^model_checkpoint_path: "ckpt-\([0-9]*\)"$/\1/p' "$RUNS/$1/checkpoints/checkpoint" \
    2>/dev/null || true
}

# The run's process in this checkout: runs are started with a relative --model_dir, so a
# second checkout's run of the same name is told apart by its working directory.
running_pid() {
  local pid
  for pid in $(pgrep -f -- "--model_dir=$RUNS/$1( |\$)" || true); do
    if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$PWD" ]; then
      echo "$pid"
      return 0
    fi
  done
}

# Whether the process is stopped (SIGSTOP; `ps` state T).
is_paused() {
  [[ "$(ps -o stat= -p "$1" 2>/dev/null)" == T* ]]
}

# Pauses or resumes TASK's run with SIGSTOP or SIGCONT: a stopped process keeps its
# memory, step and open files, and writes nothing until it goes on.
signal_run() {
  local signal=$1 task=$2 pid
  task_flags "$task" >/dev/null
  pid=$(running_pid "$task")
  if [ -z "$pid" ]; then
    echo "$task: not running"
    return 0
  fi
  kill "-$signal" "$pid"
  local state=resumed
  [ "$signal" = STOP ] && state=paused
  echo "$task: $state (pid $pid)"
}

start() {
  local task=$1 flags pid init=()
  flags=$(task_flags "$task")
  pid=$(running_pid "$task")
  if [ -n "$pid" ]; then
    if is_paused "$pid"; then
      echo "$task: already running, paused (pid $pid): $0 resume $task"
    else
      echo "$task: already training (pid $pid)"
    fi
    return 0
  fi
  [ -f "$WORK/$task/snapshot.json" ] && init=(--init_from="$WORK/$task")
  mkdir -p "$RUNS"
  # shellcheck disable=SC2086  # $flags is a list of flags.
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2 \
    setsid nohup nice -n 19 .venv/bin/yoto-train $flags --model_dir="$RUNS/$task" "${init[@]}" \
    >>"$RUNS/$task.log" 2>&1 &
  pid=$!
  # With the kernel's autogroup scheduling (on by default for desktop and server kernels
  # alike), a process's nice value only ranks it within its session's group, and groups
  # share the CPU equally: a nice-19 run took as much CPU as a whole test session. setsid
  # gives the run a group of its own, and the group's nice value ranks it against others.
  # (Once setsid has made the run its session's leader: before, the write would reach this
  # shell's group.)
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && break
    sleep 0.5
  done
  if [ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && [ -w "/proc/$pid/autogroup" ]; then
    echo 19 >"/proc/$pid/autogroup" || true
  fi
  echo "$task: started (pid $pid), log $RUNS/$task.log"
}

snapshot() {
  local task=$1
  if [ ! -d "$RUNS/$task/checkpoints" ]; then
    echo "$task: no run in $RUNS/$task"
    return 0
  fi
  TF_CPP_MIN_LOG_LEVEL=2 "$PY" -m zoo.training.snapshot --model_dir="$RUNS/$task" \
    --output="$WORK/$task" --command="yoto-train $(task_flags "$task") --model_dir=$RUNS/$task"
}

status() {
  local task
  for task in beta_vae compression style_transfer style_student; do
    local pid step="none"
    pid=$(running_pid "$task")
    if [ -n "$pid" ] && is_paused "$pid"; then pid="$pid (paused)"; fi
    if [ -f "$WORK/$task/snapshot.json" ]; then
      step=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" \
        "$WORK/$task/snapshot.json")
    fi
    echo "$task: process ${pid:-none}, committed snapshot at step $step," \
      "latest checkpoint $(ls "$RUNS/$task/checkpoints" 2>/dev/null | grep -o 'ckpt-[0-9]*' | sort -t- -k2 -n | tail -n 1 || true)"
  done
}

# TASK's run fine-tuned from the snapshot START for STEPS steps at a tenth of its rate, in
# BRANCH (in the foreground), and its weights written to the snapshot OUTPUT.
decay_branch() {
  local task=$1 start=$2 branch=$3 steps=$4 output=$5 flags
  flags="$(task_flags "$task") $(decay_flags "$task")"
  # shellcheck disable=SC2086  # $flags is a list of flags.
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2 \
    nice -n 19 .venv/bin/yoto-train $flags --steps="$steps" --model_dir="$branch" \
    --init_from="$start" >>"$branch.log" 2>&1
  TF_CPP_MIN_LOG_LEVEL=2 "$PY" -m zoo.training.snapshot --model_dir="$branch" \
    --output="$output" \
    --command="yoto-train $flags --steps=$steps --model_dir=$branch --init_from=$start"
}

candidate() {
  local task=$1 steps=$2 pid latest step branch
  [[ "$steps" =~ ^[0-9]+$ ]] || { echo "candidate needs TASK STEPS" >&2; return 2; }
  pid=$(running_pid "$task")
  if [ -n "$pid" ]; then
    # A paused run would never reach its next checkpoint, nor end on SIGTERM.
    kill -CONT "$pid"
    latest=$(latest_step "$task")
    echo "$task: waiting for the run's next checkpoint (after step $latest) before stopping it"
    while [ "$(latest_step "$task")" = "$latest" ] && kill -0 "$pid" 2>/dev/null; do
      sleep 10
    done
    sleep 5  # The checkpoint's files are complete once the state file names it.
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 1; done
  fi
  snapshot "$task"
  step=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" \
    "$WORK/$task/snapshot.json")
  branch="$RUNS/${task}_candidate_$step"
  decay_branch "$task" "$WORK/$task" "$branch" "$steps" "$branch/snapshot"
  echo "$task: candidate $branch/snapshot (step $step + $steps at a tenth of the rate)"
  start "$task"
}

# The student's teacher: the teacher run's latest checkpoint fine-tuned STEPS steps at a
# tenth of its rate, beside the running teacher (which keeps training at its own rate),
# written to $WORK/style_teacher for the student run and the release checks to read.
teacher() {
  local steps=$1 step branch
  [[ "$steps" =~ ^[0-9]+$ ]] || { echo "teacher needs STEPS" >&2; return 2; }
  step=$(latest_step style_transfer)
  [ -n "$step" ] || { echo "style_transfer: no checkpoint in $RUNS/style_transfer" >&2; return 2; }
  branch="$RUNS/style_teacher_$step"
  TF_CPP_MIN_LOG_LEVEL=2 "$PY" -m zoo.training.snapshot --model_dir="$RUNS/style_transfer" \
    --output="$branch/start" --nofloat16
  decay_branch style_transfer "$branch/start" "$branch/run" "$steps" "$WORK/style_teacher"
  echo "style_teacher: $WORK/style_teacher (the teacher run at step $step + $steps at a tenth of the rate)"
}

command=${1:-status}
shift || true
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(beta_vae compression style_transfer style_student)
case "$command" in
  start) for task in "${tasks[@]}"; do start "$task"; done ;;
  snapshot) for task in "${tasks[@]}"; do snapshot "$task"; done ;;
  status) status ;;
  pause) for task in "${tasks[@]}"; do signal_run STOP "$task"; done ;;
  resume) for task in "${tasks[@]}"; do signal_run CONT "$task"; done ;;
  candidate) candidate "${tasks[0]}" "${tasks[1]:-}" ;;
  teacher) teacher "${tasks[0]:-}" ;;
  *) echo "usage: $0 {start|snapshot|status|pause|resume} [TASK...] | candidate TASK STEPS | teacher STEPS" >&2
     exit 2 ;;
esac
