"""Style transfer with a random loss network (nothing here judges style quality)."""

import contextlib
import dataclasses
import io
import pathlib
import tempfile

import h5py
import numpy as np
import pytest
import tensorflow as tf

import yoto_tf
from export import export_lib
from tests import session_bundle
from zoo import loading
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import model as style_transfer
from zoo.style_transfer import vgg
from zoo.training import train_lib

keras = tf.keras


class StyleTransferModelTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        cls.config = style_config.Config.runlocal()
        cls.model = style_transfer.build_model(cls.config)
        cls.model.compile(optimizer=style_transfer.optimizer(cls.config))
        cls.history = cls.model.fit(
            style_data.train_dataset(cls.config, seed=0), steps_per_epoch=2, epochs=1, verbose=0
        )
        cls.base = pathlib.Path(tempfile.mkdtemp())
        cls.version_dir = export_lib.export_model(
            "style_transfer", cls.model, cls.base, "style", max_pixels=64 * 64
        )
        cls.loaded = tf.saved_model.load(str(cls.version_dir))
        cls.images = tf.constant(style_data.evaluation_images(2, size=32))
        cls.servable_dirs = (cls.version_dir,)

    def test_training_tracks_content_four_styles_and_tv(self):
        self.assertEqual(
            set(self.history.history),
            {"loss", "content", "style_1", "style_2", "style_3", "style_4", "tv"},
        )
        for values in self.history.history.values():
            self.assertTrue(np.all(np.isfinite(values)))

    def test_the_weight_sum_power_divides_by_the_content_and_style_weights_only(self):
        self.assertEqual(self.model.weight_sum_power, 0.5)
        self.assertEqual(self.model.weight_sum_terms, style_config.CONDITIONED_TERMS)
        config = dataclasses.replace(self.config, weight_sum_power=0.0)
        self.assertEqual(style_transfer.build_model(config).weight_sum_power, 0.0)

    def test_summed_style_layers_share_one_scale_and_still_score_about_one(self):
        config = dataclasses.replace(self.config, style_layer_balance="summed")
        network, grams = self.model.loss_network, self.model.style_grams
        _, factors = style_transfer.term_scales(config, network, grams)
        for layer in style_config.STYLE_LAYERS:
            self.assertAllEqual(factors[layer], factors[style_config.STYLE_LAYERS[0]])
        crops = next(iter(style_data.train_dataset(dataclasses.replace(config, batch_size=8), 0)))
        features = style_transfer.loss_features(network, crops)
        terms = style_transfer.style_terms(features, grams, factors)
        self.assertAllClose(tf.reduce_mean(terms, axis=0), [1.0] * 4, rtol=1e-4)

    def test_an_unknown_style_layer_balance_is_refused_with_the_choices(self):
        with self.assertRaisesRegex(ValueError, "per_layer.*summed.*'mean'"):
            dataclasses.replace(self.config, style_layer_balance="mean")

    def test_terms_are_scaled_to_about_one_for_the_content_crops_themselves(self):
        config = dataclasses.replace(self.config, batch_size=8)
        crops = next(iter(style_data.train_dataset(config, seed=0)))
        features = self.model.loss_network(vgg.preprocess(tf.cast(crops, tf.float32)))
        terms = style_transfer.style_terms(
            features, self.model.style_grams, self.model.style_layer_factors
        )
        self.assertAllClose(tf.reduce_mean(terms, axis=0), [1.0] * 4, rtol=1e-4)
        # Per layer too: every style layer has the same say, a quarter each.
        distances = style_transfer.style_layer_distances(features, self.model.style_grams)
        for layer in style_config.STYLE_LAYERS:
            share = tf.reduce_mean(distances[layer], 0) * self.model.style_layer_factors[layer]
            self.assertAllClose(share, [0.25] * 4, rtol=1e-4, msg=layer)

    def test_stylize_takes_five_weights_per_image_and_keeps_the_size(self):
        weights = tf.constant([[1.0, 1.0, 0, 0, 0], [0.5, 0.25, 0.25, 0.25, 0.25]])
        stylized = self.loaded.signatures["stylize"](images=self.images, loss_weights=weights)
        self.assertEqual(stylized["stylized"].shape, (2, 32, 32, 3))
        self.assertEqual(stylized["stylized"].dtype, tf.uint8)
        full = tf.concat([weights, tf.fill([2, 1], self.config.tv_weight)], 1)
        expected = self.model(tf.cast(self.images, tf.float32), full)
        # Within one level: the graph and eager computations differ in the last float bits,
        # which moves a value sitting at .5 to the other side of the rounding.
        self.assertAllClose(
            tf.cast(stylized["stylized"], tf.float32),
            tf.clip_by_value(tf.round(expected), 0, 255),
            atol=1.0,
            rtol=0,
        )
        terms = self.loaded.signatures["loss_terms"](images=self.images, loss_weights=weights)
        self.assertEqual(set(terms), set(style_config.TERM_NAMES))

    def test_bad_weights_and_images_are_refused_naming_the_input(self):
        stylize = self.loaded.signatures["stylize"]
        good = tf.constant([[1.0, 1.0, 0, 0, 0]])
        cases = {
            "with 5 columns": (self.images[:1], tf.constant([[1.0, 1.0, 0, 0]])),
            "must be >= 0": (self.images[:1], tf.constant([[1.0, -1.0, 1.0, 0, 0]])),
            "must be finite": (self.images[:1], tf.constant([[np.nan, 1.0, 0, 0, 0]])),
            "all zeros is no style": (self.images[:1], tf.constant([[1.0, 0, 0, 0, 0]])),
            "trained ranges": (self.images[:1], tf.constant([[50.0, 1.0, 0, 0, 0]])),
            "3 channels": (tf.zeros([1, 32, 32, 1], tf.uint8), good),
            "one row each": (self.images, good),
            "pixel limit": (tf.zeros([1, 128, 128, 3], tf.uint8), good),
            "positive multiples of 4": (tf.zeros([1, 32, 30, 3], tf.uint8), good),
        }
        for message, (images, weights) in cases.items():
            with self.subTest(message):
                with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
                    stylize(images=images, loss_weights=weights)

    def test_a_model_server_session_refuses_bad_shapes_naming_the_input(self):
        # No shape check before the graph, as in TF Serving: the graph's checks must name them.
        bundle = session_bundle.SessionBundle(self.version_dir)
        self.addCleanup(bundle.close)
        images, weights = self.images.numpy(), np.float32([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0]])
        images_message = r"images must be \[N, height, width, 3\]"
        weights_message = r"loss_weights must be \[N, 5\]"
        cases = {
            "images of rank 3": ({"images": images[0]}, images_message),
            "images of 4 channels": ({"images": images[..., [0, 1, 2, 2]]}, images_message),
            "weights of rank 1": ({"loss_weights": weights[0]}, weights_message),
            "weights of rank 3": ({"loss_weights": weights[None]}, weights_message),
            "a scalar weight": ({"loss_weights": np.float32(1)}, weights_message),
            "weights of 4 columns": ({"loss_weights": weights[:, :4]}, weights_message),
            "one row too few": ({"loss_weights": weights[:1]}, "need one row each"),
        }
        for signature in ("stylize", "loss_terms"):
            for case, (bad, message) in cases.items():
                inputs = {"images": images, "loss_weights": weights, **bad}
                with (
                    self.subTest(signature=signature, case=case),
                    self.assertRaisesRegex(tf.errors.InvalidArgumentError, message),
                ):
                    bundle.run(signature, inputs)

    # Slow: a second training run through the binary.
    @pytest.mark.slow
    def test_a_fixed_weight_baseline_trains_through_the_same_binary(self):
        root = pathlib.Path(tempfile.mkdtemp())
        overrides = {"fixed_weights": (1.0, 1.0, 0.0, 0.0, 0.0)}
        model = train_lib.train(
            "style_transfer", root, steps=1, config_overrides=overrides, runlocal=True, verbose=0
        )
        self.assertEqual(model.weight_sampler.bounds()[0][:5], [1.0, 1.0, 0.0, 0.0, 0.0])
        restored, config, _ = loading.restore_model(root)
        self.assertEqual(tuple(config.fixed_weights), (1.0, 1.0, 0.0, 0.0, 0.0))
        from zoo.style_transfer import stylizer as style_lib

        styles = style_lib.Stylizer.load(root).styles  # From the training dir, not an export.
        self.assertEqual([name for name, _ in styles], ["brick", "grass", "gravel", "retina"])
        for (_, image), original in zip(styles, style_data.load_style_images(config), strict=True):
            self.assertAllEqual(image, original)
        with self.assertRaisesRegex(ValueError, "fixed_weights needs 5 values"):
            style_config.Config(fixed_weights=(1.0, 2.0)).weight_sampler()
        del restored

    def test_stylize_command_writes_a_png_and_refuses_bad_weights(self):
        from PIL import Image

        from zoo.style_transfer import stylize_cli

        root = pathlib.Path(tempfile.mkdtemp())
        Image.fromarray(style_data.evaluation_images(1, size=30)[0]).save(root / "in.png")
        args = [f"--model={self.version_dir}", str(root / "in.png")]
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            status = stylize_cli.run(["--weights=1,0.5,0,0,0.5", *args, str(root / "out.png")])
        self.assertEqual(status, 0)
        self.assertIn("content 1, brick 0.5, grass 0, gravel 0, retina 0.5", printed.getvalue())
        self.assertEqual(np.asarray(Image.open(root / "out.png")).shape, (30, 30, 3))
        for name, weights in {
            "short": "1,1,0,0",
            "negative": "1,-1,0,0,0",
            "zero": "1,0,0,0,0",
        }.items():
            with self.subTest(name):
                output = root / f"{name}.png"
                self.assertEqual(stylize_cli.run([f"--weights={weights}", *args, str(output)]), 2)
                self.assertFalse(output.exists())

    def test_the_export_names_each_style_and_carries_its_image(self):
        from export import layout
        from zoo.style_transfer import stylizer as style_lib

        metadata = layout.read_metadata(self.version_dir)
        self.assertEqual(
            metadata["styles"],
            {"style_1": "brick", "style_2": "grass", "style_3": "gravel", "style_4": "retina"},
        )
        styles = style_lib.Stylizer.load(self.version_dir).styles
        expected = style_data.load_style_images(self.config)
        self.assertEqual([name for name, _ in styles], ["brick", "grass", "gravel", "retina"])
        for (_, image), original in zip(styles, expected, strict=True):
            self.assertAllEqual(image, original)  # PNG is lossless.

    # Two more exports of a style model; the class's export covers the exported styles.
    @pytest.mark.slow
    def test_a_moved_style_folder_still_exports_without_the_style_images(self):
        folder = pathlib.Path(tempfile.mkdtemp()) / "styles"
        folder.mkdir()
        for index, name in enumerate(["ink", "oil", "pencil", "water"]):
            pixels = np.full([64, 64, 3], 40 * index, np.uint8)
            tf.io.write_file(str(folder / f"{name}.png"), tf.io.encode_png(pixels))
        config = dataclasses.replace(self.config, style_folder=str(folder))
        model = style_transfer.build_model(config)
        with_folder = export_lib.export_model("style_transfer", model, self.base, "own_styles")
        from zoo.style_transfer import stylizer as style_lib

        recorded = style_lib.exported_styles(with_folder)
        self.assertEqual([name for name, _ in recorded], ["ink", "oil", "pencil", "water"])
        side = config.style_size
        self.assertAllEqual(recorded[2][1], np.full([side, side, 3], 80, np.uint8))
        (with_folder / "assets.extra" / "styles" / "style_2.png").write_bytes(b"\x89PNG broken")
        self.assertEqual(style_lib.exported_styles(with_folder)[1][0], "oil")
        self.assertIsNone(style_lib.exported_styles(with_folder)[1][1])
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        with self.assertWarnsRegex(UserWarning, "will not include its style images"):
            moved = export_lib.export_model("style_transfer", model, self.base, "own_styles")
        self.assertEqual(style_lib.exported_styles(moved), [(None, None)] * 4)
        self.assertTrue((moved / "saved_model.pb").is_file())

    def test_the_evaluation_renders_a_grid_and_sweeps_every_weight(self):
        from zoo.style_transfer import style_eval_lib
        from zoo.style_transfer import stylizer as style_lib

        stylizer = style_lib.Stylizer.load(self.version_dir)
        path = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
        style_eval_lib.render_grid(stylizer, self.images.numpy()[0], [0.1, 10.0], 1.0, path)
        self.assertTrue(path.is_file())
        sweeps = style_eval_lib.sweeps([0.1, 10.0], [0.1, 1.0, 10.0], content=1.0, strength=1.0)
        self.assertEqual(set(sweeps), {"content", *style_config.STYLE_TERMS})
        self.assertEqual(sweeps["style_3"][2], [1.0, 0.0, 0.0, 10.0, 0.0])
        rows = style_eval_lib.evaluate_sweeps(stylizer, self.images.numpy(), sweeps)
        self.assertLen(rows, 2 + 4 * 3)
        comparison = style_eval_lib.parse_comparison(f"self={self.version_dir}@1,1,0,0,0")
        compared = style_eval_lib.compare_fixed(stylizer, self.images.numpy(), [comparison])
        self.assertEqual(compared[-1]["term"], "total")
        self.assertAllClose([r["ratio"] for r in compared], [1.0] * len(compared))
        with self.assertRaisesRegex(ValueError, "LABEL=PATH@"):
            style_eval_lib.parse_comparison("no-at-sign")
        falling = [{"sweep": "content", "content": v} for v in (3.0, 2.0, 1.0)]
        self.assertTrue(style_eval_lib.falls_monotonically(falling, "content"))
        self.assertFalse(style_eval_lib.falls_monotonically(falling[::-1], "content"))


