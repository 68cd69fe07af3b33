import numpy as np
import tensorflow as tf

import yoto_tf
from tests.toy_models import SmoothRegressor, regression_data
from zoo.training import distribute

keras = tf.keras


def fitted(model, epochs=2, **fit_kwargs):
    x, y = regression_data()
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=False, **fit_kwargs)
    return model, history


class LossConditionalModelTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)

    def test_fit_tracks_every_term_and_the_total(self):
        _, history = fitted(SmoothRegressor(seed=1))
        self.assertEqual(set(history.history), {"loss", "fit", "smooth"})
        self.assertLess(history.history["fit"][-1], history.history["fit"][0])

    def test_evaluate_uses_the_evaluation_weights(self):
        model, _ = fitted(SmoothRegressor(seed=1))
        x, y = regression_data(64, seed=1)
        for smooth in (0.01, 1.0, 10.0):
            with self.subTest(smooth=smooth):
                model.set_evaluation_weights({"smooth": smooth})
                result = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
                self.assertAllClose(result["loss"], result["fit"] + smooth * result["smooth"])

    def test_train_step_minimises_the_weighted_sum_with_sampled_weights(self):
        model = SmoothRegressor(seed=3)
        x, y = regression_data(16)
        model.compile(optimizer=keras.optimizers.SGD(0.0))  # Measure the loss, change nothing.
        expected_weights = model.weight_sampler.sample(tf.random.Generator.from_seed(3), 16)
        terms = model.compute_loss_terms(x, y, expected_weights, training=True)
        expected_total = np.mean(terms["fit"] + expected_weights[:, 1] * terms["smooth"])
        logs = model.train_on_batch(x, y, return_dict=True)
        self.assertAllClose(logs["loss"], expected_total, rtol=1e-5)

    def test_predict_and_call_use_evaluation_weights_unless_given(self):
        model, _ = fitted(SmoothRegressor(seed=1), epochs=3)
        x, _ = regression_data(8)
        model.set_evaluation_weights({"smooth": 10.0})
        strong = model.predict(x, verbose=0)
        model.set_evaluation_weights({"smooth": 0.01})
        weak = model.predict(x, verbose=0)
        self.assertAllClose(weak, model(x))
        explicit = model(x, tf.tile([[1.0, 10.0]], [8, 1]))
        self.assertAllClose(strong, explicit, atol=1e-6)
        # The smoothness penalty shrinks predictions as its weight grows.
        self.assertLess(np.abs(strong).mean(), np.abs(weak).mean())

    def test_same_seed_trains_the_same_model(self):
        first, _ = fitted(SmoothRegressor(seed=5))
        keras.utils.set_random_seed(0)
        second, _ = fitted(SmoothRegressor(seed=5))
        for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
            self.assertAllClose(a, b)

    def test_constant_distribution_trains_the_fixed_weight_baseline(self):
        sampler = yoto_tf.WeightSampler(
            {"fit": yoto_tf.Constant(1.0), "smooth": yoto_tf.Constant(2.0)}
        )
        model, history = fitted(SmoothRegressor(sampler, seed=1))
        self.assertAllClose(
            history.history["loss"][-1],
            history.history["fit"][-1] + 2.0 * history.history["smooth"][-1],
            rtol=1e-4,
        )
        self.assertEqual(model.evaluation_weights, {"fit": 1.0, "smooth": 2.0})

    def test_sample_weights_weight_the_examples(self):
        model = SmoothRegressor(seed=1)
        model.compile(optimizer=keras.optimizers.SGD(0.0))
        x, y = regression_data(8)
        mask = np.array([1, 0, 0, 0, 0, 0, 0, 0], np.float32)
        masked = model.evaluate(x, y, sample_weight=mask, verbose=0, return_dict=True)
        first_only = model.evaluate(x[:1], y[:1], verbose=0, return_dict=True)
        self.assertAllClose(masked["fit"], first_only["fit"], rtol=1e-5)

    def test_missing_loss_term_is_a_clear_error(self):
        class Incomplete(SmoothRegressor):
            def compute_loss_terms(self, x, y, loss_weights, training):
                return {"fit": super().compute_loss_terms(x, y, loss_weights, training)["fit"]}

        with self.assertRaisesRegex(ValueError, "missing terms"):
            fitted(Incomplete(seed=1), epochs=1)

    def test_bad_evaluation_weights_are_refused(self):
        model = SmoothRegressor(seed=1)
        with self.assertRaisesRegex(ValueError, "Unknown loss terms"):
            model.set_evaluation_weights({"sharpness": 1.0})
        with self.assertRaisesRegex(ValueError, "finite"):
            model.set_evaluation_weights({"smooth": float("nan")})
        with self.assertRaisesRegex(ValueError, "Expected 2 loss weights"):
            model.set_evaluation_weights([1.0])

    def test_the_evaluation_weight_matrix_repeats_the_weights_with_named_ones_replaced(self):
        model = SmoothRegressor(seed=1, evaluation_weights={"smooth": 2.0})
        self.assertAllEqual(model.evaluation_weight_matrix(3), [[1.0, 2.0]] * 3)
        self.assertAllEqual(model.evaluation_weight_matrix(2, smooth=0.5), [[1.0, 0.5]] * 2)
        self.assertEqual(model.evaluation_weights, {"fit": 1.0, "smooth": 2.0})
        with self.assertRaisesRegex(ValueError, "Unknown loss terms"):
            model.evaluation_weight_matrix(1, sharpness=1.0)

    def test_evaluation_weights_default_to_the_middle_of_the_range(self):
        model = SmoothRegressor(seed=1)
        self.assertAllClose(model.evaluation_weights["smooth"], 0.316227766, rtol=1e-6)

    def test_weight_sum_terms_divide_the_objective_by_those_weights_only(self):
        x, y = regression_data(32)

        def one_sgd_step(**kwargs):
            keras.utils.set_random_seed(3)
            sampler = yoto_tf.WeightSampler(
                {"fit": yoto_tf.Constant(1.0), "smooth": yoto_tf.Constant(4.0)}
            )
            model = SmoothRegressor(sampler, **kwargs)
            model(x[:1])
            before = [v.numpy() for v in model.trainable_variables]
            model.compile(optimizer=keras.optimizers.SGD(0.01))
            model.train_step((tf.constant(x), tf.constant(y)))
            return [v.numpy() - b for v, b in zip(model.trainable_variables, before, strict=True)]

        plain = one_sgd_step()
        divided = one_sgd_step(weight_sum_power=1.0, weight_sum_terms=("smooth",))
        for a, b in zip(plain, divided, strict=True):
            self.assertAllClose(b, a / 4.0, atol=1e-7)
        with self.assertRaisesRegex(ValueError, "not loss terms"):
            SmoothRegressor(weight_sum_terms=("nope",))

    def test_auxiliary_terms_join_the_training_objective_after_the_weight_sum_division(self):
        class Anchored(SmoothRegressor):
            """SmoothRegressor plus an unweighted `anchor` term, 3 x smooth, in training."""

            def compute_loss_terms(self, x, y, loss_weights, training):
                terms = super().compute_loss_terms(x, y, loss_weights, training)
                if training:
                    terms["anchor"] = 3.0 * terms["smooth"]
                return terms

        x, y = regression_data(32)

        def one_sgd_step(model):
            model(x[:1])
            before = [v.numpy() for v in model.trainable_variables]
            model.compile(optimizer=keras.optimizers.SGD(0.01))
            logs = model.train_step((tf.constant(x), tf.constant(y)))
            steps = [v.numpy() - b for v, b in zip(model.trainable_variables, before, strict=True)]
            return logs, steps

        def constants(fit, smooth):
            return yoto_tf.WeightSampler(
                {"fit": yoto_tf.Constant(fit), "smooth": yoto_tf.Constant(smooth)}
            )

        keras.utils.set_random_seed(3)
        anchored = Anchored(constants(1.0, 4.0), weight_sum_power=1.0, auxiliary_terms=["anchor"])
        logs, steps = one_sgd_step(anchored)
        # (fit + 4 smooth) / 5 + 3 smooth is a plain model's 0.2 fit + 3.8 smooth (constant
        # weights leave the conditioning input at 0, so the two networks compute alike).
        keras.utils.set_random_seed(3)
        _, expected = one_sgd_step(SmoothRegressor(constants(0.2, 3.8)))
        for step, reference in zip(steps, expected, strict=True):
            self.assertAllClose(step, reference, atol=1e-6)
        self.assertIn("anchor", logs)
        results = anchored.evaluate(x, y, verbose=0, return_dict=True)
        self.assertEqual(set(results), {"loss", "fit", "smooth"})
        with self.assertRaisesRegex(ValueError, "clash"):
            SmoothRegressor(auxiliary_terms=("fit",))

    def test_model_config_round_trip(self):
        model = SmoothRegressor(seed=4, evaluation_weights={"smooth": 2.0})
        config = model.get_config()
        rebuilt = SmoothRegressor.from_config(config)
        self.assertEqual(rebuilt.get_config(), config)

    def test_a_subclass_with_its_own_arguments_is_told_to_return_them_from_get_config(self):
        class Sized(SmoothRegressor):
            def __init__(self, size):
                super().__init__()
                self.size = size

        with self.assertRaisesRegex(TypeError, "Sized cannot be rebuilt.*get_config"):
            Sized.from_config(Sized(3).get_config())

    def test_mirrored_strategy_on_two_logical_cpus_trains(self):
        # One strategy per process (zoo.distribute): a second one over the same devices
        # would reuse the first one's collective keys.
        strategy = distribute.make_strategy("mirrored")
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        with strategy.scope():
            model = SmoothRegressor(seed=1)
            model.compile(optimizer=keras.optimizers.Adam(0.01))
        x, y = regression_data()
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
        self.assertTrue(np.all(np.isfinite(history.history["loss"])))
        self.assertLess(history.history["fit"][-1], history.history["fit"][0])
        model.set_evaluation_weights({"smooth": 1.0})
        result = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
        self.assertAllClose(result["loss"], result["fit"] + result["smooth"], rtol=1e-5)

    def test_mirrored_loss_matches_single_device_loss_for_one_step(self):
        x, y = regression_data(32)
        sampler = yoto_tf.WeightSampler(
            {"fit": yoto_tf.Constant(1.0), "smooth": yoto_tf.Constant(1.0)}
        )
        keras.utils.set_random_seed(0)
        single = SmoothRegressor(sampler, seed=1)
        single.compile(optimizer=keras.optimizers.SGD(0.1))
        single(x[:1])
        with distribute.make_strategy("mirrored").scope():
            mirrored = SmoothRegressor(sampler, seed=1)
            mirrored.compile(optimizer=keras.optimizers.SGD(0.1))
            mirrored(x[:1])
        mirrored.set_weights(single.get_weights())
        single.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        mirrored.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        # Same global batch and fixed weights: one SGD step gives the same parameters.
        for a, b in zip(single.get_weights(), mirrored.get_weights(), strict=True):
            self.assertAllClose(a, b, atol=1e-5)


if __name__ == "__main__":
    tf.test.main()
