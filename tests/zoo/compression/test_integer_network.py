import numpy as np
import tensorflow as tf

from zoo.compression import codec_format, integer_network

LMBDA_RANGE = (0.0018, 0.18)


def _network(num_filters=8, seed=0, spread=True):
    """An IntegerHyperSynthesis with seeded weights large enough to spread its indexes."""
    tf.keras.utils.set_random_seed(seed)
    network = integer_network.IntegerHyperSynthesis(
        num_filters, 12, 16, lmbda_range=LMBDA_RANGE, conditioning_units=8
    )
    network.build((None, None, None, num_filters))
    if spread:
        rng = np.random.default_rng(seed)
        for variable in network.trainable_variables:
            scale = 0.3 if "kernel" in variable.name else 2.0
            variable.assign(rng.normal(0, scale, variable.shape).astype(np.float32))
        network.convs[2].bias.assign(np.full([12], 7.5, np.float32))
    return network


def _symbols(seed=0, shape=(2, 3, 4, 8)):
    return tf.constant(np.random.default_rng(seed).integers(-6, 7, shape), tf.int32)


class IntegerHyperSynthesisTest(tf.test.TestCase):
    def test_exact_indexes_are_integers_in_the_table_and_spread_over_it(self):
        network = _network()
        indexes = network(_symbols(), tf.constant([0.0018, 0.18]), training=False).numpy()
        self.assertEqual(indexes.shape, (2, 12, 16, 12))
        self.assertAllEqual(indexes, np.floor(indexes))
        self.assertBetween(indexes.min(), 0, 15)
        self.assertBetween(indexes.max(), 0, 15)
        self.assertGreater(len(np.unique(indexes)), 8)

    def test_exact_indexes_do_not_depend_on_the_order_of_the_sums(self):
        # Permuting the input channels (and the kernel with them) reorders every sum of
        # the first layer; float32 sums would move in the last bit, exact ones cannot.
        network = _network()
        symbols = _symbols()
        lmbda = tf.constant([0.01, 0.05])
        expected = network(symbols, lmbda, training=False)
        permutation = np.random.default_rng(1).permutation(8)
        kernel = network.convs[0].kernel
        kernel.assign(tf.gather(kernel, permutation, axis=3))
        permuted = network(tf.gather(symbols, permutation, axis=3), lmbda, training=False)
        self.assertAllEqual(permuted, expected)

    def test_graph_and_eager_give_the_same_indexes(self):
        network = _network()
        symbols, lmbda = _symbols(), tf.constant([0.003, 0.1])
        traced = tf.function(lambda s, weight: network(s, weight, training=False))
        self.assertAllEqual(traced(symbols, lmbda), network(symbols, lmbda, training=False))

    def test_training_computes_the_same_network_in_float32(self):
        network = _network()
        symbols, lmbda = _symbols(), tf.constant([0.003, 0.1])
        raw = network(tf.cast(symbols, tf.float32), lmbda, training=True)
        exact = network(symbols, lmbda, training=False)
        self.assertEqual(raw.dtype, tf.float32)
        # Away from integer boundaries, flooring the float32 pass gives the exact indexes.
        clipped = np.clip(np.floor(raw.numpy()), 0, 15)
        margin = np.abs(raw.numpy() - np.round(raw.numpy())) > 1e-3
        self.assertAllEqual(clipped[margin], exact.numpy()[margin])

    def test_every_variable_receives_gradients_through_the_rounding(self):
        network = _network(spread=False)
        symbols = tf.cast(_symbols(), tf.float32) + 0.3
        with tf.GradientTape() as tape:
            raw = network(symbols, tf.constant([0.003, 0.1]), training=True)
            loss = tf.reduce_sum(tf.square(raw - 3.0))
        gradients = tape.gradient(loss, network.trainable_variables)
        self.assertLen(gradients, 10)
        for variable, gradient in zip(network.trainable_variables, gradients, strict=True):
            with self.subTest(variable=variable.name):
                self.assertIsNotNone(gradient)
                self.assertGreater(float(tf.reduce_max(tf.abs(gradient))), 0.0)

    def test_lambda_changes_the_indexes_through_the_levels_only(self):
        network = _network()
        symbols = _symbols(shape=(1, 3, 4, 8))
        low, high = LMBDA_RANGE
        grid = codec_format.level_lmbda(300, low, high)
        same_level = [grid, grid * (1 + 1e-4), grid * (1 - 1e-4)]
        indexes = [network(symbols, tf.constant([v]), training=False) for v in same_level]
        for other in indexes[1:]:
            self.assertAllEqual(other, indexes[0])
        far = network(symbols, tf.constant([high]), training=False)
        self.assertNotAllEqual(far, indexes[0])

    def test_a_network_too_wide_for_exact_sums_is_refused(self):
        # 813 filters is the narrowest width refused: conv_1's FiLM product may then reach
        # 2**53 grid units. (The layers are built before the check, so a much wider network
        # would first allocate gigabytes of kernels.)
        narrowest = integer_network.IntegerHyperSynthesis(813, 12, 64, lmbda_range=LMBDA_RANGE)
        with self.assertRaisesRegex(ValueError, "too wide for exact float64 sums: conv_1 FiLM"):
            narrowest.build((None, None, None, 8))
        widest = integer_network.IntegerHyperSynthesis(812, 12, 64, lmbda_range=LMBDA_RANGE)
        widest.build((None, None, None, 8))
        self.assertTrue(widest.built)

    def test_the_config_round_trips(self):
        network = _network(spread=False)
        rebuilt = integer_network.IntegerHyperSynthesis.from_config(network.get_config())
        self.assertEqual(rebuilt.get_config(), network.get_config())

    def test_integer_parameters_are_the_units_the_exact_path_uses(self):
        network = _network()
        kernel_units = network.integer_parameters()[0]
        quantized = integer_network.quantize(
            tf.cast(network.convs[0].kernel, tf.float64),
            integer_network.WEIGHT_FRACTION_BITS,
            -integer_network.WEIGHT_UNITS,
            integer_network.WEIGHT_UNITS,
            straight_through=False,
        )
        self.assertAllEqual(
            kernel_units, quantized.numpy() * 2**integer_network.WEIGHT_FRACTION_BITS
        )


