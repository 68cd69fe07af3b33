"""Two style networks compared on the objective they were trained to minimise.

    python experiments/style_objective_check.py --baseline=DIR --candidate=DIR [...]

Each term falling along its own weight says little about which of two YOTO networks is
better: one may trade content for style at every weight. This evaluates both on the
held-out crops at the release check's 25 weight vectors (each style term along 0.1..10
with content 1, the content term along 0.1..10 with style_1 1) and compares the weighted
sum of the five conditioned terms at each vector, the loss itself (tv, with the same
small constant weight in both, is left out). Prints candidate / baseline per sweep and
the geometric mean over all 25 vectors (below 1: the candidate is better).
Results: experiments/README.md.
"""

from __future__ import annotations

import argparse
import statistics

from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import style_eval_lib
from zoo.style_transfer.stylizer import Stylizer


def weighted_totals(spec, images) -> list[tuple[str, str, float]]:
    """(sweep, weights, weighted sum of the conditioned terms) at each release-check vector."""
    grid = list(style_config.EVALUATION_GRID)
    weight_sweeps = style_eval_lib.sweeps(grid, grid, content=1.0, strength=1.0)
    rows = style_eval_lib.evaluate_sweeps(Stylizer.load(spec), images, weight_sweeps)
    totals = []
    for row in rows:
        weights = [float(value) for value in row["weights"].split(",")]
        total = sum(
            weight * row[term]
            for weight, term in zip(weights, style_config.CONDITIONED_TERMS, strict=True)
        )
        totals.append((row["sweep"], row["weights"], total))
    return totals


def main() -> None:
    """Prints the per-sweep and overall ratios of --candidate to --baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="snapshot, training dir or release")
    parser.add_argument("--candidate", required=True, help="snapshot, training dir or release")
    args = parser.parse_args()
    images = style_data.evaluation_images(size=256)
    baseline = weighted_totals(args.baseline, images)
    candidate = weighted_totals(args.candidate, images)
    ratios = {}
    for (sweep, _, ours), (_, _, theirs) in zip(candidate, baseline, strict=True):
        ratios.setdefault(sweep, []).append(ours / theirs)
    print(f"candidate {args.candidate} / baseline {args.baseline}, weighted total per vector:")
    for sweep, values in ratios.items():
        print(f"  {sweep:8s} " + ", ".join(f"{value:.3f}" for value in values))
    overall = statistics.geometric_mean([value for values in ratios.values() for value in values])
    print(f"geometric mean over {sum(map(len, ratios.values()))} vectors: {overall:.3f}")


if __name__ == "__main__":
    main()
