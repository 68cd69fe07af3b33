#!/bin/bash
# The lifelong-learning comparison of experiments/README.md ("Lifelong learning by
# calibration"): every method on split MNIST (5 tasks) and rotated MNIST (10 tasks), with the
# default config (batch 32, 200 steps per task), then the tables. Usage:
#   experiments/lifelong_runs.sh [OUT_DIR]       (default runs/lifelong)
# Each run is `yoto-lifelong` (python -m zoo.lifelong.lifelong_train); rerunning continues
# any run that did not finish.
set -euo pipefail
out=${1:-runs/lifelong}
mkdir -p "$out"
methods=(calibration joint finetune ewc sc sf)
for sequence in split_mnist rotated_mnist; do
  extra=()
  # Rotated MNIST evaluates 55 (task, stage) pairs: 500 test images each keeps that cheap.
  [[ $sequence == rotated_mnist ]] && extra=(--config=eval_examples_per_task=500)
  for method in "${methods[@]}"; do
    nice -n 5 python -m zoo.lifelong.lifelong_train --model_dir="$out/${sequence}_$method" \
      --config=sequence=$sequence --config=method=$method "${extra[@]}" \
      > "$out/${sequence}_$method.log" 2>&1 &
  done
  wait
done
python experiments/lifelong_table.py "$out"
