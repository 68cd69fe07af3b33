"""How much a trained codec's FiLM layers differ between the ends of its lambda range.

    .venv/bin/python experiments/film_modulation_check.py runs/codec

Prints the conditioning vector's mean size and how far apart it is at lambda 0.0018
and 0.18, then, per FiLM layer, the mean |gamma| at each end and their mean
difference: the numbers behind experiments/README.md's conditioning diagnosis.
"""

from __future__ import annotations

import sys

from zoo.flags_util import import_tensorflow_quietly

tf = import_tensorflow_quietly()


def main(model_dir: str) -> None:
    """Restores the codec in `model_dir` and prints its FiLM modulations at both ends."""
    from zoo import train_lib

    model, _, _ = train_lib.restore_model(model_dir)
    conditioning = model.conditioning(tf.constant([[1.0, 0.0018], [1.0, 0.18]]))
    size = float(tf.reduce_mean(tf.abs(conditioning)))
    apart = float(tf.reduce_mean(tf.abs(conditioning[0] - conditioning[1])))
    print(f"conditioning: mean |c| {size:.3f}, mean |c(0.0018) - c(0.18)| {apart:.3f}")
    for name in ("analysis", "synthesis", "hyper_analysis", "hyper_synthesis"):
        for index, block in enumerate(getattr(model, name)):
            if block.film is None:
                continue
            gamma, _ = block.film.modulation(conditioning)
            ends = [float(tf.reduce_mean(tf.abs(g))) for g in gamma]
            difference = float(tf.reduce_mean(tf.abs(gamma[0] - gamma[1])))
            print(f"{name} {index}: |gamma| {ends[0]:.4f} / {ends[1]:.4f}, apart {difference:.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: film_modulation_check.py COMPRESSION_TRAINING_DIR")
    main(sys.argv[1])
