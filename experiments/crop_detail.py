"""How busy training crops are, with and without downscaling, beside the evaluation set's.

    python experiments/crop_detail.py [--crops=400] [--scale_low=0.25]

Detail of a 128-px crop: the mean absolute 4-neighbour Laplacian of its luma (0..255). For
the training split (`zoo.data.photo_sets.training_photos`, crops as
`zoo.data.photos.random_crops` draws them, area-weighted) at full resolution and downscaled
over [--scale_low, 1], and for every 128-px tile of each evaluation subset's photographs:
the median and the quartiles. Chooses the crop scale range of the codec's training run
(experiments/README.md).
"""

from __future__ import annotations

import argparse

import numpy as np

from zoo.compression import data as compression_data
from zoo.data import photo_sets, photos

PATCH = 128


def detail(crop: np.ndarray) -> float:
    """Mean absolute 4-neighbour Laplacian of the crop's luma."""
    luma = crop.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    laplacian = (
        4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    )
    return float(np.mean(np.abs(laplacian)))


def tiles(image: np.ndarray) -> list[np.ndarray]:
    """Every whole 128-px tile of `image`."""
    return [
        image[top : top + PATCH, left : left + PATCH]
        for top in range(0, image.shape[0] - PATCH + 1, PATCH)
        for left in range(0, image.shape[1] - PATCH + 1, PATCH)
    ]


def quartiles(values) -> str:
    """Median and quartiles, as text."""
    low, median, high = np.percentile(values, [25, 50, 75])
    return f"median {median:5.1f} (quartiles {low:5.1f}-{high:5.1f}, {len(values)} crops)"


def main() -> None:
    """Prints the detail of each kind of crop (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=int, default=400)
    parser.add_argument("--scale_low", type=float, default=0.25)
    args = parser.parse_args()
    training = [image for _, image in photo_sets.training_photos()]
    for scale_low in (1.0, args.scale_low):
        crops = photos.random_crops(training, PATCH, args.crops, seed=0, scale_range=(scale_low, 1))
        batch = next(iter(crops)).numpy()
        values = [detail(crop) for crop in batch]
        print(f"training crops, scales [{scale_low:g}, 1]: {quartiles(values)}")
    for subset, named in compression_data.evaluation_set().items():
        values = [detail(tile) for image in named.values() for tile in tiles(image)]
        print(f"evaluation subset {subset}, 128-px tiles: {quartiles(values)}")


if __name__ == "__main__":
    main()
