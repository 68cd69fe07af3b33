"""Compares three counts of a compression model's bits on one held-out crop.

    .venv/bin/python experiments/compression_rate_check.py --model=runs/codec [--lmbda=0.18]

Prints, for the side information and for the latents separately: tfc's estimate
(the entropy model called with training=False), the ideal -log2 P(round(y)) under
N(0, scale) convolved with U(-1/2, 1/2) computed with scipy, and the length of the
range-coded string. They should agree; see experiments/README.md for what they show.
"""

from __future__ import annotations

from absl import app, flags

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

tf = import_tensorflow_quietly()

flags.DEFINE_string("model", None, "Compression training directory.")
flags.DEFINE_float("lmbda", 0.18, "Lambda to code at.")
flags.DEFINE_integer("size", 256, "Side of the square crop of the first held-out photograph.")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def main(argv):
    """Restores the model, codes one crop, prints the three counts."""
    del argv
    import numpy as np
    from scipy.stats import norm

    from zoo.compression import data as compression_data

    model, _, _ = loading.restore_model(FLAGS.model)
    model.prepare_for_coding()
    crop = compression_data.evaluation_images()[0][: FLAGS.size, : FLAGS.size]
    images = tf.constant(crop[None])
    lmbda = tf.constant([FLAGS.lmbda])
    latent_strings, side_strings, _, side_shape = model.compress(images, lmbda)
    latent_coder, side_coder, conditioning = model._coding_setup(lmbda)
    latent_estimator, side_estimator = model._entropy_models(compression=False)

    y = model.analyse(tf.cast(images, tf.float32), conditioning, lmbda)
    z = model.hyper_analysis(y, conditioning)
    z_estimated, side_bits = side_estimator(z, training=False)
    z_decoded = side_coder.decompress(side_strings, side_shape)
    indexes = model._scale_indexes(z_decoded, conditioning, lmbda)
    _, latent_bits = latent_estimator(y, indexes, training=False)

    scales = model._scale_fn(tf.round(indexes)).numpy().ravel()
    rounded = np.round(y.numpy().ravel())
    probability = norm.cdf((rounded + 0.5) / scales) - norm.cdf((rounded - 0.5) / scales)
    ideal_bits = float(-np.log2(np.maximum(probability, 1e-9)).sum())

    same_side = bool(tf.reduce_all(z_estimated == z_decoded))
    print(f"{FLAGS.size}x{FLAGS.size} crop, lambda {FLAGS.lmbda}")
    print(
        f"side:    estimate {float(side_bits[0]):10.0f} bits   string "
        f"{8 * len(side_strings.numpy()[0]):10d} bits   same hyper-latents: {same_side}"
    )
    print(
        f"latents: estimate {float(latent_bits[0]):10.0f} bits   ideal {ideal_bits:10.0f} bits"
        f"   string {8 * len(latent_strings.numpy()[0]):10d} bits"
    )


if __name__ == "__main__":
    app.run(main)