class ColourCheckTest(tf.test.TestCase):
    def test_the_colour_check_measures_how_far_the_outputs_mean_colour_moved(self):
        from zoo.style_transfer import style_eval_lib

        rng = np.random.default_rng(5)
        photo = rng.integers(30, 200, (16, 24, 3)).astype(np.uint8)
        tint = np.array([12.0, -9.0, 0.0])

        class Tinting:
            """Returns the photograph tinted and its contrast halved, whatever the weights."""

            def __init__(self):
                self.vectors = []

            def stylize(self, image, weights):
                self.vectors.append(list(weights))
                mean = image.mean(axis=(0, 1))
                return (image - mean) / 2 + mean + tint

        stylizer = Tinting()
        errors = style_eval_lib.colour_errors(stylizer, [photo, photo[::-1]], content=10.0)
        self.assertAllClose(errors, [15.0] * 8, atol=1e-9)  # |(12, -9, 0)| for 4 styles x 2.
        self.assertEqual(stylizer.vectors[0], [10.0, 1.0, 0.0, 0.0, 0.0])
        self.assertEqual(stylizer.vectors[-1], [10.0, 0.0, 0.0, 0.0, 1.0])
        error, contrast = style_eval_lib.colour_statistics(stylizer.stylize(photo, [1] * 5), photo)
        self.assertAlmostEqual(error, 15.0, places=9)
        self.assertAlmostEqual(contrast, 0.5, places=9)
        self.assertEqual(style_eval_lib.colour_statistics(photo, photo), (0.0, 1.0))


