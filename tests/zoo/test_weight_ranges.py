"""A weight is in its trained range the same way for numbers, arrays and tensors."""

import numpy as np
import tensorflow as tf

from zoo.weight_ranges import in_trained_range


class InTrainedRangeTest(tf.test.TestCase):
    def test_the_bounds_are_inside_and_a_float32_rounding_of_them_too(self):
        low, high = 0.0018, 0.18
        for weight in (low, high, float(np.float32(low)), float(np.float32(high)), 0.01):
            self.assertTrue(in_trained_range(weight, low, high), weight)

    def test_weights_beyond_the_rounding_slack_are_outside(self):
        for weight in (0.0018 * (1 - 1e-5), 0.18 * (1 + 1e-5), 0.0, 1.0):
            self.assertFalse(in_trained_range(weight, 0.0018, 0.18), weight)

    def test_arrays_and_tensors_are_tested_elementwise_against_per_column_bounds(self):
        weights = np.array([[0.5, 2.0], [0.05, 20.0]], np.float32)
        lows, highs = np.array([0.1, 1.0], np.float32), np.array([1.0, 10.0], np.float32)
        expected = [[True, True], [False, False]]
        self.assertAllEqual(in_trained_range(weights, lows, highs), expected)
        self.assertAllEqual(
            in_trained_range(tf.constant(weights), tf.constant(lows), tf.constant(highs)),
            expected,
        )


if __name__ == "__main__":
    tf.test.main()