class LambdaLevelTest(tf.test.TestCase):
    def test_grid_lambdas_round_trip_through_their_levels_in_python_and_in_the_graph(self):
        low, high = LMBDA_RANGE
        levels = np.arange(codec_format.LMBDA_LEVELS + 1)
        lmbdas = [codec_format.level_lmbda(int(q), low, high) for q in levels]
        self.assertEqual([codec_format.lmbda_level(v, low, high) for v in lmbdas], list(levels))
        graph_levels = integer_network.lmbda_level(tf.constant(lmbdas, tf.float32), low, high)
        self.assertAllEqual(graph_levels, levels)

    def test_snapping_moves_lambda_by_less_than_half_a_level(self):
        low, high = LMBDA_RANGE
        half_level = (high / low) ** (0.5 / codec_format.LMBDA_LEVELS)
        for lmbda in np.geomspace(low, high, 37):
            snapped = codec_format.snap_lmbda(lmbda, low, high)
            self.assertBetween(snapped / lmbda, 1 / half_level - 1e-6, half_level + 1e-6)
            self.assertEqual(codec_format.snap_lmbda(snapped, low, high), snapped)

    def test_a_fixed_lambda_range_has_one_level(self):
        self.assertEqual(codec_format.lmbda_level(0.01, 0.01, 0.01), 0)
        self.assertEqual(codec_format.snap_lmbda(0.01, 0.01, 0.01), np.float32(0.01))


if __name__ == "__main__":
    tf.test.main()
