"""What each kind of model output promises on another machine, as one set of assertions.

A recorded output or one computed in another process may come from another CPU
(instruction set, oneDNN on or off, thread count, XLA). What must agree depends on how
the output is computed:

- **Exact**: integers, strings and coding tables (scale indexes, symbols, range-coded
  bytes, fingerprints, CDFs). The `.yoto` format promises them: a decoder elsewhere must
  reproduce them bit for bit, so the integer entropy-model path is integer arithmetic.
- **Pixels from float arithmetic** (codec reconstructions from the float synthesis,
  stylized images): float32 math whose last bit depends on the kernels chosen; rounding
  to uint8 turns that into one level for a value that sat near a half. At most
  `MAX_PIXEL_LEVELS` apart, and at most `MAX_PIXEL_FRACTION` of the values differing: a
  wrong weight or formula moves most pixels by many levels.
- **Float outputs** (bits, VAE images and loss terms): within `FLOAT_RTOL`/`FLOAT_ATOL`.
  Kernel choices move float32 results by a few ulps per op. Measured on the golden
  exports with oneDNN on, and off with one thread: at most 3e-7 relative, 5e-6 on a KL
  term near 3e-8 (within the absolute tolerance), about 300 times below the tolerance
  and many orders below what a wrong weight or formula moves.
"""

from __future__ import annotations

import numpy as np

MAX_PIXEL_LEVELS = 1
MAX_PIXEL_FRACTION = 0.01
FLOAT_RTOL, FLOAT_ATOL = 1e-4, 1e-6

# Outputs (last name of a "signature/output" key) that are uint8 pixels of float math.
FLOAT_PIXEL_OUTPUTS = frozenset({"reconstructions", "stylized", "images"})


def pixel_difference(got, expected) -> tuple[int, float]:
    """The largest difference in levels and the fraction of values that differ."""
    difference = np.abs(np.asarray(got, np.int64) - np.asarray(expected, np.int64))
    return int(difference.max(initial=0)), float(
        np.mean(difference != 0)
    ) if difference.size else 0.0


def assert_pixels_agree(test, got, expected, name: str) -> None:
    """Float-path pixels: same shape and dtype, at most one level, few values differing."""
    got, expected = np.asarray(got), np.asarray(expected)
    test.assertEqual(got.dtype, expected.dtype, f"{name}: dtype")
    test.assertEqual(got.shape, expected.shape, f"{name}: shape")
    largest, fraction = pixel_difference(got, expected)
    test.assertTrue(
        largest <= MAX_PIXEL_LEVELS and fraction <= MAX_PIXEL_FRACTION,
        f"{name}: largest difference {largest} levels (at most {MAX_PIXEL_LEVELS}), "
        f"{fraction:.4%} of values differ (at most {MAX_PIXEL_FRACTION:.0%})",
    )


def assert_floats_agree(test, got, expected, name: str) -> None:
    """Float outputs: within FLOAT_RTOL / FLOAT_ATOL, naming the largest difference."""
    got, expected = np.asarray(got), np.asarray(expected)
    test.assertEqual(got.dtype, expected.dtype, f"{name}: dtype")
    test.assertEqual(got.shape, expected.shape, f"{name}: shape")
    difference = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    allowed = FLOAT_ATOL + FLOAT_RTOL * np.abs(expected.astype(np.float64))
    worst = int(np.argmax(difference - allowed)) if difference.size else 0
    test.assertTrue(
        bool(np.all(difference <= allowed)),
        f"{name}: largest difference {difference.max(initial=0):.3g} "
        f"(at flat index {worst}: {got.ravel()[worst]!r} vs {expected.ravel()[worst]!r}; "
        f"allowed {FLOAT_ATOL:g} + {FLOAT_RTOL:g} * |expected|)",
    )


def assert_exact(test, got, expected, name: str) -> None:
    """Integers, strings, coding tables: bit for bit, naming the first difference."""
    got, expected = np.asarray(got), np.asarray(expected)
    test.assertEqual(got.dtype, expected.dtype, f"{name}: dtype")
    test.assertEqual(got.shape, expected.shape, f"{name}: shape")
    if expected.dtype == object:
        test.assertEqual(got.tolist(), expected.tolist(), f"{name}: values")
        return
    differing = np.flatnonzero(got.ravel() != expected.ravel())
    test.assertEqual(
        differing.size,
        0,
        f"{name}: {differing.size} of {expected.size} values differ, first at flat index "
        f"{differing[0] if differing.size else None} (must be exact)",
    )


def is_float_pixel_output(key: str) -> bool:
    """Whether "signature/output" names uint8 pixels made by float math (not an input)."""
    parts = key.split("/")
    return parts[1] != "inputs" and parts[-1] in FLOAT_PIXEL_OUTPUTS


def assert_output_agrees(test, key: str, got, expected) -> None:
    """One recorded "signature/output" value against today's, by what its kind promises."""
    expected = np.asarray(expected)
    if expected.dtype.kind == "f":
        assert_floats_agree(test, got, expected, key)
    elif expected.dtype == np.uint8 and is_float_pixel_output(key):
        assert_pixels_agree(test, got, expected, key)
    else:
        assert_exact(test, got, expected, key)
