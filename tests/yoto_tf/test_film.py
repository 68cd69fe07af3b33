import tensorflow as tf

import yoto_tf
from tests.layer_test_case import LayerTestCase

keras = tf.keras


class FiLMTest(LayerTestCase):
    def test_film_on_conv_features_passes_the_layer_checks(self):
        features = tf.random.stateless_normal([2, 5, 5, 3], seed=[0, 1])
        conditioning = tf.random.stateless_normal([2, 4], seed=[0, 2])
        self.run_layer_test(yoto_tf.FiLM, [features, conditioning], (2, 5, 5, 3))

    def test_film_on_dense_features_passes_the_layer_checks(self):
        features = tf.random.stateless_normal([3, 6], seed=[1, 1])
        conditioning = tf.random.stateless_normal([3, 2], seed=[1, 2])
        self.run_layer_test(yoto_tf.FiLM, [features, conditioning], (3, 6))

    def test_film_starts_near_identity(self):
        keras.utils.set_random_seed(0)
        features = tf.random.stateless_normal([4, 8, 8, 16], seed=[2, 1])
        conditioning = tf.random.stateless_normal([4, 32], seed=[2, 2])
        output = yoto_tf.FiLM()(features, conditioning)
        relative_change = tf.norm(output - features) / tf.norm(features)
        self.assertLess(float(relative_change), 0.5)
        self.assertGreater(float(relative_change), 0.0)

    def test_film_computes_features_times_one_plus_gamma_plus_beta(self):
        layer = yoto_tf.FiLM(scale=0.5)
        features = tf.constant([[[[1.0, 2.0]]], [[[3.0, 4.0]]]])  # [2, 1, 1, 2]
        conditioning = tf.constant([[1.0], [2.0]])
        layer(features, conditioning)
        # Heads kernel [1, 2C]: gamma columns then beta columns.
        layer.heads.set_weights(
            [tf.constant([[1.0, 0.0, 0.0, 2.0]]), tf.constant([0.0, 1.0, 1.0, 0.0])]
        )
        # gamma = 0.5 * [c, 1], beta = 0.5 * [1, 2c]
        expected = [[[[1 * 1.5 + 0.5, 2 * 1.5 + 1.0]]], [[[3 * 2.0 + 0.5, 4 * 1.5 + 2.0]]]]
        self.assertAllClose(layer(features, conditioning), expected)

    def test_each_example_gets_its_own_modulation(self):
        layer = yoto_tf.FiLM(scale=1.0)
        features = tf.ones([2, 3, 3, 4])
        conditioning = tf.constant([[1.0, 0.0], [0.0, 1.0]])
        output = layer(features, conditioning)
        self.assertNotAllClose(output[0], output[1])

    def test_gamma_and_beta_heads_start_different(self):
        layer = yoto_tf.FiLM()
        layer(tf.ones([1, 4]), tf.ones([1, 4]))
        gamma, beta = layer.modulation(tf.ones([1, 4]))
        self.assertNotAllClose(gamma, beta)

    def test_conditioning_of_wrong_rank_is_refused(self):
        with self.assertRaisesRegex(ValueError, r"\[batch, dim\]"):
            yoto_tf.FiLM()(tf.ones([2, 4]), tf.ones([2, 3, 1]))


class ConditioningMLPTest(LayerTestCase):
    def make_layer(self):
        return yoto_tf.ConditioningMLP([1.0, 0.125], [1.0, 512.0], units=8)

    def test_conditioning_mlp_passes_the_layer_checks(self):
        weights = tf.constant([[1.0, 0.125], [1.0, 8.0], [1.0, 512.0]])
        self.run_layer_test(self.make_layer, weights, (3, 8))

    def test_inputs_are_log_weights_scaled_to_about_unit_range(self):
        layer = self.make_layer()
        layer(tf.ones([1, 2]))
        dense = layer.hidden[0]
        dense.set_weights([tf.eye(2, 8), tf.zeros(8)])
        scaled = layer(tf.constant([[1.0, 0.125], [1.0, 8.0], [1.0, 512.0]]))
        # ReLU keeps the positive half: beta at the top of the range maps to +1, the middle to 0.
        self.assertAllClose(scaled[:, 1], [0.0, 0.0, 1.0], atol=1e-5)
        self.assertAllClose(scaled[:, 0], [0.0, 0.0, 0.0])

    def test_weight_vector_of_wrong_length_is_refused(self):
        with self.assertRaisesRegex(ValueError, "configured for 2 loss weights"):
            self.make_layer()(tf.ones([2, 3]))

    def test_zero_weights_from_a_dirichlet_stay_finite(self):
        layer = yoto_tf.ConditioningMLP([0.0, 0.0], [1.0, 1.0], units=4)
        self.assertAllInRange(layer(tf.constant([[0.0, 1.0]])), -1e6, 1e6)


if __name__ == "__main__":
    tf.test.main()
