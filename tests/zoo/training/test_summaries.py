"""TensorBoard images at a fixed weight grid, written during training for every task."""

import pytest

from tests.tensorboard_scalars import read_images, read_scalars
from zoo import summary_images
from zoo.training import train_lib


@pytest.mark.parametrize(
    "task, tags, columns",
    [
        # {tag: rows of pictures (None: a plot)}, pictures per row.
        ("beta_vae", {"images/reconstructions": 6, "images/prior_samples": 5}, 8),
        ("compression", {"images/decoded": 1, "images/rd_curve": None}, 6),
        ("style_transfer", {"images/stylized": 3}, 6),
    ],
)
def test_training_writes_the_tasks_images_at_the_weight_grid(task, tags, columns, tmp_path):
    train_lib.train(task, tmp_path, steps=4, runlocal=True, log_every=2, image_every=2, verbose=0)
    images = read_images(tmp_path / "train")
    assert set(tags) <= set(images)
    for tag, expected_rows in tags.items():
        assert sorted(images[tag]) == [2, 4], tag  # Every 2 steps, the grid unchanged.
        picture = images[tag][4]
        if expected_rows is None:  # A plot, not a grid of pictures.
            continue
        first = images[tag][2]
        assert picture.shape == first.shape, tag
        height, width = picture.shape[:2]
        assert height % expected_rows == 0 and width % columns == 0, (tag, picture.shape)
        assert height // expected_rows == width // columns, tag  # Square cells.
    if task == "compression":
        scalars = read_scalars(tmp_path / "train")
        grid = [f"{v:.3g}" for v in summary_images.log_grid(0.0018, 0.18)]
        for lmbda in grid:
            assert set(scalars[f"rd/bpp_at_lambda_{lmbda}"]) == {2, 4}
            assert scalars[f"rd/psnr_at_lambda_{lmbda}"][4] > 0


def test_the_grid_is_log_spaced_over_the_trained_range():
    assert summary_images.log_grid(0.125, 512.0, 3) == pytest.approx([0.125, 8.0, 512.0])
    assert summary_images.log_grid(4.0, 4.0) == [4.0]
