import tensorflow as tf

from zoo.training import warmup

keras = tf.keras


class WarmupAfterRestartTest(tf.test.TestCase):
    def test_the_rate_ramps_from_the_restart_step_to_the_full_rate(self):
        schedule = warmup.WarmupAfterRestart(1e-3, start_step=1000, warmup_steps=4)
        rates = [float(schedule(step)) for step in (999, 1000, 1001, 1003, 5000)]
        self.assertAllClose(rates, [0.0, 0.25e-3, 0.5e-3, 1e-3, 1e-3])

    def test_a_wrapped_schedule_keeps_its_drops_at_their_steps(self):
        drops = keras.optimizers.schedules.PiecewiseConstantDecay([1999], [1e-3, 1e-4])
        schedule = warmup.WarmupAfterRestart(drops, start_step=1998, warmup_steps=10)
        self.assertAllClose(float(schedule(1998)), 1e-3 / 10)
        self.assertAllClose(float(schedule(2000)), 1e-4 * 3 / 10)
        self.assertAllClose(float(schedule(3000)), 1e-4)

    def test_the_schedule_survives_a_config_round_trip(self):
        drops = keras.optimizers.schedules.PiecewiseConstantDecay([10], [1e-3, 1e-4])
        schedule = warmup.WarmupAfterRestart(drops, start_step=5, warmup_steps=3)
        copy = warmup.WarmupAfterRestart.from_config(schedule.get_config())
        for step in (5, 6, 7, 11):
            self.assertAllClose(float(copy(step)), float(schedule(step)))

    def test_an_optimizer_with_warmup_keeps_its_other_settings(self):
        adam = keras.optimizers.Adam(2e-3, beta_2=0.99)
        warmed = warmup.with_warmup(adam, start_step=0, warmup_steps=2)
        self.assertIsInstance(warmed, keras.optimizers.Adam)
        self.assertAllClose(warmed.get_config()["beta_2"], 0.99)
        self.assertAllClose(float(warmed.learning_rate), 1e-3)

    def test_a_warmup_of_no_steps_is_refused(self):
        with self.assertRaisesRegex(ValueError, "warmup_steps must be >= 1"):
            warmup.WarmupAfterRestart(1e-3, start_step=0, warmup_steps=0)
