"""Colour photographs that ship inside installed wheels, and users' own image folders.

No image is downloaded. The photographs are read as files from the wheels of
scikit-image (installed with --no-deps; never imported), scikit-learn's sample
images and matplotlib's sample data, through `importlib.metadata`. A fixed
subset is held out for evaluation and never used for training.

More training photographs come from two Debian packages that `make photos` extracts
into the data root of zoo.data.packages (`DEBIAN_PHOTOS`; each photo's licence is in its
package's copyright file, CC-BY, CC-BY-SA, CC0 or GPL-2+; an installed package's files
are read where it put them). They are only ever trained on. zoo/data/photo_sets.py has
the larger sets of `make photos` (training, validation, evaluation). Debian's `mate-backgrounds`
and `plasma-workspace-wallpapers` are kept for this project's independent
evaluation and are never read here.
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from zoo.data import packages
from zoo.data import wheels as data_wheels

# (distribution, path inside it) of every bundled colour photograph, by name.
BUNDLED = {
    "astronaut": ("scikit-image", "skimage/data/astronaut.png"),
    "chelsea": ("scikit-image", "skimage/data/chelsea.png"),
    "coffee": ("scikit-image", "skimage/data/coffee.png"),
    "rocket": ("scikit-image", "skimage/data/rocket.jpg"),
    "motorcycle": ("scikit-image", "skimage/data/motorcycle_left.png"),
    "hubble_deep_field": ("scikit-image", "skimage/data/hubble_deep_field.jpg"),
    "immunohistochemistry": ("scikit-image", "skimage/data/ihc.png"),
    "grace_hopper": ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    "china": ("scikit-learn", "sklearn/datasets/images/china.jpg"),
    "flower": ("scikit-learn", "sklearn/datasets/images/flower.jpg"),
}
# Held out for evaluation: never cropped for training.
HELD_OUT = ("coffee", "china")
TRAINING = tuple(name for name in BUNDLED if name not in HELD_OUT)

# Training-only photographs in Debian packages (`make photos`), by name: (package, file).
_LOMIRI = ("lomiri-wallpapers-16.04", "/usr/share/backgrounds")
_PALAPELI = ("palapeli-data", "/usr/share/palapeli/collection")
DEBIAN_PHOTOS = {
    name: (package, f"{folder}/{file}")
    for name, ((package, folder), file) in {
        "bridge": (_LOMIRI, "Bridge_by_Sander_Klootwijk.jpg"),
        "figurine": (_LOMIRI, "Dragonfly_by_Bolly.jpg"),
        "fig": (_LOMIRI, "Picture_0B_by_freespace.jpg"),
        "brushes": (_LOMIRI, "Picture_1A_by_freespace.jpg"),
        "wine": (_LOMIRI, "Wine_by_Jakkub_Mede.jpg"),
        "aitzgorri": (_LOMIRI, "aitzgorri_by_Aitzol_Berasategi.jpg"),
        "glass": (_LOMIRI, "analogpattern_by_Peter_Nerlich.jpg"),
        "lamps": (_LOMIRI, "free_by_Peter_Nerlich.jpg"),
        "dogs": (_LOMIRI, "friends_by_Aitzol_Berasategi.jpg"),
        "clock": (_LOMIRI, "greentock_by_Peter_Nerlich.jpg"),
        "stream": (_LOMIRI, "life_by_Aitzol_Berasategi.jpg"),
        "picos_de_europa": (_LOMIRI, "picosdeeuropa_by_Aitzol_Berasategi.jpg"),
        "dandelions": (_LOMIRI, "seeding_by_Clements_Engelhardt.jpg"),
        "sunset": (_LOMIRI, "sunset_by_Aitzol_Berasategi.jpg"),
        "castle": (_PALAPELI, "castle-maintenon.jpg"),
        "night_bridge": (_PALAPELI, "cincinnati-bridge.jpg"),
        "citrus": (_PALAPELI, "citrus-fruits.jpg"),
        "bee": (_PALAPELI, "european-honey-bee.jpg"),
        "chameleon": (_PALAPELI, "panther-chameleon-female.jpg"),
    }.items()
}
# Large camera photographs are box-downscaled by a whole factor to about this short side,
# as codec training sets are, so that sensor noise and JPEG artefacts do not become targets.
DEBIAN_PHOTO_SHORT_SIDE = 1024

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm")


def bundled_path(name: str) -> pathlib.Path:
    """The file of bundled photograph `name`, or a clear error naming the package to install."""
    if name not in BUNDLED:
        raise ValueError(f"Unknown bundled photograph {name!r}; known: {sorted(BUNDLED)}.")
    return locate(*BUNDLED[name])


def locate(distribution_name: str, relative: str) -> pathlib.Path:
    """An image file inside an installed wheel, or a clear error naming the package to install."""
    name = pathlib.PurePath(relative).stem
    return data_wheels.locate(
        distribution_name, relative, f"Image {name!r} ships in the {distribution_name} wheel"
    )


def read_rgb8(path) -> np.ndarray:
    """Reads an image file as uint8 RGB `[H, W, 3]`, or raises naming the file and the fix.

    Greyscale and palette images are converted to RGB; RGBA and LA are refused
    (compositing onto a background would be a guess); 16-bit images are refused.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Image {path} does not exist.")
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode in ("I", "F") or mode.startswith("I;16"):
                raise ValueError(
                    f"Image {path} has {mode} (16-bit or float) pixels; convert it to 8-bit RGB."
                )
            if mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                raise ValueError(
                    f"Image {path} has an alpha channel; flatten it onto a background first."
                )
            array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError as error:
        raise ValueError(f"Image {path} is not a readable image file.") from error
    except OSError as error:
        raise ValueError(
            f"Image {path} could not be decoded ({error}); is it truncated?"
        ) from error
    return array


