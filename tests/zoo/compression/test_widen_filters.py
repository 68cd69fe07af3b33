import contextlib
import io
import json
import pathlib
import tempfile

import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import export_lib
from tests import golden_files
from zoo import loading
from zoo.compression import data as compression_data
from zoo.compression import widen_filters
from zoo.loading import snapshots
from zoo.training import train_lib

# The recorded tiny run has 8 filters, 8 latent channels and 8 hyper filters.
WIDE = 12


class WidenFiltersTest(tf.test.TestCase):
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
        cls.narrow, cls.wide = widen_filters.widen(cls.snapshot, WIDE, cls.wide_dir)
        cls.images = tf.constant(compression_data.evaluation_images(1)[0][None, :128, :128])

    def _forward(self, model, lmbda):
        weights = tf.constant([[1.0, lmbda]])
        reconstruction, bits = model._forward(  # noqa: SLF001
            tf.cast(self.images, tf.float32), weights, training=False
        )
        return reconstruction.numpy(), float(bits[0])

    def test_only_the_analysis_and_synthesis_get_the_new_filters(self):
        self.assertEqual(self.narrow.num_filters, 8)
        self.assertEqual(self.wide.num_filters, WIDE)
        self.assertEqual(self.wide.num_hyper_filters, 8)
        self.assertEqual(self.wide.num_latent_filters, 8)
        metadata = snapshots.read_metadata(self.wide_dir)
        self.assertEqual(metadata["config"]["num_filters"], WIDE)
        self.assertEqual(metadata["config"]["num_hyper_filters"], 8)
        self.assertEqual(metadata["step"], 200)
        narrow_hyper = [v.shape for v in self.narrow.hyper_analysis.trainable_variables]
        wide_hyper = [v.shape for v in self.wide.hyper_analysis.trainable_variables]
        self.assertEqual(wide_hyper, narrow_hyper)

    def test_the_widened_codec_reconstructs_as_before_for_the_same_bits(self):
        for lmbda in (0.0018, 0.18):
            narrow_image, narrow_bits = self._forward(self.narrow, lmbda)
            wide_image, wide_bits = self._forward(self.wide, lmbda)
            self.assertAllClose(wide_image, narrow_image, atol=1e-3)
            self.assertAllClose(wide_bits, narrow_bits, rtol=1e-5)

    def test_the_new_filters_carry_a_little_of_the_image_for_training_to_grow(self):
        weights = tf.constant([[1.0, 0.018]])
        conditioning = self.wide._condition(weights)  # noqa: SLF001
        first_block = self.wide.analysis.blocks[0]
        hidden = first_block(tf.cast(self.images, tf.float32) / 255.0, conditioning).numpy()
        old, new = hidden[..., :8], hidden[..., 8:]
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
                config_overrides={
                    "num_filters": WIDE,
                    "num_hyper_filters": 8,
                    "num_latent_filters": 8,
                },
                init_from=self.wide_dir,
                verbose=1,
            )
        self.assertIn("(step 200)", log.getvalue())
        config = json.loads((run_dir / "config.json").read_text())["config"]
        self.assertEqual((config["num_filters"], config["num_hyper_filters"]), (WIDE, 8))
        self.assertEqual(
            loading.checkpoint_step(tf.train.latest_checkpoint(str(run_dir / "checkpoints"))), 201
        )

    # Slow: a stock export; the widened codec's coding is tested fast above.
    @pytest.mark.slow
    def test_the_widened_codec_serves_its_stock_signatures_with_narrower_hyper_transforms(self):
        version_dir = export_lib.export_model(
            "compression", self.wide, self.temp / "serving", "wide_stock", 1, stock=True
        )
        signatures = tf.saved_model.load(str(version_dir)).signatures
        lmbda = tf.constant([0.01])
        images = tf.cast(self.images, tf.uint8)
        symbols = signatures["analyze"](images=images, lmbda=lmbda)
        self.assertEqual(symbols["side_symbols"].shape[-1], self.wide.num_hyper_filters)
        indexes = signatures["scale_indexes"](side_symbols=symbols["side_symbols"], lmbda=lmbda)
        self.assertAllEqual(indexes["scale_indexes"], symbols["scale_indexes"])

    def test_a_narrower_width_or_another_task_is_refused_naming_it(self):
        with self.assertRaisesRegex(ValueError, "not more than the snapshot's 8 filters"):
            widen_filters.widen(self.snapshot, 8, self.temp / "narrower")
        self.assertFalse((self.temp / "narrower").exists())
        other = self.temp / "vae"
        config = train_lib.make_config("beta_vae", {}, runlocal=True)
        vae = zoo.get_task("beta_vae").build_model(config, seed=0)
        snapshots.write(vae, other, {"task": "beta_vae", "seed": 0}, step=0)
        with self.assertRaisesRegex(ValueError, "holds a beta_vae model"):
            widen_filters.widen(other, WIDE, self.temp / "vae_wide")

    def test_the_command_line_reports_a_bad_snapshot_with_exit_status_2(self):
        with contextlib.redirect_stderr(io.StringIO()) as error:
            status = widen_filters.run(
                ["--snapshot", str(self.temp / "missing"), f"--num_filters={WIDE}", "--output=x"]
            )
        self.assertEqual(status, 2)
        self.assertIn("is not a weights snapshot", error.getvalue())

    def test_the_command_line_says_how_to_continue_the_run(self):
        output = self.temp / "cli_wide"
        with contextlib.redirect_stdout(io.StringIO()) as log:
            status = widen_filters.run(
                ["--snapshot", str(self.snapshot), f"--num_filters={WIDE}", f"--output={output}"]
            )
        self.assertEqual(status, 0)
        continuing = loading.continue_command(snapshots.read_metadata(output), output)
        self.assertIn(f"continue its run with {continuing}", log.getvalue())
        self.assertIn(f"--config=num_filters={WIDE}", continuing)
        self.assertIn("--config=num_hyper_filters=8", continuing)
