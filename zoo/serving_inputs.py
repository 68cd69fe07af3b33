"""Graph-side checks for serving inputs: every bad request fails with a message naming the input.

They are plain TensorFlow ops (Assert), so exported SavedModels stay loadable by
a stock TF Serving ModelServer, which answers a failed check with INVALID_ARGUMENT.

A ModelServer feeds a request's tensors to the signature without comparing their
shapes with it, so the signatures take every input with an unknown rank and
`check_shape` checks rank and fixed sizes here, at run time, before anything
else touches the input; it then gives the input the static shape the model code
needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tensorflow as tf

from zoo.weight_ranges import in_trained_range


def in_order(value: tf.Tensor, checks) -> tf.Tensor:
    """Applies `checks` (functions of the value returning an assert op) one after another.

    Independent asserts run in any order, so a bad input that fails two of them
    (NaN fails "finite" and "in range") would get either message; in order, the
    first failing check of the list always names the problem. Each check reads
    the value only after the previous one passed, so a check that slices the
    shape never runs on a tensor of the wrong rank.
    """
    for make_check in checks:
        with tf.control_dependencies([make_check(value)]):
            value = tf.identity(value)
    return value


def shape_text(dims: Sequence[int | str]) -> str:
    """`["N", "height", 3]` -> `"[N, height, 3]"`: how messages write an expected shape."""
    return "[" + ", ".join(str(d) for d in dims) + "]"


def check_shape(
    name: str,
    value: tf.Tensor,
    dims: Sequence[int | str],
    sizes: Mapping[int, str] | None = None,
) -> tf.Tensor:
    """Asserts the rank, then each fixed size, of input `name`; returns it with that static shape.

    `dims` has one entry per axis: an int is a size the input must have, a string
    names an axis of any size (`["N", "height", "width", 3]`). `sizes` says in
    words what a fixed size is, by axis (`{3: "3 channels (RGB)"}`), for the message.
    """
    expected = shape_text(dims)
    rank = len(dims)

    def fixed_size(axis, size):
        meaning = (sizes or {}).get(axis, f"size {size} on axis {axis}")
        return lambda x: tf.debugging.Assert(
            tf.shape(x)[axis] == size,
            [f"{name} must be {expected}, with {meaning}; got shape", tf.shape(x)],
        )

    checks = [
        lambda x: tf.debugging.Assert(
            tf.equal(tf.rank(x), rank), [f"{name} must be {expected}; got shape", tf.shape(x)]
        )
    ]
    checks += [fixed_size(axis, d) for axis, d in enumerate(dims) if isinstance(d, int)]
    value = in_order(value, checks)
    # A Reshape to the shape just checked gives the model code its static shape. Not an
    # Identity or EnsureShape: Grappler infers shapes backwards through those, from the
    # model's ops to the raw input (a conv "must" get rank 4), folds the checks above into
    # constants that always pass, and the bad input then fails deep in the model.
    shape = tf.shape(value)
    target = [d if isinstance(d, int) else shape[axis] for axis, d in enumerate(dims)]
    return tf.reshape(value, tf.stack(target))


def check_batch_size(name: str, value: tf.Tensor, other: tf.Tensor, message: str) -> tf.Tensor:
    """Asserts that `value` (input `name`) and `other` have the same size on axis 0.

    Both must have passed `check_shape`, so that neither is a scalar; `message`
    names the two inputs, e.g. "images and lmbda need one lmbda per image".
    """
    return in_order(
        value,
        [
            lambda x: tf.debugging.Assert(
                tf.shape(x)[0] == tf.shape(other)[0],
                [f"{message}; got batch sizes", tf.shape(x)[0], tf.shape(other)[0]],
            )
        ],
    )


def check_weight(name: str, weight: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """Asserts that a per-example weight `[N]` is finite and inside `[low, high]`."""
    weight = check_shape(name, tf.convert_to_tensor(weight, tf.float32), ["N"])
    return in_order(
        weight,
        [
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
                tf.reduce_all(in_trained_range(w, low, high)),
                [f"{name} must lie in the trained range [{low:g}, {high:g}]; got", w],
            ),
        ],
    )


def check_images(
    name: str,
    images: tf.Tensor,
    image_shape: tuple[int, ...],
    batch_size_of: tf.Tensor | None = None,
    batch_message: str = "",
) -> tf.Tensor:
    """Asserts float images `[N, *image_shape]`: finite, in [0, 1], non-empty.

    With `batch_size_of` (a checked input), also that N equals its size on axis 0,
    failing with `batch_message`.
    """
    images = check_shape(name, images, ["N", *image_shape])
    checks = [
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
    images = in_order(images, checks)
    if batch_size_of is not None:
        images = check_batch_size(name, images, batch_size_of, batch_message)
    return images


def check_symbols(
    name: str, symbols: tf.Tensor, channels: int, lmbda: tf.Tensor, max_positions: int
) -> tf.Tensor:
    """Asserts int32 symbols `[N, h, w, channels]`: one per lmbda, at most `max_positions`."""
    symbols = check_shape(
        name, symbols, ["N", "height", "width", channels], {3: f"{channels} channels"}
    )
    symbols = check_batch_size(name, symbols, lmbda, f"{name} and lmbda need one lmbda per image")
    return in_order(
        symbols,
        [
            lambda s: tf.debugging.Assert(
                tf.reduce_all(tf.shape(s)[1:3] > 0)
                & (tf.shape(s)[1] * tf.shape(s)[2] <= max_positions),
                [
                    f"{name} must be non-empty and at most {max_positions} positions; got shape",
                    tf.shape(s),
                ],
            )
        ],
    )


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
    k = len(term_names)
    order = ", ".join(term_names)
    ranges = ", ".join(
        f"{n} [{lo:g}, {hi:g}]" for n, lo, hi in zip(term_names, lows, highs, strict=True)
    )
    weights = tf.convert_to_tensor(weights, tf.float32)
    weights = check_shape(name, weights, ["N", k], {1: f"{k} columns ({order})"})

    return in_order(
        weights,
        [
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
                tf.reduce_all(in_trained_range(w, tf.constant(lows), tf.constant(highs))),
                [f"{name} must lie in the trained ranges {ranges}; got", w],
            ),
        ],
    )
