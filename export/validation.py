"""Graph-side checks for serving inputs: every bad request fails with a message naming the input.

They are plain TensorFlow ops (Assert), so exported SavedModels stay loadable by
a stock TF Serving ModelServer, which answers a failed check with INVALID_ARGUMENT.
"""

from __future__ import annotations

import tensorflow as tf

# Float32 cannot hold every decimal bound exactly; allow this relative slack at the edges.
_RANGE_TOLERANCE = 1e-6


def check_weight(name: str, weight: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """Asserts that a per-example weight `[N]` is finite and inside `[low, high]`."""
    weight = tf.convert_to_tensor(weight, tf.float32)
    checks = [
        tf.debugging.assert_rank(weight, 1, message=f"{name} must be a vector, one per example"),
        tf.debugging.assert_greater(
            tf.size(weight), 0, message=f"{name} is empty: send at least one example"
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(weight)),
            [f"{name} must be finite (no NaN or Inf); got", weight],
        ),
        tf.debugging.Assert(
            tf.reduce_all(weight > 0.0) if low > 0 else tf.reduce_all(weight >= 0.0),
            [f"{name} must be {'> 0' if low > 0 else '>= 0'}; got", weight],
        ),
        tf.debugging.Assert(
            tf.reduce_all(
                (weight >= low * (1 - _RANGE_TOLERANCE)) & (weight <= high * (1 + _RANGE_TOLERANCE))
            ),
            [f"{name} must lie in the trained range [{low:g}, {high:g}]; got", weight],
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(weight)


def check_images(
    name: str,
    images: tf.Tensor,
    image_shape: tuple[int, ...],
    batch_size: tf.Tensor | None = None,
) -> tf.Tensor:
    """Asserts float images `[N, *image_shape]`: finite, in [0, 1], non-empty, N = `batch_size`.

    The shape is checked in the graph because a SavedModel signature called
    through TF Serving (or a reloaded concrete function) does not enforce it.
    """
    expected = "[N, " + ", ".join(str(d) for d in image_shape) + "]"
    checks = [
        tf.debugging.assert_rank(
            images, len(image_shape) + 1, message=f"{name} must be {expected}"
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.equal(tf.shape(images)[1:], image_shape)),
            [f"{name} must have shape {expected}; got", tf.shape(images)],
        ),
        tf.debugging.assert_greater(
            tf.shape(images)[0], 0, message=f"{name} is empty: send at least one image"
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(images)),
            [f"{name} must be finite (no NaN or Inf)"],
        ),
        tf.debugging.Assert(
            tf.reduce_all((images >= 0.0) & (images <= 1.0)),
            [f"{name} values must lie in [0, 1]; scale 8-bit pixels by 1/255"],
        ),
    ]
    if batch_size is not None:
        checks.append(
            tf.debugging.assert_equal(
                tf.shape(images)[0],
                batch_size,
                message=f"{name} and the loss weight need the same batch size (one per image)",
            )
        )
    with tf.control_dependencies(checks):
        return tf.identity(images)


def check_symbols(
    name: str, symbols: tf.Tensor, batch_size: tf.Tensor, max_positions: int
) -> tf.Tensor:
    """Asserts int32 symbols `[N, h, w, C]`: non-empty, one per lmbda, at most `max_positions`."""
    shape = tf.shape(symbols)
    checks = [
        tf.debugging.assert_rank(symbols, 4, message=f"{name} must be [N, height, width, C]"),
        tf.debugging.assert_equal(
            shape[0], batch_size, message=f"{name} and lmbda need one lmbda per image"
        ),
        tf.debugging.Assert(
            tf.reduce_all(shape[1:3] > 0) & (shape[1] * shape[2] <= max_positions),
            [f"{name} must be non-empty and at most {max_positions} positions; got", shape],
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(symbols)


def check_weight_matrix(
    name: str,
    weights: tf.Tensor,
    term_names: tuple[str, ...],
    lows: list[float],
    highs: list[float],
) -> tf.Tensor:
    """Asserts per-example weight vectors `[N, k]`: k columns, finite, each in its range."""
    weights = tf.convert_to_tensor(weights, tf.float32)
    k = len(term_names)
    order = ", ".join(term_names)
    in_range = (weights >= tf.constant(lows) * (1 - _RANGE_TOLERANCE)) & (
        weights <= tf.constant(highs) * (1 + _RANGE_TOLERANCE)
    )
    ranges = ", ".join(
        f"{n} [{lo:g}, {hi:g}]" for n, lo, hi in zip(term_names, lows, highs, strict=True)
    )
    checks = [
        tf.debugging.assert_rank(weights, 2, message=f"{name} must be [N, {k}] ({order})"),
        tf.debugging.Assert(
            tf.shape(weights)[1] == k,
            [f"{name} must have {k} columns ({order}); got shape", tf.shape(weights)],
        ),
        tf.debugging.assert_greater(
            tf.shape(weights)[0], 0, message=f"{name} is empty: send at least one example"
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(weights)),
            [f"{name} must be finite (no NaN or Inf); got", weights],
        ),
        tf.debugging.Assert(tf.reduce_all(weights >= 0.0), [f"{name} must be >= 0; got", weights]),
        tf.debugging.Assert(
            tf.reduce_all(in_range),
            [f"{name} must lie in the trained ranges {ranges}; got", weights],
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(weights)
