"""A trained style network's snapshot given the photograph's skip (`upgrade_skip`)."""

import contextlib
import io
import pathlib
import shutil
import tempfile

import tensorflow as tf

from export import export_lib
from tests import golden_files
from zoo.loading import snapshots
from zoo.style_transfer import upgrade_skip
from zoo.training import train_lib


class UpgradeSkipTest(tf.test.TestCase):
    """The upgraded network stylises exactly as the original, and its gain can learn."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        # The recorded tiny run (tests/golden): restoring it costs no training.
        run_dir = golden_files.copy_run("style_transfer", cls.temp / "run")
        cls.snapshot = cls.temp / "snapshot"
        train_lib.write_snapshot(run_dir, cls.snapshot, command="yoto-train")
        cls.original, cls.upgraded = upgrade_skip.upgrade(cls.snapshot, cls.temp / "skip")
        cls.images = tf.random.stateless_uniform([2, 32, 32, 3], [0, 7], 0.0, 255.0)
        cls.weights = tf.constant([[10.0, 0.1, 0, 0, 0, 1e-3], [0.1, 10.0, 0, 0, 0, 1e-3]])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.temp, ignore_errors=True)
        super().tearDownClass()

    def test_the_upgraded_network_starts_at_zero_gain_and_stylises_as_the_original(self):
        self.assertAllClose(
            self.upgraded(self.images, self.weights),
            self.original(self.images, self.weights),
            atol=1e-3,
        )
        metadata = snapshots.read_metadata(self.temp / "skip")
        self.assertTrue(metadata["config"]["input_skip"])
        self.assertTrue(metadata["config"]["conditioned_skip"])

    def test_the_gain_gets_a_gradient_at_the_start(self):
        with tf.GradientTape() as tape:
            outputs = self.upgraded(self.images, self.weights)
            loss = tf.reduce_mean(tf.square(outputs - self.images))
        gradients = tape.gradient(loss, self.upgraded.skip_gain.trainable_variables)
        self.assertGreater(float(tf.reduce_max(tf.abs(gradients[0]))), 0.0)

    def test_the_upgraded_network_exports_and_its_signature_stylises_as_the_model(self):
        self.upgraded.skip_gain.bias.assign([0.5])  # A gain of 1.5: the skip is in the output.
        try:
            version_dir = export_lib.export_model(
                "style_transfer", self.upgraded, self.temp / "export", "skip"
            )
            loaded = tf.saved_model.load(str(version_dir))
            images = tf.cast(tf.round(self.images), tf.uint8)
            exported = loaded.signatures["stylize"](
                images=images, loss_weights=self.weights[:, :5]
            )["stylized"]
            expected = self.upgraded(tf.cast(images, tf.float32), self.weights)
            self.assertAllClose(tf.cast(exported, tf.float32), tf.round(expected), atol=1.0)
        finally:
            self.upgraded.skip_gain.bias.assign([-1.0])

    def test_a_snapshot_that_already_has_the_skip_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "already has input_skip=True"):
            upgrade_skip.upgrade(self.temp / "skip", self.temp / "again")

    def test_a_snapshot_of_another_task_is_refused(self):
        run_dir = golden_files.copy_run("beta_vae", self.temp / "vae_run")
        train_lib.write_snapshot(run_dir, self.temp / "vae", command="yoto-train")
        with self.assertRaisesRegex(ValueError, "only a style_transfer snapshot"):
            upgrade_skip.upgrade(self.temp / "vae", self.temp / "vae_skip")

    def test_the_command_line_writes_the_snapshot_and_names_a_missing_one(self):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            status = upgrade_skip.run(
                [f"--snapshot={self.snapshot}", f"--output={self.temp / 'cli'}"]
            )
        self.assertEqual(status, 0)
        self.assertIn("--init_from=", output.getvalue())
        self.assertTrue(snapshots.is_snapshot(self.temp / "cli"))
        errors = io.StringIO()
        with contextlib.redirect_stderr(errors):
            status = upgrade_skip.run(
                [f"--snapshot={self.temp / 'missing'}", f"--output={self.temp / 'none'}"]
            )
        self.assertEqual(status, 2)
        self.assertIn("missing", errors.getvalue())
        self.assertFalse((self.temp / "none").exists())
