#!/usr/bin/env bash
# One YOTO codec against four fixed-lambda codecs trained with the same steps each, then the
# same YOTO run continued to a 30-minute budget for the comparison with JPEG and WebP.
#
#   experiments/compression_vs_fixed.sh [OUT=runs/compression_vs_fixed] [STEPS=1500] [BUDGET=1800]
#
# Writes OUT/yoto_STEPS (the YOTO model frozen at STEPS), OUT/fixed_<lambda> (one per lambda),
# OUT/yoto (continued until BUDGET seconds of training in all), and the evaluations.
set -euo pipefail
out=${1:-runs/compression_vs_fixed}
steps=${2:-1500}
budget=${3:-1800}
python=${PYTHON:-.venv/bin/python}
lambdas=(0.0018 0.00836 0.0388 0.18)  # Four log-spaced points over the trained range.

start=$(date +%s)
"$python" -m zoo.train --task=compression --model_dir="$out/yoto" --steps="$steps"
spent=$(($(date +%s) - start))
echo "YOTO: $steps steps in $spent s"
rm -rf "$out/yoto_$steps" && cp -r "$out/yoto" "$out/yoto_$steps"
"$python" -m zoo.train --task=compression --model_dir="$out/yoto" --steps=1000000 \
    --max_seconds=$((budget - spent))

fixed=()
for lmbda in "${lambdas[@]}"; do
    "$python" -m zoo.train --task=compression --model_dir="$out/fixed_$lmbda" --steps="$steps" \
        --config=fixed_lmbda="$lmbda"
    fixed+=("$out/fixed_$lmbda")
done

"$python" -m zoo.codec_eval --models="$out/yoto_$steps" --labels="YOTO ($steps steps)" \
    --fixed_models="$(IFS=,; echo "${fixed[*]}")" --grid="$(IFS=,; echo "${lambdas[*]}")" \
    --output_dir="$out/eval_vs_fixed" | tee "$out/eval_vs_fixed.txt"
"$python" -m zoo.codec_eval --models="$out/yoto" --labels="YOTO (${budget} s)" \
    --output_dir="$out/eval_vs_pillow" | tee "$out/eval_vs_pillow.txt"
