"""Graph-side checks for serving inputs: every bad request fails with a message naming the input.

They are plain TensorFlow ops (Assert), so exported SavedModels stay loadable by
a stock TF Serving ModelServer, which answers a failed check with INVALID_ARGUMENT.
"""

from __future__ import annotations

import tensorflow as tf

# Float32 cannot hold every decimal bound exactly; allow this relative slack at the edges.
_RANGE_TOLERANCE = 1e-6


def _in_order(value: tf.Tensor, checks) -> tf.Tensor:
    """Applies `checks` (functions of the value returning an assert op) one after another.

    Independent asserts run in any order, so a bad input that fails two of them
    (NaN fails "finite" and "in range") would get either message; in order, the
    first failing check of the list always names the problem.
    """
    for make_check in checks:
        with tf.control_dependencies([make_check(value)]):
            value = tf.identity(value)
    return value


def check_weight(name: str, weight: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """Asserts that a per-example weight `[N]` is finite and inside `[low, high]`."""
    weight = tf.convert_to_tensor(weight, tf.float32)
    return _in_order(
        weight,
        [
            lambda w: tf.debugging.assert_rank(
                w, 1, message=f"{name} must be a vector, one per example"
            ),
            lambda w: tf.debugging.assert_greater(
                tf.size(w), 0, message=f"{name} is empty: send at least one example"
            ),
            lambda w: tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(w)),
                [f"{name} must be finite (no NaN or Inf); got", w],
            ),
            lambda w: tf.debugging.Assert(
                tf.reduce_all(w > 0.0) if low > 0 else tf.reduce_all(w >= 0.0),
                [f"{name} must be {'> 0' if low > 0 else '>= 0'}; got", w],
            ),
            lambda w: tf.debugging.Assert(
                tf.reduce_all(
                    (w >= low * (1 - _RANGE_TOLERANCE)) & (w <= high * (1 + _RANGE_TOLERANCE))
                ),
                [f"{name} must lie in the trained range [{low:g}, {high:g}]; got", w],
            ),
        ],
    )


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
        lambda x: tf.debugging.assert_rank(
            x, len(image_shape) + 1, message=f"{name} must be {expected}"
        ),
        lambda x: tf.debugging.Assert(
            tf.reduce_all(tf.equal(tf.shape(x)[1:], image_shape)),
            [f"{name} must have shape {expected}; got", tf.shape(x)],
        ),
        lambda x: tf.debugging.assert_greater(
            tf.shape(x)[0], 0, message=f"{name} is empty: send at least one image"
        ),
        lambda x: tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(x)), [f"{name} must be finite (no NaN or Inf)"]
        ),
        lambda x: tf.debugging.Assert(
            tf.reduce_all((x >= 0.0) & (x <= 1.0)),
            [f"{name} values must lie in [0, 1]; scale 8-bit pixels by 1/255"],
        ),
    ]
    if batch_size is not None:
        checks.append(
            lambda x: tf.debugging.assert_equal(
                tf.shape(x)[0],
                batch_size,
                message=f"{name} and the loss weight need the same batch size (one per image)",
            )
        )
    return _in_order(images, checks)


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
    """Asserts per-example weight vectors `[N, k]`: k columns, finite, each in its range.

    The shape is checked first: the value checks only run on a matrix of the right
    width, so a wrong width fails with its own message, not a broadcasting error.
    """
    weights = tf.convert_to_tensor(weights, tf.float32)
    k = len(term_names)
    order = ", ".join(term_names)
    ranges = ", ".join(
        f"{n} [{lo:g}, {hi:g}]" for n, lo, hi in zip(term_names, lows, highs, strict=True)
    )

    def in_range(w):
        low = tf.constant(lows) * (1 - _RANGE_TOLERANCE)
        high = tf.constant(highs) * (1 + _RANGE_TOLERANCE)
        return tf.reduce_all((w >= low) & (w <= high))

    return _in_order(
        weights,
        [
            lambda w: tf.debugging.assert_rank(w, 2, message=f"{name} must be [N, {k}] ({order})"),
            lambda w: tf.debugging.Assert(
                tf.shape(w)[1] == k,
                [f"{name} must have {k} columns ({order}); got shape", tf.shape(w)],
            ),
            lambda w: tf.debugging.assert_greater(
                tf.shape(w)[0], 0, message=f"{name} is empty: send at least one example"
            ),
            lambda w: tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(w)),
                [f"{name} must be finite (no NaN or Inf); got", w],
            ),
            lambda w: tf.debugging.Assert(
                tf.reduce_all(w >= 0.0), [f"{name} must be >= 0; got", w]
            ),
            lambda w: tf.debugging.Assert(
                in_range(w), [f"{name} must lie in the trained ranges {ranges}; got", w]
            ),
        ],
    )
