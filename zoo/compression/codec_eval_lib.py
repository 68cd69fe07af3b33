"""Rate-distortion evaluation of YOTO codecs and Pillow baselines, from real bytes."""

from __future__ import annotations

import io
import sys

import numpy as np

from zoo import figures

JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
WEBP_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


def _mean_row(per_image: list[dict]) -> dict:
    return {key: float(np.mean([row[key] for row in per_image])) for key in per_image[0]}


def _quality(images, decoded_images) -> dict:
    from yoto_tf import metrics

    psnrs = [metrics.psnr(a, b) for a, b in zip(images, decoded_images, strict=True)]
    ssims = [
        metrics.ms_ssim(a, b) if min(a.shape[:2]) >= 161 else float("nan")
        for a, b in zip(images, decoded_images, strict=True)
    ]
    return {"psnr": float(np.mean(psnrs)), "ms_ssim": float(np.mean(ssims))}


def evaluate_codec(codec, images, grid, check_decoding: bool = False) -> list[dict]:
    """Mean actual bpp, estimated bpp, PSNR and MS-SSIM of `codec` at each lambda.

    `check_decoding` adds `decode_error`: the largest difference, in 8-bit levels over
    every image, between a decoded file and the reconstruction the encoder's model
    predicts for it (`Codec.reconstruct`); 0 when the entropy decoding is exact.
    """

    rows = []
    for lmbda in grid:
        per_image, decoded, errors = [], [], []
        for image in images:
            data = codec.encode(image, lmbda)
            decoded.append(codec.decode(data))
            if check_decoding:
                predicted = np.clip(np.round(codec.reconstruct(image, lmbda)), 0, 255)
                errors.append(np.max(np.abs(decoded[-1].astype(np.float64) - predicted)))
            pixels = image.shape[0] * image.shape[1]
            estimated_bits = codec.estimated_bits(image, lmbda)
            per_image.append(
                {
                    "bpp": 8 * len(data) / pixels,
                    "estimated_bpp": (estimated_bits + 8 * codec.header_size) / pixels,
                }
            )
        row = {"lmbda": float(lmbda), **_mean_row(per_image), **_quality(images, decoded)}
        if check_decoding:
            row["decode_error"] = float(max(errors))
        rows.append(row)
    return rows


def rises_with_lambda(rows: list[dict], key: str) -> bool:
    """Whether `key` (e.g. "bpp" or "psnr") strictly increases along rows sorted by lambda."""
    values = [row[key] for row in sorted(rows, key=lambda row: row["lmbda"])]
    return all(later > earlier for earlier, later in zip(values[:-1], values[1:], strict=True))


def evaluate_fixed_codecs(codecs, images) -> list[dict]:
    """One curve from fixed-lambda codecs: each evaluated at its own lambda, sorted by it.

    A fixed-lambda model refuses any other lambda (its trained range is one point), so
    the baseline curve has one point per model, like CompressAI's quality levels.
    """
    rows = []
    for codec in codecs:
        low, high = codec.lmbda_range
        if low != high:
            raise ValueError(
                f"A fixed-lambda baseline must be trained at one lambda; this one covers "
                f"[{low:g}, {high:g}]. Pass YOTO models with --models instead."
            )
        rows.extend(evaluate_codec(codec, images, [low]))
    return sorted(rows, key=lambda row: row["lmbda"])


def evaluate_pillow(images, image_format: str, qualities) -> list[dict]:
    """Mean bpp, PSNR and MS-SSIM of Pillow's `image_format` ("JPEG" or "WEBP") per quality."""
    from PIL import Image

    rows = []
    for quality in qualities:
        bpps, decoded = [], []
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format=image_format, quality=quality)
            bpps.append(8 * buffer.tell() / (image.shape[0] * image.shape[1]))
            decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
        rows.append({"quality": quality, "bpp": float(np.mean(bpps)), **_quality(images, decoded)})
    return rows


def ms_ssim_db(ms_ssim: float) -> float:
    """MS-SSIM on a decibel scale, -10 log10(1 - MS-SSIM), where BD-rate averages evenly."""
    return float(-10 * np.log10(max(1.0 - ms_ssim, 1e-12)))


def bd_rates(
    curves: dict[str, list[dict]],
    test: str,
    method: str = "pchip",
    quality: str = "psnr",
    reasons: dict[str, str] | None = None,
) -> dict[str, float]:
    """BD-rate of curve `test` against every other curve it overlaps, in percent.

    `quality`: "psnr", or "ms_ssim" (compared in decibels, `ms_ssim_db`, as
    tensorflow-compression's and CompressAI's papers plot it).
    An anchor whose PSNR range does not overlap the test curve's has no BD-rate: it is
    left out of the result and the reason is printed to stderr (a NaN would read as a
    number in the report). `method`: `yoto_tf.metrics.bd_rate`'s interpolation ("pchip"
    or VCEG-M33's "cubic"). `reasons`, if given, gets each left-out anchor's reason.
    """
    from yoto_tf import metrics

    if quality not in ("psnr", "ms_ssim"):
        raise ValueError(f"quality must be 'psnr' or 'ms_ssim', got {quality!r}.")

    def qualities(rows):
        if quality == "psnr":
            return [r["psnr"] for r in rows]
        return [ms_ssim_db(r["ms_ssim"]) for r in rows]

    results = {}
    for anchor, rows in curves.items():
        if anchor == test:
            continue
        try:
            results[anchor] = metrics.bd_rate(
                [r["bpp"] for r in rows],
                qualities(rows),
                [r["bpp"] for r in curves[test]],
                qualities(curves[test]),
                method=method,
            )
        except ValueError as error:
            print(f"BD-rate ({quality}) {test} vs {anchor}: {error}", file=sys.stderr)
            if reasons is not None:
                reasons[anchor] = str(error)
    return results


def plot(curves: dict[str, list[dict]], path) -> None:
    """Writes a PSNR-against-bpp plot of every curve."""
    plt = figures.pyplot()

    figure, axis = plt.subplots(figsize=(6, 4.2))
    for label, rows in curves.items():
        axis.plot([r["bpp"] for r in rows], [r["psnr"] for r in rows], "o-", ms=3, label=label)
    axis.set_xlabel("bits per pixel (from file sizes)")
    axis.set_ylabel("RGB PSNR (dB)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figures.write_png(path, figure, dpi=110)
