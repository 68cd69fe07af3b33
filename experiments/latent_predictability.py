"""How much a trained scale-hyperprior codec's latents leave for means and context (issue 36).

    python experiments/latent_predictability.py --model=releases/work/compression \
        [--max_side=512] [--lambdas=0.0018,0.018,0.18]

Fine-tuning means and a channel context onto a trained scale codec gained nothing measurable
(experiments/README.md). Whether that is training too short or latents with nothing to
predict, this measures directly on the frozen transforms: for each lambda it fits linear
predictors of the latents `y` (ridge least squares, two-fold over the validation split's
photographs: fitted on one half, measured on the other) from what a decoder would have:

- `channel`: each of 4 channel slices from the rounded latents of the slices before it, in
  a 3x3 neighbourhood (the channel-wise context of Minnen & Singh 2020, linearly);
- `checkerboard`: the latents at the odd positions of a checkerboard from the rounded
  latents of all channels at their four even neighbours (He et al. 2021's second pass);
- `hyper`: every latent from the side symbols in a 3x3 neighbourhood of its hyper-latent
  position (predicted means from the hyper-latents, which cost no extra bits here since
  the side symbols are already coded; a linear head cannot use the latent's place in its
  4x4 block, so this is a lower bound on what a mean head could do).

It prints the fraction of the latents' variance each predictor explains, and the bits
under the codec's own entropy model (tfc's location-scale model with the codec's scale
table) with the predictions as means, and with each channel's scales also shrunk by its
residual's share of the variance (moved along the scale table), against the bits with
zero means: a linear estimate of what each kind of context could save on these latents.
Side bits are left out (the same in every row). Results: experiments/README.md.
"""

from __future__ import annotations

import math

import numpy as np
from absl import app, flags

_FLAGS = flags.FLAGS
flags.DEFINE_string("model", "releases/work/compression", "A scale-hyperprior codec.")
flags.DEFINE_integer("max_side", 512, "Photographs are centre-cropped to at most this side.")
flags.DEFINE_list("lambdas", ["0.0018", "0.018", "0.18"], "The lambdas to measure at.")
flags.DEFINE_float("ridge", 10.0, "Ridge penalty of the least-squares fits.")

SLICES = 4


def neighbourhood(values, size: int = 3):
    """`[H, W, C]` -> `[H, W, size * size * C]`: each position's zero-padded neighbours."""
    pad = size // 2
    padded = np.pad(values, [(pad, pad), (pad, pad), (0, 0)])
    height, width = values.shape[:2]
    shifted = [
        padded[row : row + height, col : col + width] for row in range(size) for col in range(size)
    ]
    return np.concatenate(shifted, axis=-1)


def checkerboard_features(symbols):
    """`[H, W, C]` rounded latents -> each position's four edge neighbours' values, `[H, W, 4C]`."""
    padded = np.pad(symbols, [(1, 1), (1, 1), (0, 0)])
    height, width = symbols.shape[:2]
    return np.concatenate(
        [
            padded[:-2, 1:-1],
            padded[2:, 1:-1],
            padded[1:-1, :-2],
            padded[1:-1, 2:],
        ],
        axis=-1,
    )[:height, :width]


def ridge_fit(features, targets, penalty: float):
    """Least-squares weights (with a bias) of `targets [N, K]` on `features [N, F]`."""
    design = np.concatenate([features, np.ones((len(features), 1))], axis=1)
    gram = design.T @ design + penalty * np.eye(design.shape[1])
    gram[-1, -1] -= penalty  # The bias is not penalised.
    return np.linalg.solve(gram, design.T @ targets)


def ridge_predict(weights, features):
    """Predictions of `ridge_fit`'s weights for `features [N, F]`."""
    return features @ weights[:-1] + weights[-1]


def latent_data(model, images, lmbda: float) -> list[dict]:
    """Per image: latents `y [H, W, C]`, scale indexes, and the side symbols `[h, w, c]`."""
    import tensorflow as tf

    data = []
    for image in images:
        batch = tf.constant(image[None])
        lmbdas = tf.constant([lmbda], tf.float32)
        symbols = model.coding_symbols(batch, lmbdas)
        y, _ = model.latents(batch, lmbdas)
        data.append(
            {
                "y": y[0].numpy().astype(np.float64),
                "indexes": symbols["scale_indexes"][0].numpy(),
                "side": symbols["side_symbols"][0].numpy().astype(np.float64),
            }
        )
    return data


def predictor_inputs(kind: str, item: dict):
    """`(features [N, F], targets [N, K], where)` of one image for one predictor.

    `where` says which latents are predicted: "all", "odd" (the checkerboard's odd
    positions, every channel) or a channel slice of `y`.
    """
    y = item["y"]
    symbols = np.round(y)
    height, width, channels = y.shape
    if kind == "hyper":
        side = neighbourhood(item["side"])
        scale = height // side.shape[0]
        features = np.repeat(np.repeat(side, scale, axis=0), scale, axis=1)
        return [(features.reshape(height * width, -1), y.reshape(height * width, -1), "all")]
    if kind == "checkerboard":
        rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
        odd = ((rows + cols) % 2 == 1).reshape(-1)
        features = checkerboard_features(symbols).reshape(height * width, -1)[odd]
        return [(features, y.reshape(height * width, -1)[odd], "odd")]
    width_per_slice = channels // SLICES
    parts = []
    for index in range(1, SLICES):
        before = neighbourhood(symbols[..., : index * width_per_slice])
        target = slice(index * width_per_slice, (index + 1) * width_per_slice)
        parts.append(
            (before.reshape(height * width, -1), y[..., target].reshape(height * width, -1), target)
        )
    return parts


