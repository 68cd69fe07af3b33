import contextlib
import dataclasses
import io
import pathlib
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tests import golden_files
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.compression import integer_network, upgrade_entropy_model
from zoo.compression import model as compression
from zoo.loading import snapshots
from zoo.training import train_lib

LAMBDAS = tf.constant([0.0018, 0.05])


def _tiny(entropy_model, **changes):
    return dataclasses.replace(
        compression_config.Config.runlocal(),
        entropy_model=entropy_model,
        context_slices=4,
        context_filters=8,
        **changes,
    )


def _zero_started_heads(model):
    """The kernels of the mean head and of each context network's output layer."""
    heads = [model.hyper_synthesis.mean_conv.kernel]
    return heads + [context.convs[-1].kernel for context in model.slice_contexts]


def _with_working_heads(model, seed):
    """Gives the zero-started mean head and context outputs seeded values, as training would."""
    for index, variable in enumerate(_zero_started_heads(model)):
        variable.assign(tf.random.stateless_normal(variable.shape, [seed, index], stddev=0.2))
    model.prepare_for_coding()
    return model


class UpgradedCodecTest(tf.test.TestCase):
    """A scale codec's snapshot upgraded to means and context codes exactly as before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.temp = pathlib.Path(tempfile.mkdtemp())
        # The recorded tiny run (tests/golden): restoring it costs no training.
        run_dir = golden_files.copy_run("compression", cls.temp / "run")
        cls.snapshot = cls.temp / "snapshot"
        train_lib.write_snapshot(run_dir, cls.snapshot, command="yoto-train")
        cls.images = tf.constant(compression_data.evaluation_images(2)[0][None, :128, :128])
        cls.images = tf.concat([cls.images, cls.images[:, ::-1]], axis=0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.temp, ignore_errors=True)
        super().tearDownClass()

    def test_zero_started_means_and_context_code_the_same_symbols_and_indexes(self):
        original, upgraded = upgrade_entropy_model.upgrade(
            self.snapshot, self.temp / "context", "channel_context", context_slices=4
        )  # new_parts="zero", the function's default.
        before = original.coding_symbols(self.images, LAMBDAS)
        after = upgraded.coding_symbols(self.images, LAMBDAS)
        for name in ("latent_symbols", "side_symbols", "scale_indexes"):
            self.assertAllEqual(after[name], before[name], msg=name)
        self.assertEqual(upgraded.coding_architecture(), "channel_context/4")
        self.assertTrue(upgraded.hyper_analysis.signed)  # Means need the signs of y.
        terms = [
            model.coded_terms(self.images, *model.latents(self.images, LAMBDAS), LAMBDAS)
            for model in (original, upgraded)
        ]
        self.assertAllClose(terms[1]["rate"], terms[0]["rate"], rtol=1e-6)
        self.assertAllEqual(terms[1]["reconstruction"], terms[0]["reconstruction"])
        metadata = snapshots.read_metadata(self.temp / "context")
        self.assertEqual(metadata["config"]["entropy_model"], "channel_context")

    def test_small_random_new_parts_code_nearly_as_before_and_can_learn(self):
        original, upgraded = upgrade_entropy_model.upgrade(
            self.snapshot, self.temp / "small", "channel_context", new_parts="small"
        )
        for layer in [upgraded.hyper_synthesis.mean_conv, upgraded.slice_contexts[0].convs[-1]]:
            self.assertGreater(float(tf.reduce_max(tf.abs(layer.kernel))), 0.0)
        terms = [
            model.coded_terms(self.images, *model.latents(self.images, LAMBDAS), LAMBDAS)
            for model in (original, upgraded)
        ]
        # The tiny recorded codec spends few bits: a tenth-size start moves them by little.
        self.assertAllClose(terms[1]["rate"], terms[0]["rate"], rtol=0.1)
        self.assertAllClose(terms[1]["distortion"], terms[0]["distortion"], rtol=0.05)

    def test_the_command_line_writes_the_upgrade_and_names_a_bad_snapshot(self):
        output, errors = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(output):
            status = upgrade_entropy_model.run(
                [
                    f"--snapshot={self.snapshot}",
                    "--entropy_model=mean_scale",
                    f"--output={self.temp / 'cli'}",
                ]
            )
        self.assertEqual(status, 0)
        self.assertIn("entropy_model=mean_scale; fine-tune it with", output.getvalue())
        with contextlib.redirect_stderr(errors):
            status = upgrade_entropy_model.run(
                [f"--snapshot={self.temp / 'cli'}", f"--output={self.temp / 'again'}"]
            )
        self.assertEqual(status, 2)
        self.assertIn("upgrade_entropy_model: error:", errors.getvalue())
        self.assertIn("already codes with entropy_model='mean_scale'", errors.getvalue())

    def test_a_snapshot_that_already_has_means_is_refused_by_name(self):
        upgrade_entropy_model.upgrade(self.snapshot, self.temp / "means", "mean_scale")
        with self.assertRaisesRegex(ValueError, "already codes with entropy_model='mean_scale'"):
            upgrade_entropy_model.upgrade(self.temp / "means", self.temp / "again", "mean_scale")


class MeanScaleCodingTest(tf.test.TestCase):
    """Means and context: what the coder writes is what the model computes, slice by slice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.models = {
            name: _with_working_heads(compression.build_model(_tiny(name)), seed)
            for seed, name in enumerate(("mean_scale", "channel_context"))
        }
        rng = np.random.default_rng(0)
        cls.images = tf.constant(rng.integers(0, 256, (2, 64, 128, 3), dtype=np.uint8))

    def test_decoding_the_strings_gives_the_models_rounded_reconstruction(self):
        for name, model in self.models.items():
            latent, side, _, side_shape = model.compress(self.images, LAMBDAS)
            self.assertEqual(latent.shape, (2, model.num_slices), msg=name)
            decoded = model.decompress(latent, side, LAMBDAS, side_shape)
            expected = model.quantized_reconstruction(self.images, LAMBDAS)
            self.assertAllEqual(decoded, expected, msg=name)

    def test_the_means_are_on_their_grid_and_move_the_quantization(self):
        model = self.models["mean_scale"]
        y, z = model.latents(self.images, LAMBDAS)
        _, side_model = model._coding_models  # noqa: SLF001
        raw, means = model.hyper_synthesis.parameters(side_model.quantize(z), LAMBDAS)
        means = means.numpy()
        self.assertEqual(means.dtype, np.float64)
        units = means * 2**integer_network.MEAN_FRACTION_BITS
        self.assertAllEqual(units, np.round(units))
        self.assertGreater(np.mean(means != np.round(means)), 0.5)
        symbols = model.coding_symbols(self.images, LAMBDAS)["latent_symbols"].numpy()
        self.assertAllEqual(symbols, np.round(y.numpy().astype(np.float64) - means))

    def test_a_client_decoding_slice_by_slice_gets_the_encoders_indexes(self):
        model = self.models["channel_context"]
        coded = model.coding_symbols(self.images, LAMBDAS)
        symbols, expected = coded["latent_symbols"].numpy(), coded["scale_indexes"].numpy()
        width = symbols.shape[-1] // model.num_slices
        decoded = np.zeros_like(symbols)
        for index in range(model.num_slices):
            channels = slice(index * width, (index + 1) * width)
            # What the client has: the slices before this one; the rest is still unknown.
            indexes = model.scale_indexes_from_side_symbols(
                coded["side_symbols"], LAMBDAS, tf.constant(decoded)
            ).numpy()
            self.assertAllEqual(indexes[..., channels], expected[..., channels])
            decoded[..., channels] = symbols[..., channels]
        images = model.synthesise_symbols(tf.constant(decoded), LAMBDAS, coded["side_symbols"])
        self.assertAllEqual(images, model.quantized_reconstruction(self.images, LAMBDAS))

    def test_the_context_changes_the_later_slices_parameters(self):
        model = self.models["channel_context"]
        coded = model.coding_symbols(self.images, LAMBDAS)
        side, symbols = coded["side_symbols"], coded["latent_symbols"].numpy()
        width = symbols.shape[-1] // model.num_slices
        changed = symbols.copy()
        changed[..., :width] += 3
        before = model.scale_indexes_from_side_symbols(side, LAMBDAS, tf.constant(symbols))
        after = model.scale_indexes_from_side_symbols(side, LAMBDAS, tf.constant(changed))
        self.assertAllEqual(after[..., :width], before[..., :width])
        self.assertNotAllEqual(after[..., width:], before[..., width:])

    def test_the_fingerprint_names_the_architecture_and_covers_the_context(self):
        mean_scale = self.models["mean_scale"].coding_fingerprint()
        context = self.models["channel_context"]
        before = context.coding_fingerprint()
        self.assertNotEqual(mean_scale, before)
        variable = context.slice_contexts[-1].convs[0].kernel
        variable.assign_add(tf.fill(variable.shape, 2.0**-10))
        self.assertNotEqual(context.coding_fingerprint(), before)
        variable.assign_sub(tf.fill(variable.shape, 2.0**-10))
        self.assertEqual(context.coding_fingerprint(), before)

    def test_training_reaches_the_mean_head_and_every_context_network(self):
        model = compression.build_model(_tiny("channel_context"))
        model.compile(optimizer=compression.optimizer(_tiny("channel_context")))
        images = tf.cast(self.images, tf.float32)
        with tf.GradientTape() as tape:
            terms = model.compute_loss_terms(
                images, None, compression_config.loss_weights(LAMBDAS), training=True
            )
            loss = tf.reduce_sum(terms["rate"] + LAMBDAS * terms["distortion"])
        heads = _zero_started_heads(model)
        self.assertLen(heads, model.num_slices)
        for index, gradient in enumerate(tape.gradient(loss, heads)):
            self.assertGreater(float(tf.reduce_max(tf.abs(gradient))), 0.0, msg=f"head {index}")

    def test_frozen_transforms_keep_their_weights_while_the_entropy_model_trains(self):
        config = _tiny("channel_context", frozen_transforms=True)
        tf.keras.utils.set_random_seed(3)
        model = compression.build_model(config)
        # Eager steps: tracing the context model for two tiny steps costs more than running them.
        model.compile(optimizer=compression.optimizer(config), run_eagerly=True)
        images = tf.cast(self.images, tf.float32)
        model(images)  # Builds every layer.
        frozen = [model.analysis, model.synthesis, model.conditioning]
        before = {id(v): v.numpy() for layer in frozen for v in layer.weights}
        entropy_before = [v.numpy() for v in model.trainable_variables]
        model.fit(images, epochs=2, batch_size=2, verbose=0)
        for layer in frozen:
            self.assertNotEmpty(layer.weights)
            for variable in layer.weights:
                self.assertAllEqual(variable.numpy(), before[id(variable)], msg=variable.name)
        moved = [
            not np.array_equal(variable.numpy(), old)
            for variable, old in zip(model.trainable_variables, entropy_before, strict=True)
        ]
        self.assertGreater(sum(moved), len(moved) // 2)
        names = {variable.name for variable in model.trainable_variables}
        self.assertTrue(any("hyper_analysis" in name for name in names), names)
        self.assertTrue(any("context" in name for name in names), names)


class EntropyModelConfigTest(tf.test.TestCase):
    def test_means_without_the_integer_hyper_synthesis_are_refused(self):
        with self.assertRaisesRegex(ValueError, "needs integer_entropy_parameters=True"):
            compression.build_model(_tiny("mean_scale", integer_entropy_parameters=False))

    def test_slices_that_do_not_divide_the_latents_are_refused(self):
        with self.assertRaisesRegex(ValueError, "context_slices must be at least 2 and divide"):
            compression.build_model(dataclasses.replace(_tiny("channel_context"), context_slices=3))

    def test_an_unknown_entropy_model_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "entropy_model must be one of"):
            compression.build_model(_tiny("checkerboard"))

    def test_a_context_network_too_wide_for_exact_sums_is_refused(self):
        # 1,024 inputs of a 3x3 conv under FiLM pass 2**53 units; the network itself is small.
        context = integer_network.IntegerSliceContext(8, 8, lmbda_range=(0.0018, 0.18))
        with self.assertRaisesRegex(ValueError, "too wide for exact float64 sums: conv_0 FiLM"):
            context.build((None, None, None, 1024))
        integer_network.IntegerSliceContext(8, 8, lmbda_range=(0.0018, 0.18)).build((1, 1, 1, 512))


if __name__ == "__main__":
    tf.test.main()
