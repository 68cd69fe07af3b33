#!/usr/bin/env bash
# One YOTO style-transfer network against two fixed-weight networks trained with the same
# steps each (one single style, one mixture), all evaluated with the pretrained loss network
# (VGG16 from HED) on the held-out photographs, through their exported SavedModels.
#
#   experiments/style_vs_fixed.sh [OUT=runs/style_vs_fixed] [STEPS=3000]
set -euo pipefail
out=${1:-runs/style_vs_fixed}
steps=${2:-3000}
python=${PYTHON:-.venv/bin/python}
single="1,1,0,0,0"        # content 1, style_1 (brick) 1
mixture="1,0.25,0.25,0.25,0.25"  # content 1, the four styles evenly at strength 1

"$python" -m zoo.train --task=style_transfer --model_dir="$out/yoto" --steps="$steps"
"$python" -m zoo.train --task=style_transfer --model_dir="$out/fixed_single" --steps="$steps" \
    --config=fixed_weights="($single)"
"$python" -m zoo.train --task=style_transfer --model_dir="$out/fixed_mixture" --steps="$steps" \
    --config=fixed_weights="($mixture)"
for run in yoto fixed_single fixed_mixture; do
    "$python" -m export.export_saved_model --model_dir="$out/$run" --base_dir="$out/serving" \
        --model_name="$run"
done
"$python" -m zoo.style_eval --model="$out/serving/yoto/1" --output_dir="$out/eval" \
    --compare="single=$out/serving/fixed_single/1@$single" \
    --compare="mixture=$out/serving/fixed_mixture/1@$mixture" \
    | tee "$out/eval.txt"
