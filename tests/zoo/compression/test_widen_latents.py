import contextlib
import io
import json
import pathlib
import tempfile

import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import golden_files
from zoo import loading
from zoo.compression import data as compression_data
from zoo.compression import widen_latents
from zoo.loading import snapshots
from zoo.training import train_lib


class WidenLatentsTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        # The recorded tiny run (tests/golden): restoring it costs no training.
        cls.run_dir = golden_files.copy_run("compression", cls.temp / "run")
        cls.snapshot = cls.temp / "snapshot"
        train_lib.write_snapshot(cls.run_dir, cls.snapshot, command="yoto-train")
        cls.wide_dir = cls.temp / "wide"
        cls.narrow, cls.wide = widen_latents.widen(cls.snapshot, 16, cls.wide_dir)
        cls.images = tf.constant(compression_data.evaluation_images(1)[0][None, :128, :128])

    def _forward(self, model, lmbda):
        weights = tf.constant([[1.0, lmbda]])
        reconstruction, bits = model._forward(  # noqa: SLF001
            tf.cast(self.images, tf.float32), weights, training=False
        )
        return reconstruction.numpy(), float(bits[0])

    def test_the_widened_codec_has_the_new_latent_channels(self):
        self.assertEqual(self.narrow.num_latent_filters, 8)
        self.assertEqual(self.wide.num_latent_filters, 16)
        metadata = snapshots.read_metadata(self.wide_dir)
        self.assertEqual(metadata["config"]["num_latent_filters"], 16)
        self.assertEqual(metadata["step"], 200)

    def test_the_widened_codec_reconstructs_as_before_for_about_the_same_bits(self):
        for lmbda in (0.0018, 0.18):
            narrow_image, narrow_bits = self._forward(self.narrow, lmbda)
            wide_image, wide_bits = self._forward(self.wide, lmbda)
            self.assertAllClose(wide_image, narrow_image, atol=1e-3)
            # The new channels' symbols are zero under the smallest scale: a few bits at most.
            self.assertBetween(wide_bits - narrow_bits, 0.0, 0.01 * narrow_bits + 16)

    def test_the_new_channels_carry_a_little_of_the_image_for_training_to_grow(self):
        weights = tf.constant([[1.0, 0.018]])
        latents = self.wide.analyse(
            tf.cast(self.images, tf.float32),
            self.wide._condition(weights),
            weights[:, 1],  # noqa: SLF001
        ).numpy()
        old, new = latents[..., :8], latents[..., 8:]
        self.assertGreater(np.abs(new).mean(), 0.0)
        self.assertLess(np.abs(new).mean(), np.abs(old).mean())

    @pytest.mark.slow
    def test_training_from_the_widened_snapshot_continues_the_run_at_its_step(self):
        run_dir = self.temp / "continued"
        with contextlib.redirect_stdout(io.StringIO()) as log:
            train_lib.train(
                "compression",
                run_dir,
                steps=201,
                runlocal=True,
                config_overrides={"num_latent_filters": 16},
                init_from=self.wide_dir,
                verbose=1,
            )
        self.assertIn("(step 200)", log.getvalue())
        self.assertEqual(
            json.loads((run_dir / "config.json").read_text())["config"]["num_latent_filters"], 16
        )
        self.assertEqual(
            loading.checkpoint_step(tf.train.latest_checkpoint(str(run_dir / "checkpoints"))), 201
        )

    def test_a_narrower_width_or_another_task_is_refused_naming_it(self):
        with self.assertRaisesRegex(ValueError, "not more than the snapshot's 8 latent channels"):
            widen_latents.widen(self.snapshot, 8, self.temp / "narrower")
        self.assertFalse((self.temp / "narrower").exists())
        other = self.temp / "vae"
        config = train_lib.make_config("beta_vae", {}, runlocal=True)
        vae = zoo.get_task("beta_vae").build_model(config, seed=0)
        snapshots.write(vae, other, {"task": "beta_vae", "seed": 0}, step=0)
        with self.assertRaisesRegex(ValueError, "holds a beta_vae model"):
            widen_latents.widen(other, 16, self.temp / "vae_wide")

    def test_the_command_line_reports_a_bad_snapshot_with_exit_status_2(self):
        with contextlib.redirect_stderr(io.StringIO()) as error:
            status = widen_latents.run(
                ["--snapshot", str(self.temp / "missing"), "--num_latent_filters=16", "--output=x"]
            )
        self.assertEqual(status, 2)
        self.assertIn("is not a weights snapshot", error.getvalue())

    def test_the_command_line_says_how_to_continue_the_run(self):
        output = self.temp / "cli_wide"
        with contextlib.redirect_stdout(io.StringIO()) as log:
            status = widen_latents.run(
                ["--snapshot", str(self.snapshot), "--num_latent_filters=16", f"--output={output}"]
            )
        self.assertEqual(status, 0)
        continuing = loading.continue_command(snapshots.read_metadata(output), output)
        self.assertIn(f"continue its run with {continuing}", log.getvalue())
        self.assertIn("--config=num_latent_filters=16", continuing)