class TransformNetworkTest(tf.test.TestCase):
    def test_the_folded_conditional_instance_norm_equals_norm_then_film(self):
        keras.utils.set_random_seed(0)
        features = tf.random.normal([3, 8, 8, 5]) * 4.0 + 2.0
        conditioning = tf.random.normal([3, 7])
        film = yoto_tf.FiLM(scale=1.0)
        mean, variance = tf.nn.moments(features, axes=[1, 2], keepdims=True)
        expected = film((features - mean) * tf.math.rsqrt(variance + 1e-5), conditioning)
        norm = style_transfer._InstanceNorm()
        folded = norm(features, *film.modulation(conditioning))
        self.assertAllClose(folded, expected, atol=1e-5)
        # One image takes the fused kernel: the same numbers.
        gamma, beta = film.modulation(conditioning[:1])
        self.assertAllClose(norm(features[:1], gamma, beta), expected[:1], atol=1e-5)

    def test_widths_set_each_blocks_channels_and_bad_ones_are_refused(self):
        config = dataclasses.replace(style_config.Config.runlocal(), widths=(6, 5, 4, 3, 2))
        model = style_transfer.build_model(config)
        images = tf.zeros([1, 16, 16, 3])
        self.assertAllEqual(model(images).shape, [1, 16, 16, 3])
        channels = [block.conv.filters for block in (*model.down, *model.up)]
        self.assertEqual(channels, [6, 5, 4, 3, 2])
        self.assertEqual(model.residual[0].first.conv.filters, 4)
        self.assertEqual(model.output_conv.kernel_size, (9, 9))
        with self.assertRaisesRegex(ValueError, "widths needs 5 positive channel counts"):
            style_transfer.build_model(dataclasses.replace(config, widths=(4, 4, 4)))

    def test_input_stride_2_strides_the_first_conv_and_keeps_one_strided_block_after_it(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(), input_stride=2, widths=(6, 5, 4, 3), output_kernel=3
        )
        model = style_transfer.build_model(config)
        self.assertAllEqual(model(tf.zeros([1, 16, 16, 3])).shape, [1, 16, 16, 3])
        self.assertEqual([block.conv.strides for block in model.down], [(2, 2), (2, 2)])
        self.assertEqual([block.conv.filters for block in (*model.down, *model.up)], [6, 5, 4, 3])
        self.assertEqual(model.residual[0].first.conv.filters, 5)
        self.assertEqual(model.output_conv.kernel_size, (3, 3))
        with self.assertRaisesRegex(ValueError, "widths needs 4 positive channel counts"):
            style_transfer.build_model(dataclasses.replace(config, widths=(6, 5, 4, 3, 2)))
        with self.assertRaisesRegex(ValueError, "input_stride must be 1 or 2"):
            style_transfer.build_model(dataclasses.replace(config, input_stride=4))

    def test_a_subpixel_output_leaves_out_the_full_resolution_block(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(),
            input_stride=2,
            widths=(6, 5, 4),
            output_kernel=3,
            output_upsampling="subpixel",
        )
        model = style_transfer.build_model(config)
        images = tf.random.stateless_uniform([2, 16, 24, 3], [0, 1], 0.0, 255.0)
        stylized = model(images)
        self.assertAllEqual(stylized.shape, [2, 16, 24, 3])
        self.assertEqual([block.conv.filters for block in (*model.down, *model.up)], [6, 5, 4])
        self.assertEqual(model.output_conv.filters, 12)
        self.assertAllInRange(stylized, 0.0, 255.0)
        with self.assertRaisesRegex(ValueError, "widths needs 3 positive channel counts"):
            style_transfer.build_model(dataclasses.replace(config, widths=(6, 5, 4, 3)))
        with self.assertRaisesRegex(ValueError, "output_upsampling must be one of"):
            dataclasses.replace(config, output_upsampling="bilinear")

    def test_an_input_skip_makes_a_zero_output_conv_return_the_photograph(self):
        config = dataclasses.replace(style_config.Config.runlocal(), input_skip=True)
        model = style_transfer.build_model(config)
        for variable in model.output_conv.variables:
            variable.assign(tf.zeros_like(variable))
        images = tf.random.stateless_uniform([2, 16, 16, 3], [0, 2], 0.0, 255.0)
        images = tf.concat([images, tf.zeros([1, 16, 16, 3]), tf.fill([1, 16, 16, 3], 255.0)], 0)
        # Black and white pass within the half level that keeps their logits finite.
        self.assertAllClose(model(images), tf.clip_by_value(images, 0.5, 254.5), atol=1e-3)
        without_skip = style_transfer.build_model(style_config.Config.runlocal())
        for variable in without_skip.output_conv.variables:
            variable.assign(tf.zeros_like(variable))
        self.assertAllClose(without_skip(images), tf.fill(images.shape, 127.5))

    def test_a_conditioned_skip_starts_at_full_strength_and_its_gain_follows_the_weights(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(), input_skip=True, conditioned_skip=True
        )
        model = style_transfer.build_model(config)
        for variable in model.output_conv.variables:
            variable.assign(tf.zeros_like(variable))
        images = tf.random.stateless_uniform([2, 16, 16, 3], [0, 4], 1.0, 254.0)
        self.assertAllClose(model(images), images, atol=1e-3)  # Gain 1 at the start.
        model.skip_gain.kernel.assign(tf.ones_like(model.skip_gain.kernel))
        weights = tf.constant(
            [[10.0, 0.1, 0, 0, 0, config.tv_weight], [0.1, 10.0, 0, 0, 0, config.tv_weight]]
        )
        outputs = model(images, weights)
        self.assertNotAllClose(outputs, images)
        # One gain per image, from its own weights: the two images move apart differently.
        distance = tf.reduce_mean(tf.abs(outputs - images), axis=[1, 2, 3])
        self.assertGreater(abs(float(distance[0] - distance[1])), 1e-3)
        with self.assertRaisesRegex(ValueError, "conditioned_skip needs conditioned=True"):
            style_transfer.build_model(dataclasses.replace(config, conditioned=False))

    def test_a_conditioned_skip_can_start_without_the_photograph(self):
        config = dataclasses.replace(
            style_config.Config.runlocal(),
            input_skip=True,
            conditioned_skip=True,
            skip_gain_start=0.0,
        )
        model = style_transfer.build_model(config)
        for variable in model.output_conv.variables:
            variable.assign(tf.zeros_like(variable))
        images = tf.random.stateless_uniform([2, 16, 16, 3], [0, 5], 1.0, 254.0)
        # Gain 0 at every weight vector: a zero output conv gives mid-grey, not the photograph.
        self.assertAllClose(model(images), tf.fill(images.shape, 127.5), atol=1e-3)
        for bad in (float("nan"), -0.5):
            with self.assertRaisesRegex(ValueError, "skip_gain_start must be a finite number"):
                dataclasses.replace(config, skip_gain_start=bad)

    def test_an_unnormalised_first_block_passes_the_photographs_mean_colour_on(self):
        """Two photographs that differ only by a constant colour: after a normalised first
        block their features differ only through the zero padding at the borders (which
        moves the statistics), after an unnormalised one by far more."""
        photograph = tf.random.stateless_uniform([1, 64, 64, 3], [0, 3], 40.0, 160.0)
        tinted = photograph + tf.constant([60.0, 20.0, 0.0])
        differences = {}
        for normalize in (True, False):
            config = dataclasses.replace(
                style_config.Config.runlocal(), normalize_first_block=normalize
            )
            model = style_transfer.build_model(config)
            first = model.down[0]
            self.assertEqual(first.norm is not None, normalize)
            self.assertEqual(first.conv.use_bias, not normalize)
            conditioning = model.conditioning(model.evaluation_weight_matrix(1))
            features = [first(x / 127.5 - 1.0, conditioning) for x in (photograph, tinted)]
            inside = tf.abs(features[0] - features[1])[:, 8:-8, 8:-8]
            differences[normalize] = float(tf.reduce_mean(inside) / tf.reduce_mean(features[0]))
        self.assertGreater(differences[False], 10 * differences[True], differences)

    def test_default_widths_follow_the_input_stride(self):
        config = dataclasses.replace(style_config.Config(), filters=32)
        self.assertEqual(
            dataclasses.replace(config, input_stride=1).block_widths(), (32, 64, 128, 64, 32)
        )
        self.assertEqual(
            dataclasses.replace(config, input_stride=2).block_widths(), (32, 48, 32, 16)
        )
        subpixel = dataclasses.replace(config, input_stride=2, output_upsampling="subpixel")
        self.assertEqual(subpixel.block_widths(), (32, 48, 32))


