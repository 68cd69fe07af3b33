"""Whether a loss weight lies in the range a model was trained on.

One test for every place that refuses a weight outside the trained range: yoto-evaluate's
grid, the codec's lambda, and the servables' graph-side input checks.
"""

from __future__ import annotations

# Float32 cannot hold every decimal bound exactly (a bound read back from a SavedModel's
# metadata or a `.yoto` header is a few ulps off); allow this relative slack at the edges.
RANGE_TOLERANCE = 1e-6


def in_trained_range(weight, low, high):
    """Whether `weight` lies in `[low, high]`, give or take float32 rounding at the edges.

    Works elementwise on numbers, NumPy arrays and TensorFlow tensors alike (`low` and
    `high` may be arrays or tensors too), so graph-side checks and Python checks agree.
    """
    return (weight >= low * (1 - RANGE_TOLERANCE)) & (weight <= high * (1 + RANGE_TOLERANCE))
