"""Style transfer's data: the style images, and content crops of the bundled photographs."""

from __future__ import annotations

import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image

from zoo.data import paintings, photos
from zoo.style_transfer.config import BUNDLED_STYLES, NUM_STYLES, PAINTED_STYLES, Config


def style_files(config: Config) -> list[tuple[str, pathlib.Path]]:
    """`(name, file)` of the four style images in weight order (style_1 .. style_4).

    Bundled styles and paintings are named as in `Config.styles`; a `style_folder`'s
    images by their file names without suffix, in name order. A painting that is not
    installed is a FileNotFoundError naming `make paintings`.
    """
    if config.style_folder:
        files = photos.folder_files(config.style_folder)
        source = config.style_folder
        named = [(path.stem, path) for path in files]
    else:
        unknown = [
            name
            for name in config.styles
            if name not in BUNDLED_STYLES and name not in PAINTED_STYLES
        ]
        if unknown:
            raise ValueError(
                f"Unknown bundled styles {unknown}; bundled: {sorted(BUNDLED_STYLES)}, "
                f"paintings: {sorted(PAINTED_STYLES)}. Use style_folder for your own."
            )
        named = [(name, _style_file(name, config.style_size)) for name in config.styles]
        source = "styles"
    if len(named) != NUM_STYLES:
        raise ValueError(
            f"Style transfer needs {NUM_STYLES} style images, {source} has {len(named)}."
        )
    return named


def _style_file(name: str, style_size: int) -> pathlib.Path:
    if name in PAINTED_STYLES:
        try:
            return paintings.painting_path(name)
        except FileNotFoundError:
            released = released_picture(name, style_size)
            if released is None:
                raise
            return released
    return photos.locate(*BUNDLED_STYLES[name])


# Where a release keeps the paintings it was trained on, as the loss network saw them
# (`release_checks.release_files`): a release of painted styles restores, stylizes and
# shows its styles where the paintings are not installed (`make paintings` needs root).
RELEASE_PICTURE_DIR = "styles"


def released_picture(name: str, style_size: int) -> pathlib.Path | None:
    """Painting `name` from a release that carries it at `style_size` (its shorter side),
    frame trimmed: the very pixels the release's loss network saw. None if none does (a
    picture at another size would give other Gram targets than its network trained on)."""
    from zoo.loading import releases

    for release in releases.names():
        path = releases.RELEASES_DIR / release / RELEASE_PICTURE_DIR / f"{name}.png"
        if path.is_file():
            try:
                with Image.open(path) as image:
                    if min(image.size) == style_size:
                        return path
            except OSError:
                continue  # An unreadable picture is no source; the painting's error stands.
    return None


def _is_released_picture(path: pathlib.Path) -> bool:
    from zoo.loading import releases

    return path.parent.name == RELEASE_PICTURE_DIR and path.parent.parent.parent == pathlib.Path(
        releases.RELEASES_DIR
    )


def named_style_images(config: Config) -> list[tuple[str, np.ndarray]]:
    """`(name, image)` of the four styles in weight order, as `load_style_images` gives them."""
    named = []
    for name, path in style_files(config):
        # A painting's frame, where its photograph shows one, is trimmed off (a release's
        # picture of it is trimmed and at the style size already).
        is_painting = not config.style_folder and name in PAINTED_STYLES
        if is_painting and not _is_released_picture(path):
            image = paintings.load_painting(name)
        else:
            image = photos.read_rgb8(path)
        scale = config.style_size / min(image.shape[:2])
        size = [max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale))]
        resized = tf.cast(tf.image.resize(image, size, antialias=True), tf.uint8).numpy()
        named.append((name, resized))
    return named


def load_style_images(config: Config) -> list[np.ndarray]:
    """The four style images as uint8 RGB, resized so the shorter side is `style_size`."""
    return [image for _, image in named_style_images(config)]


def train_dataset(config: Config, seed: int) -> tf.data.Dataset:
    """Endless batches of random uint8 content crops of the training photographs."""
    if config.image_folder:
        images = photos.load_folder(config.image_folder)
    else:
        images = [photos.load_bundled(name) for name in photos.TRAINING]
    return photos.random_crops(images, config.patch_size, config.batch_size, seed)


def evaluation_images(limit: int | None = None, size: int = 256) -> np.ndarray:
    """Centre crops `[N, size, size, 3]` of the held-out photographs."""
    crops = []
    for name in photos.HELD_OUT:
        image = photos.load_bundled(name)
        top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        crops.append(image[top : top + size, left : left + size])
    crops = np.stack(crops)
    return crops if limit is None else crops[:limit]


def loss_term_images(limit: int | None = None) -> np.ndarray:
    """The batch the loss terms are evaluated on along a weight grid: 256x256 centre crops."""
    return evaluation_images(limit)
