#!/usr/bin/env bash
# The codec's two comparisons, every run ending at a learning rate 10x lower for its last
# fifth of steps (Config.learning_rate_drops), as tensorflow-compression's recipe does:
#   1. one YOTO codec trained within BUDGET seconds (at most BUDGET_STEPS steps), against
#      JPEG and WebP on the held-out photographs;
#   2. one YOTO codec against four fixed-lambda codecs trained with STEPS steps each.
# Runs go one after another: on two cores, side by side is slower than in turn.
#
#   experiments/compression_vs_fixed.sh [OUT=runs/compression_vs_fixed] [STEPS=2500] \
#       [BUDGET_STEPS=5400] [BUDGET=1800]
#
# Writes OUT/yoto_budget, OUT/yoto_STEPS, OUT/fixed_<lambda> (one per lambda) and the
# evaluations OUT/eval_vs_pillow{,.txt} and OUT/eval_vs_fixed{,.txt}.
set -euo pipefail
out=${1:-runs/compression_vs_fixed}
steps=${2:-2500}
budget_steps=${3:-5400}
budget=${4:-1800}
python=${PYTHON:-.venv/bin/python}
lambdas=(0.0018 0.00836 0.0388 0.18)  # Four log-spaced points over the trained range.

# train DIR STEPS [FLAGS...]: a run of STEPS steps whose last fifth is at the lower rate.
train() {
    local dir=$1 run_steps=$2
    shift 2
    local start
    start=$(date +%s)
    "$python" -m zoo.training.train --task=compression --model_dir="$dir" --steps="$run_steps" \
        --config=learning_rate_drops="($((run_steps * 4 / 5)),)" "$@"
    echo "$dir: trained in $(($(date +%s) - start)) s"
}

train "$out/yoto_budget" "$budget_steps" --max_seconds="$budget"
"$python" -m zoo.compression.codec_eval --models="$out/yoto_budget" --labels="YOTO (${budget} s)" \
    --output_dir="$out/eval_vs_pillow" | tee "$out/eval_vs_pillow.txt"

train "$out/yoto_$steps" "$steps"
fixed=()
for lmbda in "${lambdas[@]}"; do
    train "$out/fixed_$lmbda" "$steps" --config=fixed_lmbda="$lmbda"
    fixed+=("$out/fixed_$lmbda")
done
"$python" -m zoo.compression.codec_eval --models="$out/yoto_$steps" --labels="YOTO ($steps steps)" \
    --fixed_models="$(IFS=,; echo "${fixed[*]}")" --grid="$(IFS=,; echo "${lambdas[*]}")" \
    --output_dir="$out/eval_vs_fixed" | tee "$out/eval_vs_fixed.txt"
