"""Pictures in and out of the web app: uploads checked, previews, PNGs, baseline codecs.

Uploads: at most `MAX_UPLOAD_BYTES` bytes and `MAX_PIXELS` pixels (refused above that
with a message; Pillow's decompression-bomb guard is far higher); anything Pillow reads
is accepted, and what the models cannot take as it is gets converted with a note the
page shows: 16-bit channels to 8 bits, an alpha channel flattened onto white, the
first frame of an animation, EXIF rotation applied. Every model works on a preview
downscaled so that its shorter side is at most the preview size (256 by default), which
keeps an update live on a 2-core CPU.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 32 * 2**20
MAX_PIXELS = 40_000_000
PREVIEW_SIDES = (192, 256, 384, 512)
DEFAULT_PREVIEW_SIDE = 256
# Each format's quality range in Pillow, searched for the largest file within a budget.
BASELINES = {"JPEG": (1, 95), "WebP": (0, 100), "AVIF": (0, 100)}
_PILLOW_FORMATS = {"JPEG": "JPEG", "WebP": "WEBP", "AVIF": "AVIF"}


class BadInputError(ValueError):
    """Input the page sent that cannot be used; the message says why and what to do."""


def decode_upload(data: bytes) -> tuple[np.ndarray, list[str]]:
    """An uploaded file as uint8 RGB `[H, W, 3]` and notes on what was converted.

    Raises BadInputError for an empty, oversized, unreadable or too large (in pixels) file.
    """
    if not data:
        raise BadInputError("The upload is empty: choose an image file (PNG, JPEG, WebP, ...).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadInputError(
            f"The file is {len(data) / 2**20:.1f} MiB; the limit is "
            f"{MAX_UPLOAD_BYTES // 2**20} MiB. Upload a smaller image."
        )
    notes = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadInputError(_too_many_pixels(width, height))
            rawmode = image.tile[0][3] if image.tile else ""
            if isinstance(rawmode, tuple):
                rawmode = rawmode[0]
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"The file has {image.n_frames} frames; the first one is used.")
            image.load()
    except BadInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadInputError(f"The image is too large to open safely ({error}).") from error
    except UnidentifiedImageError as error:
        raise BadInputError(
            "The upload is not an image file that can be read (PNG, JPEG, WebP, AVIF, "
            "BMP, TIFF, GIF); choose a photograph."
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise BadInputError(
            f"The image could not be decoded ({error}); is the file complete?"
        ) from error
    # A phone photo's orientation is in its EXIF; show it the way up its camera meant.
    image = ImageOps.exif_transpose(image)
    return _to_rgb8(image, str(rawmode), notes), notes


def _too_many_pixels(width: int, height: int) -> str:
    return (
        f"The image is {width}x{height} = {width * height / 1e6:.1f} megapixels; the limit is "
        f"{MAX_PIXELS / 1e6:g} megapixels. Downscale it first."
    )


def _to_rgb8(image: Image.Image, rawmode: str, notes: list[str]) -> np.ndarray:
    """Pillow's image as uint8 RGB, noting every conversion in `notes`."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit greyscale: Pillow holds 0..65535 as integers; 257 maps it onto 0..255.
        values = np.asarray(image, np.float64)
        grey = np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8)
        notes.append("The image has 16-bit channels; they were reduced to 8 bits.")
        return np.repeat(grey[..., np.newaxis], 3, axis=-1)
    if mode == "F":
        raise BadInputError(
            "The image has floating-point pixels (mode F); save it as an 8-bit RGB PNG or JPEG."
        )
    if ";16" in rawmode:
        # Pillow has already read 16-bit RGB(A) PNGs into 8-bit channels.
        notes.append("The image has 16-bit channels; they were reduced to 8 bits.")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
        notes.append(
            "The image has an alpha channel; it was flattened onto white (the models code RGB)."
        )
    return np.asarray(image.convert("RGB"), np.uint8)


def check_preview_side(side) -> int:
    """The preview size as an int from `PREVIEW_SIDES`, or BadInputError naming them."""
    try:
        side = int(side)
    except (TypeError, ValueError):
        side = None
    if side not in PREVIEW_SIDES:
        raise BadInputError(f"The preview size must be one of {list(PREVIEW_SIDES)} pixels.")
    return side


def preview(image: np.ndarray, side: int = DEFAULT_PREVIEW_SIDE) -> np.ndarray:
    """`image` downscaled (Lanczos) so that its shorter side is at most `side`; never upscaled."""
    height, width = image.shape[:2]
    scale = side / min(height, width)
    if scale >= 1:
        return np.asarray(image, np.uint8)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(np.asarray(image)).resize(size, Image.LANCZOS), np.uint8)


def png_bytes(image: np.ndarray, compress_level: int = 6) -> bytes:
    """A uint8 image `[H, W, 3]` (or `[H, W]`) as PNG bytes (zlib level `compress_level`)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(
        buffer, format="PNG", compress_level=compress_level
    )
    return buffer.getvalue()


def data_url(image: np.ndarray) -> str:
    """A uint8 image as a `data:image/png;base64,...` URL for an <img> in the page.

    zlib level 1: a quarter of level 6's time for 7% more bytes, over loopback.
    """
    data = png_bytes(image, compress_level=1)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def encode_baseline(image: np.ndarray, label: str, quality: int) -> bytes:
    """`image` as a Pillow JPEG, WebP or AVIF file (`label` from BASELINES) at `quality`."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=_PILLOW_FORMATS[label], quality=quality)
    return buffer.getvalue()


def decode_file(data: bytes) -> np.ndarray:
    """A JPEG/WebP/AVIF file's pixels as uint8 RGB."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def baseline_within(image: np.ndarray, label: str, budget: int) -> tuple[int, bytes]:
    """`(quality, file)` of the highest-quality file of `label` no larger than `budget` bytes.

    Bisection over the quality, which assumes a file grows with its quality (true of
    Pillow's encoders but for rare one-step dips, so the answer can be a step below the
    best). When even the lowest quality is larger, that file: a codec goes no lower.
    """
    low, high = BASELINES[label]
    best = (low, encode_baseline(image, label, low))
    if len(best[1]) > budget:
        return best
    while low < high:
        middle = (low + high + 1) // 2
        data = encode_baseline(image, label, middle)
        if len(data) <= budget:
            low, best = middle, (middle, data)
        else:
            high = middle - 1
    return best


def zoom(image: np.ndarray, centre: tuple[float, float], side: int = 64, scale: int = 4):
    """A `side`-pixel square around `centre` (fractions of width, height), `scale`x nearest."""
    height, width = image.shape[:2]
    side = min(side, height, width)
    left = int(np.clip(round(centre[0] * width - side / 2), 0, width - side))
    top = int(np.clip(round(centre[1] * height - side / 2), 0, height - side))
    crop = np.asarray(image)[top : top + side, left : left + side]
    return np.repeat(np.repeat(crop, scale, axis=0), scale, axis=1)


def digit_grid(images: np.ndarray, columns: int = 8, scale: int = 3) -> np.ndarray:
    """Float digits `[N, 28, 28, 1]` in [0, 1] as one uint8 RGB grid, 1 px gaps, `scale`x."""
    images = np.clip(np.asarray(images, np.float32)[..., 0], 0, 1)
    count, height, width = images.shape
    rows = -(-count // columns)
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), 0.35, np.float32)
    for index, digit in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * (height + 1) : row * (height + 1) + height,
             column * (width + 1) : column * (width + 1) + width] = digit  # fmt: skip
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    return np.repeat(np.round(grid * 255).astype(np.uint8)[..., np.newaxis], 3, axis=-1)
