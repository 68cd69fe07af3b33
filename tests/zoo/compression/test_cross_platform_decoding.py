"""Files written in this process decode identically in processes with other numeric settings."""

import pathlib
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from export import export_lib
from tests import cross_platform_worker
from tests.codec_fixtures import CHANNEL_CONTEXT, MEAN_SCALE, trained_runlocal_codec
from zoo.compression import codec
from zoo.data import photos

LMBDAS = (0.0018, 0.013, 0.18)


def spread_hyper_synthesis(model, seed: int = 0):
    """Gives an untrained codec's integer hyper-synthesis weights that spread its indexes.

    Initial weights (or a few training steps) leave every scale index at 0, where no
    platform could disagree; large random weights put indexes all over the table and many
    raw values near the integer boundaries where float arithmetic would flip them.
    """
    rng = np.random.default_rng(seed)
    network = model.hyper_synthesis
    for variable in network.trainable_variables:
        scale = 0.3 if "kernel" in variable.name else 2.0
        variable.assign(rng.normal(0, scale, variable.shape).astype(np.float32))
    network.convs[2].bias.assign(np.full(network.convs[2].bias.shape, 7.5, np.float32))
    # A context model's slice networks: their corrections move scales and means by a few
    # units, so that slices after the first decode under other tables than the hyperprior's.
    for context in model.slice_contexts:
        for variable in context.trainable_variables:
            scale = 0.1 if "kernel" in variable.name else 0.5
            variable.assign(rng.normal(0, scale, variable.shape).astype(np.float32))


class CrossPlatformDecodingTest(tf.test.TestCase):
    """Two settings that change the kernels the most: oneDNN off, and one thread.

    `AllSettingsCrossPlatformDecodingTest` (slow) runs every setting of
    `cross_platform_worker.SETTINGS`; each setting is a process loading TensorFlow.
    """

    SETTINGS = ("onednn_off", "one_thread")
    # Config overrides of the codec (an entropy model: `.yoto` version 3 files).
    OVERRIDES = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Untrained: the spread weights, not training, decide what the files exercise.
        model, _ = trained_runlocal_codec(seed=0, steps=0, **cls.OVERRIDES)
        spread_hyper_synthesis(model)
        cls.model = model
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        cls.stock_dir = export_lib.export_model(
            "compression", model, cls.temp / "serving", "codec_stock", stock=True
        )
        in_process = codec.Codec(model)
        files_dir = cls.temp / "files"
        files_dir.mkdir()
        cls.expected = {}
        images = [photos.load_bundled("coffee")[:130, :190], photos.load_bundled("china")[:64, :64]]
        for image_index, image in enumerate(images):
            for lmbda in LMBDAS:
                name = f"image{image_index}_lmbda{lmbda}"
                (files_dir / f"{name}.yoto").write_bytes(in_process.encode(image, lmbda))
                padded = tf.constant(codec.Codec.pad(image)[np.newaxis])
                snapped = tf.constant([in_process.check_lmbda(lmbda)], tf.float32)
                symbols = model.coding_symbols(padded, snapped)
                cls.expected[name] = {
                    "scale_indexes": symbols["scale_indexes"].numpy()[0],
                    "latent_symbols": symbols["latent_symbols"].numpy()[0],
                    "image": in_process.reconstruct(image, lmbda),
                }
        settings = {name: cross_platform_worker.SETTINGS[name] for name in cls.SETTINGS}
        cls.results = cross_platform_worker.decode_in_processes(
            cls.stock_dir, files_dir, cls.temp, settings=settings
        )

    def test_a_worker_decoded_the_files_in_each_chosen_setting(self):
        self.assertCountEqual(self.results, self.SETTINGS)

    def test_the_files_exercise_many_scale_indexes(self):
        indexes = np.concatenate([e["scale_indexes"].ravel() for e in self.expected.values()])
        self.assertGreater(len(np.unique(indexes)), 8)

    def test_every_setting_decodes_every_file_to_the_encoders_latents(self):
        for setting, (arrays, errors) in self.results.items():
            with self.subTest(setting=setting):
                self.assertEqual(errors, {})
                for name, expected in self.expected.items():
                    self.assertAllEqual(arrays[f"{name}/scale_indexes"], expected["scale_indexes"])
                    self.assertAllEqual(
                        arrays[f"{name}/latent_symbols"], expected["latent_symbols"]
                    )

    def test_every_setting_decodes_pixels_within_one_level(self):
        for setting, (arrays, _) in self.results.items():
            with self.subTest(setting=setting):
                for name, expected in self.expected.items():
                    difference = np.abs(
                        arrays[f"{name}/image"].astype(int) - expected["image"].astype(int)
                    )
                    self.assertLessEqual(difference.max(), 1)


@pytest.mark.slow
class AllSettingsCrossPlatformDecodingTest(CrossPlatformDecodingTest):
    """The same checks in every setting of `cross_platform_worker.SETTINGS`."""

    SETTINGS = tuple(cross_platform_worker.SETTINGS)


# Slow: a second trained codec and worker processes (about 150 s of the fast suite); the
# channel-context files' exactness in process is in test_codec_version3's fast class.
@pytest.mark.slow
class ChannelContextCrossPlatformDecodingTest(CrossPlatformDecodingTest):
    """A channel-context codec's files: means, context networks and slice-by-slice decoding."""

    OVERRIDES = CHANNEL_CONTEXT

    def test_the_files_are_version_3_with_non_zero_means(self):
        for path in (self.temp / "files").glob("*.yoto"):
            self.assertEqual(path.read_bytes()[4], 3)
        symbols = np.concatenate([e["latent_symbols"].ravel() for e in self.expected.values()])
        self.assertGreater(np.mean(symbols != 0), 0.1)


@pytest.mark.slow
class AllSettingsChannelContextCrossPlatformDecodingTest(ChannelContextCrossPlatformDecodingTest):
    """The channel-context codec in every setting."""

    SETTINGS = tuple(cross_platform_worker.SETTINGS)


@pytest.mark.slow
class AllSettingsMeanScaleCrossPlatformDecodingTest(CrossPlatformDecodingTest):
    """A mean-scale codec's files in every setting."""

    OVERRIDES = MEAN_SCALE
    SETTINGS = tuple(cross_platform_worker.SETTINGS)


if __name__ == "__main__":
    tf.test.main()
