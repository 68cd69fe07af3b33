"""Rate-distortion evaluation of YOTO codecs and Pillow baselines, from real bytes."""

from __future__ import annotations

import functools
import io
import sys

import numpy as np

from zoo import figures
from zoo.compression.codec_format import STRIDE

JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
WEBP_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
# Quality 0 still gives about 29 dB on a 768x512 photo: AVIF needs it to reach the codec's
# lowest rates.
AVIF_QUALITIES = (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
# Each baseline curve by label: Pillow's format name and its quality sweep.
BASELINES = {
    "JPEG": ("JPEG", JPEG_QUALITIES),
    "WebP": ("WEBP", WEBP_QUALITIES),
    "AVIF": ("AVIF", AVIF_QUALITIES),
}
# The key of the whole evaluation set's mean curves beside its subsets'.
ALL = "all"


def centre_crop(image, max_side: int):
    """The centre of `image`, at most `max_side` a side, both sides multiples of 64."""
    height, width = (min(side, max_side) // STRIDE * STRIDE for side in image.shape[:2])
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top : top + height, left : left + width]


def mean_curve(curves: list[list[dict]]) -> list[dict]:
    """Point-by-point mean of several images' curves (same lambdas or qualities, in order).

    `decode_error` takes the largest value instead: one badly decoded file must show.
    """
    if not curves:
        raise ValueError("No curves to average: the image list is empty.")
    rows = []
    for points in zip(*curves, strict=True):
        row = {}
        for key in points[0]:
            values = [point[key] for point in points]
            row[key] = float(max(values) if key == "decode_error" else np.mean(values))
        rows.append(row)
    return rows


# tf.image.ssim_multiscale's weights of its five scales (Wang et al. 2003).
MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_valid(x, kernel):
    """`x` filtered by the separable 2-D `kernel`, where the window fits whole (VALID)."""
    from scipy import ndimage

    half = len(kernel) // 2
    out = ndimage.correlate1d(x, kernel, axis=0, mode="constant")
    out = ndimage.correlate1d(out, kernel, axis=1, mode="constant")
    return out[half:-half, half:-half]


def ms_ssim(image, decoded, max_value: float = 255.0) -> float:
    """MS-SSIM of two `[H, W, 3]` images, as `tf.image.ssim_multiscale` computes it.

    The same 11-tap Gaussian (sigma 1.5), constants, five scales, symmetric padding and
    2x2 averaging, and power factors, in float64 with a separable filter: about ten times
    faster than TensorFlow's on a CPU (which made MS-SSIM the bulk of an evaluation), and
    without float32's cancellation in the variances (the two agree within 1e-4).
    """
    a = np.asarray(image, np.float64)
    b = np.asarray(decoded, np.float64)
    if min(a.shape[:2]) < 161:
        raise ValueError(f"MS-SSIM needs images of at least 161x161, got {a.shape[:2]}.")
    coords = np.arange(11, dtype=np.float64) - 5.0
    kernel = np.exp(-(coords**2) / (2 * 1.5**2))
    kernel /= kernel.sum()
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    factors = []
    for scale in range(len(MS_SSIM_POWER_FACTORS)):
        if scale:
            pads = [(0, a.shape[0] % 2), (0, a.shape[1] % 2), (0, 0)]
            a, b = (np.pad(x, pads, mode="symmetric") for x in (a, b))
            a, b = (
                (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4 for x in (a, b)
            )
        ssims, contrasts = [], []
        for channel in range(a.shape[2]):
            x, y = a[..., channel], b[..., channel]
            mean_x, mean_y = _gaussian_valid(x, kernel), _gaussian_valid(y, kernel)
            num0, den0 = 2 * mean_x * mean_y, mean_x**2 + mean_y**2
            luminance = (num0 + c1) / (den0 + c1)
            num1 = 2 * _gaussian_valid(x * y, kernel)
            den1 = _gaussian_valid(x * x + y * y, kernel)
            contrast = (num1 - num0 + c2) / (den1 - den0 + c2)
            ssims.append(np.mean(luminance * contrast))
            contrasts.append(np.mean(contrast))
        last = scale == len(MS_SSIM_POWER_FACTORS) - 1
        factors.append(np.maximum(ssims if last else contrasts, 0))
    powers = np.array(MS_SSIM_POWER_FACTORS)[:, None]
    return float(np.mean(np.prod(np.stack(factors) ** powers, axis=0)))


def image_quality(image, decoded) -> dict:
    """PSNR and MS-SSIM (NaN below the 161 px MS-SSIM needs) of one decoded image."""
    from yoto_tf import metrics

    ssim = ms_ssim(image, decoded) if min(image.shape[:2]) >= 161 else float("nan")
    return {"psnr": float(metrics.psnr(image, decoded)), "ms_ssim": float(ssim)}


def codec_curve(
    codec, image, grid, check_decoding: bool = False, estimated: bool = True
) -> list[dict]:
    """Actual bpp, estimated bpp, PSNR and MS-SSIM of `codec` on one image at each lambda.

    `estimated=False` leaves out `estimated_bpp`, whose model pass costs about as much
    as encoding and decoding together.

    `check_decoding` adds `decode_error`: the largest difference, in 8-bit levels, between
    the decoded file and the reconstruction the encoder's model predicts for it
    (`Codec.reconstruct`); 0 when the entropy decoding is exact.
    """
    rows = []
    pixels = image.shape[0] * image.shape[1]
    for lmbda in grid:
        data = codec.encode(image, lmbda)
        decoded = codec.decode(data)
        row = {"lmbda": float(lmbda), "bpp": 8 * len(data) / pixels}
        if estimated:
            estimated_bits = codec.estimated_bits(image, lmbda)
            row["estimated_bpp"] = (estimated_bits + 8 * codec.header_size) / pixels
        row.update(image_quality(image, decoded))
        if check_decoding:
            predicted = np.clip(np.round(codec.reconstruct(image, lmbda)), 0, 255)
            row["decode_error"] = float(np.max(np.abs(decoded.astype(np.float64) - predicted)))
        rows.append(row)
    return rows


def evaluate_codec(codec, images, grid, check_decoding: bool = False) -> list[dict]:
    """Mean actual bpp, estimated bpp, PSNR and MS-SSIM of `codec` over `images` per lambda.

    `check_decoding`: `codec_curve`'s, the largest over every image.
    """
    return mean_curve([codec_curve(codec, image, grid, check_decoding) for image in images])


def rises_with_lambda(rows: list[dict], key: str) -> bool:
    """Whether `key` (e.g. "bpp" or "psnr") strictly increases along rows sorted by lambda."""
    values = [row[key] for row in sorted(rows, key=lambda row: row["lmbda"])]
    return all(later > earlier for earlier, later in zip(values[:-1], values[1:], strict=True))


def fixed_codecs_curve(codecs, image) -> list[dict]:
    """One curve from fixed-lambda codecs on one image: each at its own lambda, sorted by it.

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
        rows.extend(codec_curve(codec, image, [low]))
    return sorted(rows, key=lambda row: row["lmbda"])


def evaluate_fixed_codecs(codecs, images) -> list[dict]:
    """`fixed_codecs_curve` averaged over `images`."""
    return mean_curve([fixed_codecs_curve(codecs, image) for image in images])


def check_pillow_format(image_format: str) -> None:
    """Raises naming the fix when this Pillow cannot write `image_format`."""
    from PIL import Image, features

    if image_format == "AVIF" and not features.check("avif"):
        import PIL

        raise ValueError(
            f"Pillow {PIL.__version__} has no AVIF encoder; install the Pillow of "
            "requirements.lock (13 or later, whose wheels bring libavif)."
        )
    Image.init()
    if image_format not in Image.SAVE:
        raise ValueError(f"Pillow cannot write {image_format!r}; known: {sorted(Image.SAVE)}.")


def pillow_curve(image, image_format: str, qualities) -> list[dict]:
    """bpp, PSNR and MS-SSIM of Pillow's `image_format` ("JPEG", "WEBP", "AVIF") on one image."""
    from PIL import Image

    check_pillow_format(image_format)
    rows = []
    for quality in qualities:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format=image_format, quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        bpp = 8 * buffer.tell() / (image.shape[0] * image.shape[1])
        rows.append({"quality": quality, "bpp": bpp, **image_quality(image, decoded)})
    return rows


def evaluate_pillow(images, image_format: str, qualities) -> list[dict]:
    """Mean bpp, PSNR and MS-SSIM of Pillow's `image_format` over `images` per quality."""
    return mean_curve([pillow_curve(image, image_format, qualities) for image in images])


def baseline_evaluators() -> dict:
    """`evaluate_set`'s evaluators of the Pillow baselines (JPEG, WebP, AVIF), by label."""
    return {
        label: functools.partial(_pillow_curve_of, image_format, qualities)
        for label, (image_format, qualities) in BASELINES.items()
    }


def _pillow_curve_of(image_format, qualities, image):
    return pillow_curve(image, image_format, qualities)


def per_image_curves(subsets: dict, evaluators: dict) -> dict[str, dict[str, list]]:
    """Every evaluator's curve on every image: subset -> label -> one curve per image.

    `subsets`: subset name -> list of uint8 RGB images. `evaluators`: curve label ->
    function of one image returning its curve (`codec_curve`, `pillow_curve`).
    """
    per_image = {}
    for subset, images in subsets.items():
        if not len(images):
            raise ValueError(f"Subset {subset!r} of the evaluation set has no images.")
        per_image[subset] = {
            label: [evaluate(image) for image in images] for label, evaluate in evaluators.items()
        }
    return per_image


def mean_curves(per_image: dict[str, dict[str, list]]) -> dict[str, dict[str, list[dict]]]:
    """`per_image_curves`' result averaged per subset, then over the whole set.

    Returns subset -> label -> mean curve, the subsets in order, then `ALL` (every image
    of every subset with equal weight) when there are several subsets.
    """
    result = {
        subset: {label: mean_curve(curves) for label, curves in by_label.items()}
        for subset, by_label in per_image.items()
    }
    if len(per_image) > 1:
        labels = next(iter(per_image.values()))
        result[ALL] = {
            label: mean_curve([c for by_label in per_image.values() for c in by_label[label]])
            for label in labels
        }
    return result


def evaluate_set(subsets: dict, evaluators: dict) -> dict[str, dict[str, list[dict]]]:
    """Mean curves of every evaluator on every subset and over the whole set.

    `per_image_curves` (each image evaluated once), then `mean_curves`.
    """
    return mean_curves(per_image_curves(subsets, evaluators))


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


def summary_row(
    curves: dict[str, list[dict]],
    test: str,
    method: str = "pchip",
    anchors=tuple(BASELINES),
) -> dict:
    """What a codec is judged by on one (sub)set, as one flat row.

    BD-rate (percent, PSNR and MS-SSIM) of curve `test` against each of `anchors` it
    overlaps (None where it does not: `bd_rates` prints why), the top PSNR and its bpp,
    and whether bpp and PSNR rise strictly with lambda.
    """
    rows = curves[test]
    top = max(rows, key=lambda row: row["psnr"])
    row = {"model": test}
    for quality in ("psnr", "ms_ssim"):
        compared = {anchor: curves[anchor] for anchor in anchors if anchor in curves}
        rates = bd_rates({**compared, test: rows}, test, method, quality)
        for anchor in anchors:
            row[f"{quality}_vs_{anchor}"] = rates.get(anchor)
    row.update(
        top_psnr=top["psnr"],
        top_bpp=top["bpp"],
        bpp_rises=rises_with_lambda(rows, "bpp"),
        psnr_rises=rises_with_lambda(rows, "psnr"),
    )
    return row


def summary_rows(
    by_subset: dict[str, dict[str, list[dict]]],
    tests,
    counts: dict[str, int],
    method: str = "pchip",
) -> list[dict]:
    """`summary_row` of each curve in `tests` on each subset of `evaluate_set`'s result.

    `counts`: the number of photographs per subset (and `ALL`), shown beside each row.
    """
    return [
        {"subset": subset, "photos": counts[subset], **summary_row(curves, test, method)}
        for subset, curves in by_subset.items()
        for test in tests
    ]


def format_summary(rows: list[dict], anchors=tuple(BASELINES)) -> str:
    """`summary_rows` as a text table (BD-rates in percent, "-" where curves do not overlap)."""

    def rate(value):
        return f"{value:+7.1f}%" if value is not None else f"{'-':>8}"

    rates = " ".join(f"{anchor:>8}" for anchor in anchors)
    lines = [
        f"{'':<10} {'':>6} {'':<14} | {'BD-rate (PSNR) against':<{len(rates)}} | "
        f"{'BD-rate (MS-SSIM) against':<{len(rates)}} | {'top PSNR':<22} | rising with lambda",
        f"{'subset':<10} {'photos':>6} {'model':<14} | {rates} | {rates} | "
        f"{'dB at bpp':<22} | bpp, PSNR",
    ]
    for row in rows:
        psnr = " ".join(rate(row[f"psnr_vs_{anchor}"]) for anchor in anchors)
        ssim = " ".join(rate(row[f"ms_ssim_vs_{anchor}"]) for anchor in anchors)
        top = f"{row['top_psnr']:5.2f} dB at {row['top_bpp']:.3f} bpp"
        lines.append(
            f"{row['subset']:<10} {row['photos']:>6} {row['model']:<14} | {psnr} | {ssim} | "
            f"{top:<22} | {row['bpp_rises']}, {row['psnr_rises']}"
        )
    return "\n".join(lines)


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
