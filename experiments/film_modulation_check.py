"""How much a trained model's FiLM layers differ between the ends of its swept weight's grid.

    .venv/bin/python experiments/film_modulation_check.py runs/codec
    .venv/bin/python experiments/film_modulation_check.py runs/style

Any zoo task: the swept weight is the task's `SWEEP_TERM` (the codec's lambda, the
style network's content weight, beta) at the two ends of its `EVALUATION_GRID`, the
other weights at the model's evaluation weights. Prints the conditioning vector's mean
size and how far apart it is at the two ends, then, per FiLM layer, the mean |gamma|
at each end and their mean difference: the numbers behind experiments/README.md's
conditioning diagnoses.
"""

from __future__ import annotations

import sys

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

tf = import_tensorflow_quietly()


def main(model_dir: str) -> None:
    """Restores the model in `model_dir` and prints its FiLM modulations at both ends."""
    import yoto_tf
    import zoo

    model, _, task_name = loading.restore_model(model_dir)
    task = zoo.get_task(task_name)
    ends = (task.EVALUATION_GRID[0], task.EVALUATION_GRID[-1])
    vectors = [model.evaluation_weight_matrix(1, **{task.SWEEP_TERM: value}) for value in ends]
    conditioning = model.conditioning(tf.concat(vectors, axis=0))
    size = float(tf.reduce_mean(tf.abs(conditioning)))
    apart = float(tf.reduce_mean(tf.abs(conditioning[0] - conditioning[1])))
    label = f"{task.SWEEP_WEIGHT_NAME} {ends[0]:g} and {ends[1]:g}"
    print(f"conditioning: mean |c| {size:.3f}, mean |c| difference at {label}: {apart:.3f}")
    films = [layer for layer in model.submodules if isinstance(layer, yoto_tf.FiLM)]
    for index, film in enumerate(films):
        gamma, _ = film.modulation(conditioning)
        sizes = [float(tf.reduce_mean(tf.abs(g))) for g in gamma]
        difference = float(tf.reduce_mean(tf.abs(gamma[0] - gamma[1])))
        print(
            f"FiLM {index} ({film.channels} channels): |gamma| {sizes[0]:.4f} / {sizes[1]:.4f}, "
            f"apart {difference:.4f}"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: film_modulation_check.py TRAINING_DIR")
    main(sys.argv[1])
