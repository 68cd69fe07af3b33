"""Two style networks compared on the objective they were trained to minimise.

    python experiments/style_objective_check.py --baseline=DIR --candidate=DIR
        [--random_vectors=25] [--judge=baseline|candidate|DIR] [--size=256] [--seed=0]

How the two are scored: `zoo/style_transfer/objective_comparison.py` (the release check's
25 weight vectors and, with `--random_vectors=N`, N more drawn, seeded, from the judge's
training distribution; both networks' outputs scored by the judge's objective, by default
the baseline's). A student against its teacher: the teacher as the baseline. Prints
candidate / baseline per sweep, the geometric mean over all vectors (below 1: the
candidate is better), how many vectors each wins, and whether each term falls along its
own weight for each network. DIR: a training dir, weights snapshot or
`pretrained:NAME`. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse

from zoo import loading
from zoo.style_transfer import data as style_data
from zoo.style_transfer.objective_comparison import (
    falls_along_own_weight,
    geometric_mean,
    mean_terms,
    ratios_by_sweep,
    weight_vectors,
)


def main() -> None:
    """Prints the per-sweep and overall ratios of --candidate to --baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="snapshot, training dir or release")
    parser.add_argument("--candidate", required=True, help="snapshot, training dir or release")
    parser.add_argument("--judge", default="baseline", help="baseline, candidate or a DIR")
    parser.add_argument("--random_vectors", type=int, default=0, help="vectors drawn beside 25")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn vectors")
    parser.add_argument("--size", type=int, default=256, help="side of the held-out crops")
    args = parser.parse_args()
    baseline, _, _ = loading.restore_model(args.baseline)
    candidate, _, _ = loading.restore_model(args.candidate)
    judges = {"baseline": baseline, "candidate": candidate}
    judge = judges.get(args.judge) or loading.restore_model(args.judge)[0]
    images = style_data.evaluation_images(size=args.size)
    vectors = weight_vectors(judge, args.random_vectors, args.seed)
    rows = {name: mean_terms(model, judge, images, vectors) for name, model in judges.items()}
    ratios = ratios_by_sweep(vectors, rows["candidate"], rows["baseline"])
    print(
        f"candidate {args.candidate} / baseline {args.baseline}, judged by {args.judge}'s "
        f"objective on {len(images)} held-out crops of {args.size}px, weighted total per vector:"
    )
    for sweep, values in ratios.items():
        print(f"  {sweep:8s} " + ", ".join(f"{value:.3f}" for value in values))
    every = [value for values in ratios.values() for value in values]
    print(
        f"geometric mean over {len(every)} vectors: {geometric_mean(ratios):.3f} "
        f"(candidate better at {sum(value < 1 for value in every)} of {len(every)})"
    )
    for name in judges:
        falls = falls_along_own_weight(vectors, rows[name])
        print(
            f"{name}: each term falls along its own weight: "
            + ", ".join(f"{term} {'yes' if ok else 'NO'}" for term, ok in falls.items())
        )


if __name__ == "__main__":
    main()
