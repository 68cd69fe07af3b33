"""Two style networks compared on one objective, the one they were trained to minimise.

Each term falling along its own weight says little about which of two YOTO networks is
better: one may trade content for style at every weight. So both run on the same held-out
crops at the same weight vectors (the release check's 25: each style term along 0.1..10
with content 1, the content term along 0.1..10 with style_1 1; and any number drawn,
seeded, from the judge's training distribution), and the weighted sum of the five
conditioned terms of each output (the loss itself; tv, with one small constant weight, is
left out) is scored by ONE objective, the judge's: its loss network, Gram targets and
term scales. A student trained on other crop sizes, whose own scales differ, is then
neither flattered nor penalised by them. Used by `experiments/style_objective_check.py`
and by the release checks (a distilled release against its teacher).
"""

from __future__ import annotations

import statistics

import numpy as np
import tensorflow as tf

from zoo.style_transfer import config as style_config
from zoo.style_transfer import style_eval_lib


def weight_vectors(judge, random_vectors: int, seed: int) -> list[tuple[str, list[float]]]:
    """(sweep, five weights): the release check's 25 vectors, then `random_vectors` drawn
    from `judge`'s weight sampler (sweep "random")."""
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
    images = tf.cast(images, tf.float32)

    # One graph for every vector (same shapes): eager dispatch would dominate small crops.
    @tf.function
    def terms_at(weights):
        return judge.objective_terms(model(images, weights, training=False), images)

    rows = []
    for _, vector in vectors:
        weights = tf.constant([[*vector, tv_weight]] * len(images), tf.float32)
        rows.append({name: float(np.mean(value)) for name, value in terms_at(weights).items()})
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


def ratios_by_sweep(vectors, candidate_rows, baseline_rows) -> dict[str, list[float]]:
    """sweep -> candidate / baseline weighted totals at each of its vectors, in order."""
    ratios = {}
    for (sweep, vector), ours, theirs in zip(vectors, candidate_rows, baseline_rows, strict=True):
        ratios.setdefault(sweep, []).append(
            weighted_total(vector, ours) / weighted_total(vector, theirs)
        )
    return ratios


def geometric_mean(ratios: dict[str, list[float]]) -> float:
    """The geometric mean of every ratio (below 1: the candidate is better)."""
    return statistics.geometric_mean([value for values in ratios.values() for value in values])
