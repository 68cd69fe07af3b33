"""What each tab of the page computes, apart from HTTP: photos, and one update per tab.

    app = App(models)                       # web.models.Models
    app.codec({"photo": "coffee", "lmbda": 0.01})  -> JSON-ready dict (images as data URLs)
    app.style({"photo": "coffee", "content": 1, "styles": [1, 0, 0, 0], "strength": 1})
    app.vae({"beta": 4})

Every parameter is checked here and a `BadInputError` names the parameter, its range and
what was sent; the server turns it into a 400 with that message for the page.
"""

from __future__ import annotations

import collections
import hashlib
import math
import threading
import time

import numpy as np

from web import images as web_images
from web.images import BadInputError

# The photos offered in the page: the codec's held-out two first, then the others that
# ship in the wheels (the codec and style networks trained on crops of those).
PHOTOS = ("coffee", "china", "astronaut", "chelsea", "motorcycle", "flower", "grace_hopper")
TARGET_BPP_RANGE = (0.02, 8.0)
DIGITS = 16
SAMPLE_SEEDS = tuple(range(16))
CROP_SIDE = 64
CROP_SCALE = 4
# Uploads and coded files kept for the page (and downloads), least recently used dropped.
MAX_UPLOADS = 16
MAX_RESULTS = 32


class _Lru:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self._size = size
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]


def number(params: dict, name: str, low: float, high: float, default=None) -> float:
    """`params[name]` as a finite float in [low, high], or BadInputError saying so."""
    value = params.get(name, default)
    if value is None or value == "":
        raise BadInputError(f"{name} is missing: give a number in [{low:g}, {high:g}].")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise BadInputError(
            f"{name} must be a number in [{low:g}, {high:g}], got {value!r}."
        ) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadInputError(f"{name} must be in [{low:g}, {high:g}], got {value:g}.")
    return value


