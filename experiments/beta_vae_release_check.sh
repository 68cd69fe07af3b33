#!/usr/bin/env bash
# The beta-VAE release check: fixed-beta models at beta = 0.5, 4, 32, each trained for as
# many steps as the release candidate (the same default config, one intra-op thread, lowest
# priority, one after another: one training process of a task at a time), then all four
# evaluated on the whole MNIST test split at the paper's grid 2^-3 .. 2^9.
#   usage: [BETAS="4 32"] experiments/beta_vae_release_check.sh CANDIDATE STEPS [OUT_DIR]
# CANDIDATE: the YOTO run's training dir or pretrained:NAME. Resumable: a finished fixed
# run is skipped, an interrupted one continues from its checkpoint. BETAS trains and evaluates
# only some of them (a new machine that already has the others' results on a release card).
set -euo pipefail
cd "$(dirname "$0")/.."
candidate=$1
steps=$2
out=${3:-runs/beta_vae_release_check}
py=${PYTHON:-.venv/bin/python}
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
betas=${BETAS:-0.5 4 32}
dirs=$candidate
labels=yoto
for beta in $betas; do
  nice -n 19 "$py" -m zoo.training.train --task=beta_vae --model_dir="$out/fixed_$beta" \
    --steps="$steps" --config=fixed_beta=$beta --log_every=1000 --checkpoint_every=1000
  dirs+=",$out/fixed_$beta"
  labels+=",fixed_$beta"
done
nice -n 19 "$py" -m zoo.evaluation.evaluate --task=beta_vae \
  --model_dirs="$dirs" --labels="$labels" --output_dir="$out/eval"
