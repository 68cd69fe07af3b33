"""Two style networks compared on the objective they were trained to minimise.

    python experiments/style_objective_check.py --baseline=DIR --candidate=DIR
        [--random_vectors=25] [--judge=baseline|candidate|DIR] [--size=256] [--seed=0]

Each term falling along its own weight says little about which of two YOTO networks is
better: one may trade content for style at every weight. This runs both on the held-out
crops at the release check's 25 weight vectors (each style term along 0.1..10 with content
1, the content term along 0.1..10 with style_1 1) and, with `--random_vectors=N`, at N more
drawn (seeded) from the judge's training distribution (single styles and blends), and
compares the weighted sum of the five conditioned terms at each vector, the loss itself
(tv, with the same small constant weight in both, is left out). Both networks' outputs are
scored by ONE objective, the judge's (by default the baseline's: its loss network, Gram
targets and term scales), so that a student trained on other crop sizes, whose own scales
differ, is not flattered or penalised by them. A student against its teacher: the teacher
as the baseline. Prints candidate / baseline per sweep, the geometric mean over all
vectors (below 1: the candidate is better), how many vectors each wins, and whether each
term falls along its own weight for each network. DIR: a training dir, weights snapshot or
`pretrained:NAME`. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import tensorflow as tf

from zoo import loading
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import style_eval_lib


def weight_vectors(judge, random_vectors: int, seed: int) -> list[tuple[str, list[float]]]:
    """(sweep, five weights): the release check's 25 vectors, then `random_vectors` drawn."""
    grid = list(style_config.EVALUATION_GRID)
    vectors = [
        (sweep, vector)
        for sweep, rows in style_eval_lib.sweeps(grid, grid, content=1.0, strength=1.0).items()
        for vector in rows
    ]
    if random_vectors:
        drawn = judge.weight_sampler.sample(tf.random.Generator.from_seed(seed), random_vectors)
        count = len(style_config.CONDITIONED_TERMS)
        vectors += [("random", [float(w) for w in row[:count]]) for row in drawn.numpy()]
    return vectors


def mean_terms(model, judge, images, vectors) -> list[dict[str, float]]:
    """The judge's terms of `model`'s outputs, averaged over `images`, at each vector."""
    tv_weight = judge.weight_sampler.bounds()[1][-1]
    rows = []
    for _, vector in vectors:
        weights = tf.constant([[*vector, tv_weight]] * len(images), tf.float32)
        outputs = model(tf.cast(images, tf.float32), weights, training=False)
        terms = judge.objective_terms(outputs, images)
        rows.append({name: float(np.mean(value)) for name, value in terms.items()})
    return rows


def weighted_total(vector, terms) -> float:
    """The weighted sum of the five conditioned terms."""
    return sum(
        w * terms[name] for w, name in zip(vector, style_config.CONDITIONED_TERMS, strict=True)
    )


def falls_along_own_weight(vectors, rows) -> dict[str, bool]:
    """term -> whether it strictly falls along its own release-check sweep."""
    table = [{"sweep": sweep, **row} for (sweep, _), row in zip(vectors, rows, strict=True)]
    return {
        term: style_eval_lib.falls_monotonically(table, term)
        for term in style_config.CONDITIONED_TERMS
    }


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
    ratios = {}
    for (sweep, vector), ours, theirs in zip(
        vectors, rows["candidate"], rows["baseline"], strict=True
    ):
        ratio = weighted_total(vector, ours) / weighted_total(vector, theirs)
        ratios.setdefault(sweep, []).append(ratio)
    print(
        f"candidate {args.candidate} / baseline {args.baseline}, judged by {args.judge}'s "
        f"objective on {len(images)} held-out crops of {args.size}px, weighted total per vector:"
    )
    for sweep, values in ratios.items():
        print(f"  {sweep:8s} " + ", ".join(f"{value:.3f}" for value in values))
    every = [value for values in ratios.values() for value in values]
    print(
        f"geometric mean over {len(every)} vectors: {statistics.geometric_mean(every):.3f} "
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
