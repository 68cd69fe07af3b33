import math

import numpy as np
import tensorflow as tf

import yoto_tf


class DistributionTest(tf.test.TestCase):
    def test_log_uniform_samples_stay_in_range_and_spread_in_log_space(self):
        samples = yoto_tf.LogUniform(0.125, 512.0).sample(tf.random.Generator.from_seed(1), 20000)
        samples = samples.numpy()
        self.assertGreaterEqual(samples.min(), 0.125)
        self.assertLessEqual(samples.max(), 512.0)
        # log-uniform: the median is the geometric mean of the bounds.
        self.assertNear(np.median(np.log(samples)), math.log(8.0), 0.1)

    def test_uniform_and_constant_sample_their_ranges(self):
        generator = tf.random.Generator.from_seed(2)
        uniform = yoto_tf.Uniform(0.0, 2.0).sample(generator, 5000).numpy()
        self.assertBetween(uniform.min(), 0.0, 0.01)
        self.assertNear(uniform.mean(), 1.0, 0.05)
        self.assertAllEqual(yoto_tf.Constant(4.0).sample(generator, 3), [4.0, 4.0, 4.0])

    def test_dirichlet_rows_sum_to_one(self):
        draws = yoto_tf.Dirichlet([0.5, 0.5, 0.5]).sample(tf.random.Generator.from_seed(3), 100)
        self.assertEqual(draws.shape, (100, 3))
        self.assertAllClose(tf.reduce_sum(draws, axis=-1), tf.ones(100), atol=1e-5)
        self.assertAllGreaterEqual(draws, 0.0)

    def test_invalid_parameters_raise_at_construction(self):
        cases = {
            "log_uniform_low_zero": lambda: yoto_tf.LogUniform(0.0, 1.0),
            "log_uniform_low_negative": lambda: yoto_tf.LogUniform(-1.0, 1.0),
            "low_above_high": lambda: yoto_tf.LogUniform(2.0, 1.0),
            "uniform_low_above_high": lambda: yoto_tf.Uniform(2.0, 1.0),
            "nan_bound": lambda: yoto_tf.Uniform(float("nan"), 1.0),
            "infinite_bound": lambda: yoto_tf.LogUniform(1.0, float("inf")),
            "nan_constant": lambda: yoto_tf.Constant(float("nan")),
            "negative_constant": lambda: yoto_tf.Constant(-1.0),
            "dirichlet_zero": lambda: yoto_tf.Dirichlet([1.0, 0.0]),
            "dirichlet_single": lambda: yoto_tf.Dirichlet([1.0]),
        }
        for name, build in cases.items():
            with self.subTest(name), self.assertRaises(ValueError):
                build()


class WeightSamplerTest(tf.test.TestCase):
    def sampler(self, per_example=True):
        return yoto_tf.WeightSampler(
            {
                "content": yoto_tf.LogUniform(0.1, 10.0),
                ("style_a", "style_b"): yoto_tf.Dirichlet([1.0, 1.0]),
                "tv": yoto_tf.Constant(1.0),
            },
            per_example=per_example,
        )

    def test_samples_one_column_per_term_in_order(self):
        sampler = self.sampler()
        self.assertEqual(sampler.term_names, ("content", "style_a", "style_b", "tv"))
        weights = sampler.sample(tf.random.Generator.from_seed(0), 8)
        self.assertEqual(weights.shape, (8, 4))
        self.assertAllClose(weights[:, 1] + weights[:, 2], tf.ones(8), atol=1e-5)
        self.assertAllEqual(weights[:, 3], tf.ones(8))

    def test_per_example_rows_differ_and_per_batch_rows_repeat(self):
        per_example = self.sampler().sample(tf.random.Generator.from_seed(0), 16).numpy()
        self.assertGreater(len(np.unique(per_example[:, 0])), 8)
        per_batch = self.sampler(per_example=False).sample(tf.random.Generator.from_seed(0), 16)
        self.assertAllEqual(per_batch, tf.tile(per_batch[:1], [16, 1]))

    def test_same_seed_gives_same_weights(self):
        first = self.sampler().sample(tf.random.Generator.from_seed(7), 32)
        second = self.sampler().sample(tf.random.Generator.from_seed(7), 32)
        other = self.sampler().sample(tf.random.Generator.from_seed(8), 32)
        self.assertAllEqual(first, second)
        self.assertNotAllClose(first, other)

    def test_config_round_trip_rebuilds_an_equal_sampler(self):
        sampler = self.sampler(per_example=False)
        rebuilt = yoto_tf.WeightSampler.from_config(sampler.get_config())
        self.assertEqual(rebuilt.distributions, sampler.distributions)
        self.assertEqual(rebuilt.per_example, sampler.per_example)
        self.assertEqual(rebuilt.bounds(), sampler.bounds())

    def test_bad_mappings_raise_clear_errors(self):
        with self.assertRaisesRegex(ValueError, "tuple of 2 term names"):
            yoto_tf.WeightSampler({"a": yoto_tf.Dirichlet([1.0, 1.0])})
        with self.assertRaisesRegex(ValueError, "unique"):
            yoto_tf.WeightSampler(
                {"a": yoto_tf.Constant(1.0), ("a", "b"): yoto_tf.Dirichlet([1.0, 1.0])}
            )
        with self.assertRaisesRegex(TypeError, "Distribution or a joint one"):
            yoto_tf.WeightSampler({"a": 1.0})
        with self.assertRaisesRegex(ValueError, "at least one"):
            yoto_tf.WeightSampler({})


if __name__ == "__main__":
    tf.test.main()


class ScaledMixtureTest(tf.test.TestCase):
    def test_draws_single_terms_and_mixtures_at_log_uniform_strengths(self):
        mixture = yoto_tf.ScaledMixture([1.0] * 4, scale_low=0.1, scale_high=10.0)
        weights = mixture.sample(tf.random.Generator.from_seed(0), 4000).numpy()
        self.assertEqual(weights.shape, (4000, 4))
        totals = weights.sum(axis=1)
        self.assertAllInRange(totals, 0.1 * (1 - 1e-5), 10.0 * (1 + 1e-5))
        single = (weights > 0).sum(axis=1) == 1
        self.assertBetween(single.mean(), 0.45, 0.55)
        # Every style appears alone about equally often.
        counts = np.bincount(weights[single].argmax(axis=1), minlength=4) / single.sum()
        self.assertAllClose(counts, [0.25] * 4, atol=0.04)

    def test_is_keyed_by_a_tuple_and_round_trips_through_config(self):
        mixture = yoto_tf.ScaledMixture([0.5, 0.5], scale_low=1.0, scale_high=4.0)
        sampler = yoto_tf.WeightSampler({"content": yoto_tf.Constant(1.0), ("a", "b"): mixture})
        self.assertEqual(sampler.term_names, ("content", "a", "b"))
        self.assertEqual(sampler.bounds(), ([1.0, 0.0, 0.0], [1.0, 4.0, 4.0]))
        rebuilt = yoto_tf.WeightSampler.from_config(sampler.get_config())
        self.assertEqual(rebuilt.distributions[("a", "b")], mixture)
        with self.assertRaisesRegex(ValueError, "tuple of 2 term names"):
            yoto_tf.WeightSampler({"a": mixture})
        with self.assertRaisesRegex(ValueError, "single_probability"):
            yoto_tf.ScaledMixture([1.0, 1.0], 1.0, 2.0, single_probability=1.5)