def coded_bits(latent_model, y, indexes, means=None) -> float:
    """Bits of `y` rounded around `means` under the codec's location-scale entropy model."""
    import tensorflow as tf

    loc = None if means is None else tf.constant(means[None], tf.float32)
    _, bits = latent_model(
        tf.constant(y[None], tf.float32),
        tf.constant(indexes[None], tf.float32),
        loc=loc,
        training=False,
    )
    return float(tf.reduce_sum(bits))


def measure(model, latent_model, data, kind: str, penalty: float) -> dict:
    """Two-fold explained variance and bits (zero means, predicted means, predicted means
    with shrunk scales) of one predictor over `data`."""
    halves = (data[0::2], data[1::2])
    step = (math.log(model.scale_max) - math.log(model.scale_min)) / (model.num_scales - 1)
    totals = {"variance": 0.0, "residual": 0.0, "zero": 0.0, "means": 0.0, "shrunk": 0.0}
    for fit, held_out in (halves, halves[::-1]):
        inputs = [predictor_inputs(kind, item) for item in fit]
        fitted = []
        for part in range(len(inputs[0])):
            features = np.concatenate([parts[part][0] for parts in inputs])
            targets = np.concatenate([parts[part][1] for parts in inputs])
            weights = ridge_fit(features, targets, penalty)
            residual = targets - ridge_predict(weights, features)
            # Each channel's residual variance over its variance, on the fitting half.
            shrink = residual.var(axis=0) / np.maximum(targets.var(axis=0), 1e-12)
            fitted.append((weights, shrink))
        for item in held_out:
            y = item["y"]
            means = np.zeros_like(y)
            index_shift = np.zeros(y.shape[-1])
            for (features, targets, where), (weights, shrink) in zip(
                predictor_inputs(kind, item), fitted, strict=True
            ):
                prediction = ridge_predict(weights, features)
                totals["variance"] += float(((targets - targets.mean(axis=0)) ** 2).sum())
                totals["residual"] += float(((targets - prediction) ** 2).sum())
                shift = np.round(0.5 * np.log(np.maximum(shrink, 1e-6)) / step)
                if where == "all":
                    means = prediction.reshape(y.shape)
                    index_shift[:] = shift
                elif where == "odd":
                    height, width = y.shape[:2]
                    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
                    odd = (rows + cols) % 2 == 1
                    means[odd] = prediction
                    index_shift[:] = shift
                else:
                    means[..., where] = prediction.reshape(y.shape[:2] + (-1,))
                    index_shift[where] = shift
            indexes = item["indexes"].astype(np.float64)
            shrunk = indexes.copy()
            if kind == "checkerboard":
                height, width = y.shape[:2]
                rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
                shrunk[(rows + cols) % 2 == 1] += index_shift
            else:
                shrunk += index_shift
            shrunk = np.clip(shrunk, 0, model.num_scales - 1)
            totals["zero"] += coded_bits(latent_model, y, indexes)
            totals["means"] += coded_bits(latent_model, y, indexes, means)
            totals["shrunk"] += coded_bits(latent_model, y, shrunk, means)
    return totals


def main(argv) -> int:
    """Prints, per lambda and predictor, the variance explained and the bits saved."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from zoo import loading
    from zoo.compression.codec_eval_lib import centre_crop
    from zoo.data import photo_sets

    model, config, _ = loading.restore_snapshot(_FLAGS.model)
    if config.entropy_model != "scale":
        raise app.UsageError(f"{_FLAGS.model} is not a scale-hyperprior codec.")
    model.prepare_for_coding()
    latent_model, _ = model._entropy_models(compression=False)  # noqa: SLF001
    images = [centre_crop(image, _FLAGS.max_side) for _, image in photo_sets.validation_photos()]
    print(
        f"# {_FLAGS.model}: {len(images)} validation photographs, centre crops <= {_FLAGS.max_side}"
    )
    print(
        "lambda predictor | variance explained | bits with means, with shrunk scales "
        "(against zero means)"
    )
    for lmbda in (float(value) for value in _FLAGS.lambdas):
        data = latent_data(model, images, lmbda)
        for kind in ("channel", "checkerboard", "hyper"):
            totals = measure(model, latent_model, data, kind, _FLAGS.ridge)
            explained = 1 - totals["residual"] / totals["variance"]
            means = totals["means"] / totals["zero"] - 1
            shrunk = totals["shrunk"] / totals["zero"] - 1
            print(
                f"{lmbda:g} {kind} | {explained:.3f} | {means:+.2%}, {shrunk:+.2%} "
                f"(latent bits {totals['zero']:.0f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()
    app.run(main)
