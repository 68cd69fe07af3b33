"""Encoder-side rate-distortion optimisation: better latents for a trained codec's decoder.

The analysis transform maps an image to latents in one pass, but it is only an
approximation of the latents that minimise `bpp + lambda * mse` for that image
under the decoder and the priors (the "amortization gap"; Campos et al. 2019,
Yang et al., NeurIPS 2020). A short-trained model, and a YOTO encoder that
serves every lambda at once, leave a large gap. `refine_latents` closes part of
it by gradient descent on the latents of each image at encode time, as a
classical encoder's rate-distortion optimisation searches its choices: the
decoder, the file format and decoding speed are unchanged, encoding gets slower.
"""

from __future__ import annotations

import math

import tensorflow as tf

# Adam on the latents, whose values are a few units: with the cosine decay below, smaller
# and larger rates moved along the rate-distortion curve rather than above it, and a
# constant rate found nothing (experiments/README.md).
DEFAULT_LEARNING_RATE = 0.01
_BETA_1, _BETA_2, _EPSILON = 0.9, 0.999, 1e-8


def check_steps(steps) -> int:
    """Returns `steps` as an int >= 0, or raises ValueError naming it."""
    is_whole = isinstance(steps, (int, float)) and not isinstance(steps, bool)
    if not is_whole or not float(steps).is_integer() or steps < 0:
        raise ValueError(
            f"refine steps must be a whole number >= 0 (0: no refinement), got {steps!r}."
        )
    return int(steps)


def refine_latents(
    model,
    images,
    lmbda,
    steps: int,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    check_every: int = 10,
    seed: int = 0,
):
    """Latents `(y, z)` of uint8 `images` `[B, H, W, 3]` refined for per-image `lmbda` `[B]`.

    Starts from the encoder's latents and takes `steps` Adam steps on each image's
    `bpp + lambda * mse` as `model.relaxed_terms` computes it. Every `check_every`
    steps (and after the last) the latents are scored as they would be coded
    (`model.coded_terms`), and each image keeps the best latents scored, the
    encoder's own included: refinement never raises the coded objective. The
    noise is drawn from stateless streams of `seed`, so the result is repeatable.
    Traceable: wrap it in a `tf.function` to run it as one graph.
    """
    steps = check_steps(steps)
    lmbda = tf.cast(lmbda, tf.float32)
    y, z = model.latents(images, lmbda)

    def coded_objective(y, z):
        terms = model.coded_terms(images, y, z, lmbda)
        return terms["rate"] + lmbda * terms["distortion"]

    def relaxed_objective(y, z, step):
        y_noise = tf.random.stateless_uniform(tf.shape(y), [seed, 2 * step], -0.5, 0.5)
        z_noise = tf.random.stateless_uniform(tf.shape(z), [seed, 2 * step + 1], -0.5, 0.5)
        terms = model.relaxed_terms(images, y, z, lmbda, y_noise, z_noise)
        # Summed over the batch: each image's latents get their own image's gradient.
        return tf.reduce_sum(terms["rate"] + lmbda * terms["distortion"])

    def keep_better(y, z, best):
        best_y, best_z, best_score = best
        score = coded_objective(y, z)
        better = score < best_score
        per_image = tf.reshape(better, [-1, 1, 1, 1])
        return (
            tf.where(per_image, y, best_y),
            tf.where(per_image, z, best_z),
            tf.where(better, score, best_score),
        )

    def adam_step(variable, gradient, moments, step):
        first, second = moments
        first = _BETA_1 * first + (1 - _BETA_1) * gradient
        second = _BETA_2 * second + (1 - _BETA_2) * tf.square(gradient)
        count = tf.cast(step + 1, tf.float32)
        first_hat = first / (1 - _BETA_1**count)
        second_hat = second / (1 - _BETA_2**count)
        # Cosine decay to zero: the early steps move far, the last ones settle, so the
        # noisy rate gradient does not shake the latents out of what they found.
        rate = learning_rate * 0.5 * (1 + tf.cos(math.pi * count / steps))
        variable = variable - rate * first_hat / (tf.sqrt(second_hat) + _EPSILON)
        return variable, (first, second)

    def body(*state):
        step, y, z, y_moments, z_moments, best = state
        with tf.GradientTape() as tape:
            tape.watch([y, z])
            loss = relaxed_objective(y, z, step)
        y_gradient, z_gradient = tape.gradient(loss, [y, z])
        y, y_moments = adam_step(y, y_gradient, y_moments, step)
        z, z_moments = adam_step(z, z_gradient, z_moments, step)
        check = tf.logical_or((step + 1) % check_every == 0, step + 1 == steps)
        best = tf.cond(check, lambda: keep_better(y, z, best), lambda: best)
        updated = (step + 1, y, z, y_moments, z_moments, best)
        # Some ops lose the static batch size; the loop needs every shape kept.
        return tf.nest.map_structure(
            lambda new, old: tf.ensure_shape(new, old.shape), updated, state
        )

    zeros = (tf.zeros_like(y), tf.zeros_like(y)), (tf.zeros_like(z), tf.zeros_like(z))
    best = (y, z, coded_objective(y, z))
    *_, best = tf.while_loop(
        lambda step, *_: step < steps,
        body,
        (tf.constant(0), y, z, *zeros, best),
    )
    return best[0], best[1]