class LossNetworkTest(tf.test.TestCase):
    def test_every_bundled_style_names_a_readable_colour_image_in_a_wheel(self):
        for name in style_config.BUNDLED_STYLES:
            config = dataclasses.replace(style_config.Config.runlocal(), styles=(name,) * 4)
            (_, image), *_ = style_data.named_style_images(config)
            self.assertEqual(image.dtype, np.uint8, name)
            self.assertEqual(image.shape[2], 3, name)
            self.assertEqual(min(image.shape[:2]), config.style_size, name)

    def test_hed_weights_load_into_the_vgg16_conv_stack(self):
        network = vgg.loss_network(["block1_conv1"])
        with h5py.File(vgg.hed_weights_path(), "r") as weights_file:
            kernel = weights_file["block1/layers/conv2d/vars/0"][()]
        self.assertAllEqual(network.get_layer("block1_conv1").kernel.numpy(), kernel)
        self.assertFalse(network.trainable)

    def test_keras_notop_files_of_vgg16_and_vgg19_are_accepted(self):
        for application, depth in ((keras.applications.VGG16, 16), (keras.applications.VGG19, 19)):
            with self.subTest(depth=depth):
                keras.utils.set_random_seed(depth)
                source = application(weights=None, include_top=False)
                path = pathlib.Path(tempfile.mkdtemp()) / f"vgg{depth}_notop.h5"
                source.save_weights(str(path))
                network = vgg.loss_network(["block4_conv1"], weights_path=path)
                self.assertEqual(network.name, f"vgg{depth}_loss_network")
                self.assertAllEqual(
                    network.get_layer("block4_conv1").kernel.numpy(),
                    source.get_layer("block4_conv1").kernel.numpy(),
                )

    def test_missing_or_mismatched_weight_files_are_refused_with_their_name(self):
        root = pathlib.Path(tempfile.mkdtemp())
        with self.assertRaisesRegex(FileNotFoundError, "nope.h5 does not exist"):
            vgg.loss_network(["block1_conv1"], weights_path=root / "nope.h5")
        (root / "text.h5").write_text("not hdf5")
        with self.assertRaisesRegex(ValueError, "not a readable HDF5"):
            vgg.loss_network(["block1_conv1"], weights_path=root / "text.h5")
        small = keras.Sequential(
            [keras.Input([None, None, 3]), keras.layers.Conv2D(8, 3, name="block1_conv1")]
        )
        small.save_weights(str(root / "small.h5"))
        with self.assertRaisesRegex(ValueError, "does not hold a VGG16 conv stack"):
            vgg.loss_network(["block1_conv1"], weights_path=root / "small.h5")
