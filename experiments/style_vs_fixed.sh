#!/usr/bin/env bash
# One YOTO style-transfer network against two fixed-weight networks trained with the same
# steps each (one single style, one mixture), all evaluated with the pretrained loss network
# (VGG16 from HED) on the held-out photographs, through their exported SavedModels.
#
#   experiments/style_vs_fixed.sh [OUT=runs/style_vs_fixed] [STEPS=1500]
#
# The two fixed-weight runs train side by side. A run dir that already holds STEPS steps
# is only resumed (a no-op), so rerunning the script re-exports and re-evaluates.
set -euo pipefail
out=${1:-runs/style_vs_fixed}
steps=${2:-1500}
python=${PYTHON:-.venv/bin/python}
single="1,1,0,0,0"        # content 1, style_1 (brick) 1
mixture="1,0.25,0.25,0.25,0.25"  # content 1, the four styles evenly at strength 1

"$python" -m zoo.train --task=style_transfer --model_dir="$out/yoto" --steps="$steps"
"$python" -m zoo.train --task=style_transfer --model_dir="$out/fixed_single" --steps="$steps" \
    --config=fixed_weights="($single)" &
single_pid=$!
"$python" -m zoo.train --task=style_transfer --model_dir="$out/fixed_mixture" --steps="$steps" \
    --config=fixed_weights="($mixture)" &
mixture_pid=$!
# One wait per job: a bare `wait` returns 0 even when a job failed.
wait "$single_pid"
wait "$mixture_pid"
for run in yoto fixed_single fixed_mixture; do
    "$python" -m export.export_saved_model --model_dir="$out/$run" --base_dir="$out/serving" \
        --model_name="$run"
done
# The newest numeric version of an export (a rerun exports the next version).
newest() { echo "$out/serving/$1/$(ls "$out/serving/$1" | grep -E '^[0-9]+$' | sort -n | tail -1)"; }
"$python" -m zoo.style_eval --model="$(newest yoto)" --output_dir="$out/eval" \
    --compare="single=$(newest fixed_single)@$single" \
    --compare="mixture=$(newest fixed_mixture)@$mixture" \
    | tee "$out/eval.txt"