class App:
    """The page's computations over one `web.models.Models`."""

    def __init__(self, models):
        self.models = models
        self._uploads = _Lru(MAX_UPLOADS)
        self._results = _Lru(MAX_RESULTS)
        self._digits = None

    def warm_up(self):
        """One update per tab, so that tracing is not left to the first slider move."""
        self.codec({"photo": PHOTOS[0], "lmbda": self.models.codec.lmbda_range[0]})
        self.style({"photo": PHOTOS[0], "content": 1.0, "styles": [1, 0, 0, 0], "strength": 1.0})
        self.vae({"beta": 4.0})

    # Photos -------------------------------------------------------------------------
    def info(self) -> dict:
        """What the page needs to draw its controls: photos, ranges, styles, limits."""
        codec = self.models.codec
        return {
            "photos": list(PHOTOS),
            "lmbda_range": list(codec.lmbda_range),
            "target_bpp_range": list(TARGET_BPP_RANGE),
            "content_range": list(self.models.content_range),
            "strength_range": list(self.models.strength_range),
            "beta_range": list(self.models.beta_range),
            "styles": [
                {
                    "name": name or f"style {index + 1}",
                    "image": None
                    if image is None
                    else web_images.data_url(web_images.preview(image, 64)),
                }
                for index, (name, image) in enumerate(self.models.styles)
            ],
            "preview_sides": list(web_images.PREVIEW_SIDES),
            "default_preview_side": web_images.DEFAULT_PREVIEW_SIDE,
            "max_upload_bytes": web_images.MAX_UPLOAD_BYTES,
            "max_pixels": web_images.MAX_PIXELS,
        }

    def upload(self, data: bytes) -> dict:
        """Reads an uploaded file; its photo id, size and notes (BadInputError when unusable)."""
        image, notes = web_images.decode_upload(data)
        photo = "upload-" + hashlib.sha256(data).hexdigest()[:16]
        image.setflags(write=False)
        self._uploads.put(photo, image)
        return {"photo": photo, "width": image.shape[1], "height": image.shape[0], "notes": notes}

    def photo(self, photo: str, side: int | None = None) -> np.ndarray:
        """A photo by id (bundled name or upload id), downscaled to `side` if given."""
        if photo in PHOTOS:
            from zoo.data import photos

            image = photos.load_bundled(photo)
        else:
            image = self._uploads.get(photo)
            if image is None:
                raise BadInputError(
                    f"Unknown photo {photo!r} (uploads are kept for the last {MAX_UPLOADS}): "
                    f"pick one of {list(PHOTOS)} or upload again."
                )
        return image if side is None else web_images.preview(image, side)

    def _preview(self, params: dict) -> tuple[np.ndarray, int]:
        side = web_images.check_preview_side(params.get("size", web_images.DEFAULT_PREVIEW_SIDE))
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo:
            raise BadInputError(f"photo is missing: pick one of {list(PHOTOS)} or upload one.")
        return self.photo(photo, side), side

    def result(self, key: str):
        """A coded file kept for download: `{"yoto": bytes, "png": bytes, "name": str}`."""
        return self._results.get(key)

    # Codec --------------------------------------------------------------------------
    def codec(self, params: dict) -> dict:
        """Codes the photo's preview at `lmbda` (or at `target_bpp`), with the baselines.

        Returns the decoded image and its crop, the file's bytes and bits per pixel,
        PSNR and the milliseconds spent; with `compare` (the default) also MS-SSIM (None
        below 161 pixels a side) and JPEG, WebP and AVIF files no larger than the .yoto
        file, scored the same way, and their crops. The page asks without `compare` while
        a slider moves, then with it: the file is coded once (the last ones are kept).
        """
        started = time.perf_counter()
        image, side = self._preview(params)
        codec = self.models.codec
        crop = (
            number(params, "crop_x", 0, 1, default=0.5),
            number(params, "crop_y", 0, 1, default=0.5),
        )
        compare = params.get("compare", True)
        if not isinstance(compare, bool):
            raise BadInputError(f"compare must be true or false, got {compare!r}.")
        notes = []
        target = params.get("target_bpp")
        if target not in (None, ""):
            target = number(params, "target_bpp", *TARGET_BPP_RANGE)
            lmbda = self._lmbda_for_target(params["photo"], side, image, target)
        else:
            target = None
            low, high = codec.lmbda_range
            lmbda = codec.check_lmbda(number(params, "lmbda", low, high))
        coding_started = time.perf_counter()
        key, data, decoded, cached = self._coded(params["photo"], side, image, lmbda)
        coding_ms = 1000 * (time.perf_counter() - coding_started)
        pixels = image.shape[0] * image.shape[1]
        if target is not None and 8 * len(data) / pixels > target:
            notes.append(
                f"The smallest file the codec writes for this photo is "
                f"{8 * len(data) / pixels:.3f} bpp, above the target {target:g}."
            )
        pictures = {"original": image, "YOTO": decoded}
        files = {"YOTO": (None, len(data))}
        baselines_started = time.perf_counter()
        if compare:
            for label in web_images.BASELINES:
                quality, file = web_images.baseline_within(image, label, len(data))
                pictures[label] = web_images.decode_file(file)
                files[label] = (quality, len(file))
                if len(file) > len(data):
                    notes.append(
                        f"{label}'s smallest file ({len(file)} B at quality {quality}) is "
                        "larger than the .yoto file."
                    )
        labels = list(files)
        # MS-SSIM costs about a second a picture on this CPU: only with the comparison.
        scores = _scores(image, [pictures[label] for label in labels], ms_ssim=compare)
        panels = {
            label: {
                "bytes": files[label][1],
                "bpp": 8 * files[label][1] / pixels,
                "quality": files[label][0],
                **score,
            }
            for label, score in zip(labels, scores, strict=True)
        }
        baselines_ms = 1000 * (time.perf_counter() - baselines_started)
        return {
            "photo": params["photo"],
            "width": image.shape[1],
            "height": image.shape[0],
            "lmbda": lmbda,
            "target_bpp": target,
            "bytes": len(data),
            "bpp": 8 * len(data) / pixels,
            "psnr": panels["YOTO"]["psnr"],
            "ms_ssim": panels["YOTO"]["ms_ssim"],
            "panels": panels,
            "decoded": web_images.data_url(decoded),
            "crops": {
                label: web_images.data_url(web_images.zoom(picture, crop, CROP_SIDE, CROP_SCALE))
                for label, picture in pictures.items()
            },
            "downloads": {"yoto": f"/download/{key}.yoto", "png": f"/download/{key}.png"},
            "notes": notes,
            "compared": compare,
            "cached": cached,
            "timing_ms": {
                "codec": coding_ms,
                "scores_and_baselines": baselines_ms,
                "total": 1000 * (time.perf_counter() - started),
            },
        }

    def _coded(self, photo: str, side: int, image: np.ndarray, lmbda: float):
        """`(key, .yoto bytes, decoded image, cached)` of the preview at `lmbda`, coded once."""
        cache_key = ("coded", photo, side, lmbda)
        cached = self._results.get(cache_key)
        if cached is not None:
            return (*cached, True)
        with self.models.locks["compression"]:
            data = self.models.codec.encode(image, lmbda)
            decoded = self.models.codec.decode(data)
        key = hashlib.sha256(data).hexdigest()[:20]
        stem = f"{photo}_{side}px_lambda{lmbda:.5g}"
        self._results.put(key, {"yoto": data, "png": web_images.png_bytes(decoded), "name": stem})
        self._results.put(cache_key, (key, data, decoded))
        return key, data, decoded, False

    def _lmbda_for_target(self, photo: str, side: int, image: np.ndarray, target: float):
        """The largest lambda whose file is within `target` bpp (bisection, kept)."""
        cache_key = ("target", photo, side, target)
        lmbda = self._results.get(cache_key)
        if lmbda is None:
            codec = self.models.codec
            with self.models.locks["compression"]:
                lmbda = codec.check_lmbda(codec.lmbda_for_target_bpp(image, target, iterations=11))
            self._results.put(cache_key, lmbda)
        return lmbda

    # Style transfer -----------------------------------------------------------------
    def style_weights(self, params: dict) -> list[float]:
        """The five loss weights: content, then the strength split by the four sliders."""
        content = number(params, "content", *self.models.content_range)
        mixture = params.get("styles")
        if not isinstance(mixture, list) or len(mixture) != 4:
            raise BadInputError("styles must be four numbers in [0, 1], one per style slider.")
        mixture = [number({"style": v}, "style", 0, 1) for v in mixture]
        low, high = self.models.strength_range
        strength = number(params, "strength", low, high)
        total = sum(mixture)
        if total == 0:
            return [content, 0.0, 0.0, 0.0, 0.0]  # All zeros: no style, as trained.
        return [content, *(strength * v / total for v in mixture)]

    def style(self, params: dict) -> dict:
        """The photo's preview stylized at the sliders' weights, with the weights used."""
        started = time.perf_counter()
        image, _ = self._preview(params)
        weights = self.style_weights(params)
        model_started = time.perf_counter()
        stylized = self.models.stylize(image, weights)
        model_ms = 1000 * (time.perf_counter() - model_started)
        return {
            "weights": weights,
            "width": image.shape[1],
            "height": image.shape[0],
            "stylized": web_images.data_url(stylized),
            "timing_ms": {"model": model_ms, "total": 1000 * (time.perf_counter() - started)},
        }

    # beta-VAE -----------------------------------------------------------------------
    def digits(self) -> np.ndarray:
        """The MNIST test digits shown: the first `DIGITS` of the test split."""
        if self._digits is None:
            from zoo.beta_vae import data

            self._digits = np.asarray(data.evaluation_images(limit=DIGITS), np.float32)
        return self._digits

    def vae(self, params: dict) -> dict:
        """Reconstructions of the test digits and prior samples at `beta`, with the terms."""
        started = time.perf_counter()
        beta = number(params, "beta", *self.models.beta_range)
        digits = self.digits()
        reconstructions = self.models.reconstruct_digits(digits, beta)
        terms = self.models.digit_terms(digits, beta)
        samples = self.models.sample_digits(beta, SAMPLE_SEEDS)
        return {
            "beta": beta,
            "digits": web_images.data_url(web_images.digit_grid(digits)),
            "reconstructions": web_images.data_url(web_images.digit_grid(reconstructions)),
            "samples": web_images.data_url(web_images.digit_grid(samples)),
            "terms": terms,
            "timing_ms": {"total": 1000 * (time.perf_counter() - started)},
        }