@functools.cache
def load_bundled(name: str) -> np.ndarray:
    """Bundled photograph `name` as uint8 RGB `[H, W, 3]` (cached, read-only)."""
    array = read_rgb8(bundled_path(name))
    array.setflags(write=False)
    return array


def debian_photo_path(name: str) -> pathlib.Path:
    """The file of Debian photograph `name`: where `make photos` extracts it (the data root of
    zoo.data.packages), or where an installed package has it (`make photos` once installed
    them). Raises FileNotFoundError naming `make photos` when it is in neither place."""
    package, path = DEBIAN_PHOTOS[name]
    if pathlib.Path(path).is_file():
        return pathlib.Path(path)
    try:
        return packages.debian_file(package, path, "photos")
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{error} (Photograph {name!r}; an installed {package} at {path} also works.)"
        ) from None


@functools.cache
def load_debian_photo(name: str) -> np.ndarray:
    """Debian-packaged training photograph `name`, downscaled, as uint8 RGB (cached, read-only).

    Raises FileNotFoundError naming `make photos` when its package is not extracted.
    """
    if name not in DEBIAN_PHOTOS:
        raise ValueError(f"Unknown Debian photograph {name!r}; known: {sorted(DEBIAN_PHOTOS)}.")
    array = read_rgb8(debian_photo_path(name))
    factor = max(1, round(min(array.shape[:2]) / DEBIAN_PHOTO_SHORT_SIDE))
    if factor > 1:
        array = np.asarray(Image.fromarray(array).reduce(factor))
    array.setflags(write=False)
    return array


def folder_files(folder) -> list[pathlib.Path]:
    """The image files directly in `folder`, in name order, or an error naming the folder."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Image folder {folder} does not exist.")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"Image folder {folder} has no {'/'.join(IMAGE_SUFFIXES)} files.")
    return files


def load_folder(folder) -> list[np.ndarray]:
    """Every image file directly in `folder`, as uint8 RGB arrays, in name order."""
    return [read_rgb8(path) for path in folder_files(folder)]


CROP_WEIGHTINGS = ("area", "image")


def check_scale_range(scale_range) -> tuple[float, float]:
    """`(low, high)` crop scales as floats, or a ValueError naming the range and the fix."""
    low, high = (float(v) for v in scale_range)
    if not 0 < low <= high <= 1:
        raise ValueError(
            f"The crop scale range must satisfy 0 < low <= high <= 1 (1: full resolution, "
            f"0.5: downscaled to half), got ({low:g}, {high:g})."
        )
    return low, high


def random_crops(
    images: list[np.ndarray],
    patch_size: int,
    batch_size: int,
    seed: int,
    weighting: str = "area",
    scale_range=(1.0, 1.0),
    flips: bool = False,
    rotations: bool = False,
) -> tf.data.Dataset:
    """An endless dataset of uint8 random crops `[batch, patch, patch, 3]` from `images`.

    Each crop picks an image and a position in it uniformly, from a seeded stream.
    `weighting="area"` picks images with probability proportional to their area;
    `"image"` picks every image equally often, as an epoch of one crop per image does
    (tensorflow-compression's and CompressAI's training loops). Images smaller than the
    patch are refused with their size.

    Augmentation, all off by default (the stream of crops is then what it always was):
    `scale_range=(low, high)` downscales each crop by a factor drawn log-uniformly from
    it (a square of `patch / scale` pixels resized to the patch, antialiased), so that
    crops show the busy detail of heavily reduced photographs as well as smooth skies at
    full resolution; an image too small for `low` is cropped at the smallest scale it
    allows. `flips` mirrors half the crops left to right; `rotations` turns each by a
    random multiple of 90 degrees.
    """
    if weighting not in CROP_WEIGHTINGS:
        raise ValueError(f"Crop weighting must be one of {CROP_WEIGHTINGS}, got {weighting!r}.")
    low, high = check_scale_range(scale_range)
    too_small = [i.shape for i in images if min(i.shape[:2]) < patch_size]
    if too_small:
        raise ValueError(f"Images {too_small} are smaller than the {patch_size}px patch size.")
    if weighting == "area":
        odds = np.array([i.shape[0] * i.shape[1] for i in images], np.float64)
    else:
        odds = np.ones(len(images))
    probabilities = odds / odds.sum()  # Once, not per crop.
    rng = np.random.default_rng(seed)

    def generate():
        while True:
            image = images[rng.choice(len(images), p=probabilities)]
            side = patch_size
            if (low, high) != (1.0, 1.0):
                # Log-uniform within what this image allows: a square no larger than it.
                smallest = max(low, patch_size / min(image.shape[:2]))
                scale = np.exp(rng.uniform(np.log(smallest), np.log(max(smallest, high))))
                side = min(min(image.shape[:2]), max(patch_size, round(patch_size / scale)))
            top = rng.integers(0, image.shape[0] - side + 1)
            left = rng.integers(0, image.shape[1] - side + 1)
            crop = image[top : top + side, left : left + side]
            if side != patch_size:
                crop = np.asarray(
                    Image.fromarray(np.ascontiguousarray(crop)).resize(
                        (patch_size, patch_size), Image.Resampling.BICUBIC
                    )
                )
            if flips and rng.integers(2):
                crop = crop[:, ::-1]
            if rotations:
                crop = np.rot90(crop, k=rng.integers(4))
            yield np.ascontiguousarray(crop)

    spec = tf.TensorSpec([patch_size, patch_size, 3], tf.uint8)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=spec)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
