#!/usr/bin/env bash
# One YOTO beta-VAE against fixed-beta models at beta = 0.5, 4, 32, each trained with
# the same number of steps (so YOTO uses a third of the three baselines' compute),
# all evaluated on the whole MNIST test split at the paper's grid 2^-3 .. 2^9.
#   usage: experiments/beta_vae_vs_fixed.sh [OUT_DIR] [STEPS]
set -euo pipefail
out=${1:-runs/beta_vae_vs_fixed}
steps=${2:-4000}
py=${PYTHON:-.venv/bin/python}
$py -m zoo.training.train --task=beta_vae --model_dir="$out/yoto" --steps="$steps"
for beta in 0.5 4 32; do
  $py -m zoo.training.train --task=beta_vae --model_dir="$out/fixed_$beta" --steps="$steps" \
    --config=fixed_beta=$beta
done
$py -m zoo.evaluation.evaluate --task=beta_vae \
  --model_dirs="$out/yoto,$out/fixed_0.5,$out/fixed_4,$out/fixed_32" \
  --labels=yoto,fixed_0.5,fixed_4,fixed_32 --output_dir="$out/eval"