def _scores(original: np.ndarray, pictures: list[np.ndarray], ms_ssim: bool = True) -> list[dict]:
    """PSNR and MS-SSIM of each picture against `original`.

    MS-SSIM is None under 161 pixels a side, and when not asked for.

    MS-SSIM is `yoto_tf.metrics.ms_ssim`'s computation (TensorFlow's five-scale
    `ssim_multiscale`), for all pictures in one traced call: eager, it costs about a
    second per picture on this CPU.
    """
    from yoto_tf import metrics

    values = [None] * len(pictures)
    if ms_ssim and min(original.shape[:2]) >= 161:
        values = [float(v) for v in _ms_ssim_batch(original, np.stack(pictures))]
    return [
        {"psnr": metrics.psnr(original, picture), "ms_ssim": value}
        for picture, value in zip(pictures, values, strict=True)
    ]


_MS_SSIM = None


def _ms_ssim_batch(original: np.ndarray, pictures: np.ndarray) -> np.ndarray:
    global _MS_SSIM
    import tensorflow as tf

    if _MS_SSIM is None:
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        _MS_SSIM = tf.function(
            lambda a, b: tf.image.ssim_multiscale(a, b, max_val=255.0),
            input_signature=[spec, spec],
        )
    originals = np.repeat(original[np.newaxis], len(pictures), axis=0)
    return _MS_SSIM(tf.constant(originals, tf.float32), tf.constant(pictures, tf.float32)).numpy()
