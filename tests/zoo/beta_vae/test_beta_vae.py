import numpy as np
import tensorflow as tf

import yoto_tf
from zoo.beta_vae import config as vae_config
from zoo.beta_vae import data as vae_data
from zoo.beta_vae import model as beta_vae
from zoo.data import mnist as data

keras = tf.keras


def tiny_model(**overrides):
    config = vae_config.Config.runlocal()
    for name, value in overrides.items():
        setattr(config, name, value)
    return beta_vae.build_model(config, seed=0), config


class MnistDataTest(tf.test.TestCase):
    def test_mnist_splits_come_from_the_installed_wheel(self):
        for split, size in (("train", 50_000), ("validation", 10_000), ("test", 10_000)):
            with self.subTest(split):
                images = data.load_mnist(split)
                self.assertEqual(images.shape, (size, 28, 28, 1))
                self.assertEqual(images.dtype, np.float32)
                self.assertBetween(float(images.min()), 0.0, 0.0)
                self.assertBetween(float(images.max()), 0.9, 1.0)

    def test_unknown_split_is_refused(self):
        with self.assertRaisesRegex(ValueError, "Unknown MNIST split"):
            data.load_mnist("training")


class BetaVAETest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)
        self.images = data.load_mnist("test")[:8]

    def test_loss_terms_are_per_example_and_non_negative(self):
        model, _ = tiny_model()
        weights = tf.constant([[1.0, 0.5]] * 8)
        terms = model.compute_loss_terms(self.images, None, weights, training=True)
        self.assertEqual(set(terms), {"reconstruction", "kl"})
        for name, values in terms.items():
            with self.subTest(name):
                self.assertEqual(values.shape, (8,))
                self.assertAllGreaterEqual(values, 0.0)

    def test_evaluation_terms_are_deterministic(self):
        model, _ = tiny_model()
        weights = tf.constant([[1.0, 4.0]] * 8)
        first = model.compute_loss_terms(self.images, None, weights, training=False)
        second = model.compute_loss_terms(self.images, None, weights, training=False)
        self.assertAllEqual(first["reconstruction"], second["reconstruction"])

    def test_reconstructions_depend_on_beta(self):
        model, _ = tiny_model()
        low = model(self.images, tf.constant([[1.0, 0.125]] * 8))
        high = model(self.images, tf.constant([[1.0, 512.0]] * 8))
        self.assertEqual(low.shape, self.images.shape)
        self.assertAllInRange(low, 0.0, 1.0)
        self.assertNotAllClose(low, high)

    def test_a_few_training_steps_lower_the_loss(self):
        model, config = tiny_model()
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        dataset = vae_data.train_dataset(config, seed=0)
        history = model.fit(dataset, steps_per_epoch=30, epochs=2, verbose=0)
        self.assertLess(history.history["loss"][-1], history.history["loss"][0])

    def test_unconditioned_model_has_no_film_or_conditioning_weights(self):
        conditioned, _ = tiny_model()
        plain, _ = tiny_model(conditioned=False)
        names = [w.name for w in plain.weights]
        self.assertFalse([n for n in names if "fi_lm" in n or "conditioning" in n])
        self.assertLess(plain.count_params(), conditioned.count_params())
        weights = tf.constant([[1.0, 0.125]] * 8)
        self.assertAllClose(plain(self.images, weights), plain(self.images, weights * 100))

    def test_fixed_beta_config_trains_with_a_constant_weight(self):
        config = vae_config.Config.runlocal()
        config.fixed_beta = 4.0
        sampler = config.weight_sampler()
        self.assertEqual(sampler.distributions["kl"], yoto_tf.Constant(4.0))
        model = beta_vae.build_model(config)
        self.assertEqual(model.evaluation_weights["kl"], 4.0)

    def test_image_size_must_fit_the_strides(self):
        config = vae_config.Config.runlocal()
        with self.assertRaisesRegex(ValueError, "divisible by 4"):
            beta_vae.BetaVAE(config, image_shape=(30, 30, 1))

    def test_wrong_terms_are_refused(self):
        config = vae_config.Config.runlocal()
        config.weight_sampler = lambda: yoto_tf.WeightSampler({"kl": yoto_tf.Constant(1.0)})
        with self.assertRaisesRegex(ValueError, "needs loss terms"):
            beta_vae.BetaVAE(config)

    def test_the_model_is_built_from_its_config_and_rebuilt_from_get_config(self):
        config = vae_config.Config.runlocal()
        config.fixed_beta, config.weight_sum_power = 2.0, 0.25
        model = beta_vae.build_model(config, seed=3)
        self.assertIs(model.config, config)
        self.assertEqual((model.latent_dim, model.filters), (4, (4, 8)))
        self.assertEqual((model.weight_sum_power, model.evaluation_weights["kl"]), (0.25, 2.0))
        rebuilt = beta_vae.BetaVAE.from_config(model.get_config())
        self.assertEqual(rebuilt.config, config)
        self.assertEqual(rebuilt.get_config(), model.get_config())


if __name__ == "__main__":
    tf.test.main()
