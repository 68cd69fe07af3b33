"""Rate-distortion helpers: PSNR, MS-SSIM, and the Bjontegaard delta rate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def psnr(original, reconstruction, max_value: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels (RGB PSNR)."""
    original = np.asarray(original, np.float64)
    reconstruction = np.asarray(reconstruction, np.float64)
    if original.shape != reconstruction.shape:
        raise ValueError(f"Shapes differ: {original.shape} and {reconstruction.shape}.")
    mse = np.mean(np.square(original - reconstruction))
    return float("inf") if mse == 0 else float(10 * np.log10(max_value**2 / mse))


def ms_ssim(original, reconstruction, max_value: float = 255.0) -> float:
    """Multi-scale SSIM (Wang et al. 2003) of two uint8 RGB images `[H, W, 3]`.

    Uses TensorFlow's five-scale implementation; images need at least 161 pixels
    per side for all five scales with the 11x11 window, and smaller ones raise.
    """
    original = np.asarray(original)
    if min(original.shape[:2]) < 161:
        raise ValueError(f"MS-SSIM needs images of at least 161x161, got {original.shape[:2]}.")
    value = tf.image.ssim_multiscale(
        tf.constant(original[None], tf.float32),
        tf.constant(np.asarray(reconstruction)[None], tf.float32),
        max_val=max_value,
    )
    return float(value[0])


BD_RATE_METHODS = ("pchip", "cubic")


def rate_distortion_front(rates, qualities) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point beats: rising rate, strictly rising quality.

    A point that costs at least as many bits as another for no more quality is an
    operating point nobody would pick; dropping it makes the curve a function of
    quality, which the piecewise interpolation needs.
    """
    order = np.lexsort((-np.asarray(qualities), np.asarray(rates)))
    front_rates, front_qualities = [], []
    for rate, quality in zip(np.asarray(rates)[order], np.asarray(qualities)[order], strict=True):
        if not front_qualities or quality > front_qualities[-1]:
            front_rates.append(rate)
            front_qualities.append(quality)
    return np.array(front_rates), np.array(front_qualities)


def bd_rate(
    rate_anchor: Sequence[float],
    psnr_anchor: Sequence[float],
    rate_test: Sequence[float],
    psnr_test: Sequence[float],
    method: str = "pchip",
) -> float:
    """Bjontegaard delta rate (percent) of `test` against `anchor`.

    Averages the difference of log(rate) as a function of PSNR over the PSNR range
    both curves cover. Negative means the test codec needs fewer bits for the same
    quality. Needs four points per curve.

    `method="pchip"` (the default) interpolates each curve piecewise with monotone
    cubic Hermite splines through its undominated points (`rate_distortion_front`),
    as VCEG-AL22 and the JVET common test conditions do. `"cubic"` is the original
    VCEG-M33 fit of one cubic polynomial per curve: on a curve that flattens (many
    bits for little PSNR) that polynomial swings far outside the points, so it can
    report, say, -99% for a codec that is worse at every rate.
    """
    if method not in BD_RATE_METHODS:
        raise ValueError(f"BD-rate method must be one of {BD_RATE_METHODS}, got {method!r}.")
    arrays = [np.asarray(a, np.float64) for a in (rate_anchor, psnr_anchor, rate_test, psnr_test)]
    rate_anchor, psnr_anchor, rate_test, psnr_test = arrays
    for name, rates, qualities in (
        ("anchor", rate_anchor, psnr_anchor),
        ("test", rate_test, psnr_test),
    ):
        if len(rates) != len(qualities) or len(rates) < 4:
            raise ValueError(f"BD-rate needs at least 4 (rate, PSNR) points for the {name}.")
        if np.any(rates <= 0) or not np.all(np.isfinite(qualities)):
            raise ValueError(f"BD-rate needs positive rates and finite PSNRs for the {name}.")
    if method == "pchip":
        rate_anchor, psnr_anchor = rate_distortion_front(rate_anchor, psnr_anchor)
        rate_test, psnr_test = rate_distortion_front(rate_test, psnr_test)
        for name, qualities in (("anchor", psnr_anchor), ("test", psnr_test)):
            if len(qualities) < 2:
                raise ValueError(
                    f"The {name} curve has no two points where more bits buy more PSNR."
                )
    low = max(psnr_anchor.min(), psnr_test.min())
    high = min(psnr_anchor.max(), psnr_test.max())
    if low >= high:
        raise ValueError(
            f"The quality (PSNR) ranges do not overlap (anchor {psnr_anchor.min():.2f}-"
            f"{psnr_anchor.max():.2f} dB, test {psnr_test.min():.2f}-{psnr_test.max():.2f} dB)."
        )
    if method == "pchip":
        from scipy.interpolate import PchipInterpolator

        area_anchor = PchipInterpolator(psnr_anchor, np.log(rate_anchor)).integrate(low, high)
        area_test = PchipInterpolator(psnr_test, np.log(rate_test)).integrate(low, high)
    else:
        fit_anchor = np.polyint(np.polyfit(psnr_anchor, np.log(rate_anchor), 3))
        fit_test = np.polyint(np.polyfit(psnr_test, np.log(rate_test), 3))
        area_anchor = np.polyval(fit_anchor, high) - np.polyval(fit_anchor, low)
        area_test = np.polyval(fit_test, high) - np.polyval(fit_test, low)
    mean_log_difference = (area_test - area_anchor) / (high - low)
    return float((np.exp(mean_log_difference) - 1) * 100)
