"""Paintings are style-transfer styles by name, beside the bundled textures; the release's four
are distinct paintings; a missing painting names `make paintings`."""

import dataclasses
import os
import tempfile
import unittest
from unittest import mock

import numpy as np

from zoo import flags_util
from zoo.data import packages, paintings
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.training import train_lib


def _installed(names) -> bool:
    try:
        for name in names:
            paintings.painting_path(name)
    except FileNotFoundError:
        return False
    return True


class PaintedStylesTest(unittest.TestCase):
    def test_the_release_styles_are_four_distinct_paintings(self):
        release = style_config.RELEASE_STYLES
        self.assertEqual(len(set(release)), style_config.NUM_STYLES)
        self.assertTrue(set(release) <= set(paintings.PAINTINGS))
        self.assertEqual(len({paintings.PAINTINGS[name].title for name in release}), 4)

    def test_the_config_flag_takes_painting_names_and_textures_together(self):
        overrides = flags_util.parse_overrides(
            ['styles=("starry_night","great_wave","composition_viii","brick")'],
            style_config.Config,
        )
        config = train_lib.make_config("style_transfer", overrides, runlocal=True)
        self.assertEqual(
            tuple(config.styles), ("starry_night", "great_wave", "composition_viii", "brick")
        )

    def test_an_unknown_style_lists_the_textures_and_the_paintings(self):
        config = dataclasses.replace(style_config.Config.runlocal(), styles=("mona",) * 4)
        with self.assertRaisesRegex(ValueError, r"Unknown bundled styles \['mona'.*brick.*irises"):
            style_data.style_files(config)

    def test_a_painting_that_is_not_installed_names_make_paintings(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(), styles=style_config.RELEASE_STYLES
        )
        with tempfile.TemporaryDirectory() as root:
            with mock.patch.dict(os.environ, {packages.DATA_ROOT_ENV: root}):
                with self.assertRaisesRegex(FileNotFoundError, "make paintings"):
                    style_data.load_style_images(config)

    @unittest.skipUnless(
        _installed(style_config.RELEASE_STYLES),
        "the paintings are not installed: run 'sudo make paintings'",
    )
    def test_the_release_paintings_load_as_styles_at_the_style_size_without_frames(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(), styles=style_config.RELEASE_STYLES
        )
        named = style_data.named_style_images(config)
        self.assertEqual([name for name, _ in named], list(style_config.RELEASE_STYLES))
        for name, image in named:
            with self.subTest(name=name):
                self.assertEqual(min(image.shape[:2]), config.style_size)
                self.assertEqual(image.dtype, np.uint8)
                # The Starry Night's file has a black frame; the style image must not.
                self.assertGreater(image[0].mean(), 10.0)


if __name__ == "__main__":
    unittest.main()
