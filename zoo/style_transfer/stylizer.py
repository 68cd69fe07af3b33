"""Running a style-transfer model, trained or exported, at chosen loss weights.

`Stylizer.load(path)` takes a training dir (`yoto-train --task=style_transfer`) or
an exported SavedModel version dir; both give `stylize(image, weights)` and
`loss_terms(images, weights)` with the five conditioned weights (content,
style_1 .. style_4) and any image size (edge-padded to a multiple of 4).
"""

from __future__ import annotations

import math
import pathlib

import numpy as np
import tensorflow as tf

from zoo import loading, saved_model_metadata
from zoo.data import photos
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import serving as style_transfer_serving

NUM_WEIGHTS = len(style_config.CONDITIONED_TERMS)
STYLE_TERMS = style_config.STYLE_TERMS


def parse_weights(text: str) -> list[float]:
    """'1,0.5,0,0,0' -> five finite, non-negative floats, or ValueError naming the fix."""
    try:
        weights = [float(v) for v in text.split(",")]
    except ValueError as error:
        raise ValueError(
            f"--weights must be {NUM_WEIGHTS} comma-separated numbers: {text!r}."
        ) from error
    if len(weights) != NUM_WEIGHTS:
        names = ", ".join(style_config.CONDITIONED_TERMS)
        raise ValueError(f"--weights needs {NUM_WEIGHTS} values ({names}), got {len(weights)}.")
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise ValueError(f"--weights must be finite and >= 0, got {weights}.")
    return weights


def exported_styles(version_dir) -> list[tuple[str | None, np.ndarray | None]]:
    """`(name, image)` per style of an export: names from its metadata, images from assets.

    Exports from before style images were written have neither: `(None, None)`; an
    unreadable image is `None` too.
    """
    version_dir = pathlib.Path(version_dir)
    try:
        names = saved_model_metadata.read_metadata(version_dir).get("styles") or {}
    except (FileNotFoundError, ValueError):
        names = {}
    styles = []
    for term in style_config.STYLE_TERMS:
        path = version_dir / "assets.extra" / style_transfer_serving.STYLE_ASSET_DIR / f"{term}.png"
        try:
            image = photos.read_rgb8(path)
        except (FileNotFoundError, ValueError):
            image = None  # A picture for people: its absence must not stop stylizing.
        styles.append((names.get(term), image))
    return styles


class Stylizer:
    """Stylizes uint8 RGB images with a trained or exported style-transfer model.

    `styles` lists `(name, image)` for style_1 .. style_4, as far as the model
    records them: names and images from an export's metadata and assets, or
    from a training dir's config; `None` for whatever is unknown.
    """

    def __init__(self, signatures, styles=None):
        self._signatures = signatures
        self.styles = styles or [(None, None)] * len(style_config.STYLE_TERMS)

    @classmethod
    def load(cls, path) -> Stylizer:
        """From a SavedModel version dir (has saved_model.pb) or a training dir."""
        path = pathlib.Path(path)
        if loading.is_saved_model(path):
            return cls(tf.saved_model.load(str(path)).signatures, exported_styles(path))
        model, _, task_name = loading.restore_model(path)
        if task_name != "style_transfer":
            raise ValueError(f"{path} holds a {task_name} model, not style transfer.")
        module = style_transfer_serving.StyleTransferServing(model)
        signatures = {
            "stylize": module.stylize.get_concrete_function(),
            "loss_terms": module.loss_terms.get_concrete_function(),
        }
        try:
            styles = style_data.named_style_images(model.config)
        except (FileNotFoundError, ValueError):  # A user's style folder moved since training.
            styles = None
        return cls(signatures, styles)

    def _call(self, name, images, weights):
        images = np.asarray(images)
        height, width = images.shape[1:3]
        padded = np.pad(images, [(0, 0), (0, -height % 4), (0, -width % 4), (0, 0)], mode="edge")
        weights = tf.constant(np.asarray(weights, np.float32).reshape(len(images), -1))
        try:
            return self._signatures[name](images=tf.constant(padded), loss_weights=weights)
        except tf.errors.InvalidArgumentError as error:
            raise ValueError(error.message.splitlines()[0]) from error

    def stylize(self, image: np.ndarray, weights) -> np.ndarray:
        """One uint8 image `[H, W, 3]` at five weights -> the stylized uint8 image."""
        height, width = image.shape[:2]
        outputs = self._call("stylize", image[np.newaxis], [weights])
        return outputs["stylized"].numpy()[0, :height, :width]

    def loss_terms(self, images: np.ndarray, weights) -> dict[str, np.ndarray]:
        """Per-image terms of the outputs for images `[N, H, W, 3]` and weights `[N, 5]`."""
        return {k: v.numpy() for k, v in self._call("loss_terms", images, weights).items()}
