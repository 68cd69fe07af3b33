"""The timed learning-rate drop on a fake clock, what `train_lib.train` refuses, and the
progress bar's target under a time budget.

(`tests/zoo/training/test_train_lib.py` trains through a spent budget with the drop.)
"""

import contextlib
import io
import pathlib

import numpy as np
import tensorflow as tf

from zoo.training import callbacks as train_callbacks
from zoo.training import train_lib

keras = tf.keras


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class TimedLearningRateDropTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)
        self.model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        self.clock = FakeClock()
        self.drop = train_callbacks.TimedLearningRateDrop(
            1e-3,
            max_seconds=100.0,
            strategy=tf.distribute.get_strategy(),
            verbose=0,
            clock=self.clock,
        )
        self.drop.set_model(self.model)
        self.data = (np.zeros([4, 2], np.float32), np.zeros([4, 1], np.float32))

    def rate(self):
        return float(self.model.optimizer.learning_rate)

    def test_the_rate_drops_tenfold_after_the_chunk_that_crosses_80_percent(self):
        self.drop.on_train_begin()
        self.clock.now = 79.0
        self.drop.on_epoch_end(0)
        self.assertAllClose(self.rate(), 1e-3)
        self.clock.now = 80.0
        self.drop.on_epoch_end(1)
        self.assertAllClose(self.rate(), 1e-4)
        self.clock.now = 99.0
        self.drop.on_epoch_end(2)
        self.assertAllClose(self.rate(), 1e-4)  # Once, not again.

    def test_each_run_starts_again_at_the_configured_rate(self):
        self.model.optimizer.learning_rate = 1e-4  # As a resumed checkpoint restores it.
        self.clock.now = 500.0
        self.drop.on_train_begin()
        self.assertAllClose(self.rate(), 1e-3)
        self.assertIsNone(self.drop.dropped_at)
        self.clock.now = 560.0
        self.drop.on_epoch_end(0)
        self.assertAllClose(self.rate(), 1e-3)

    def test_it_drops_during_fit_at_a_chunk_boundary(self):
        clock = self.clock

        class ThirtySecondEpochs(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                clock.now = 30.0 * epoch

        self.model.fit(*self.data, epochs=5, callbacks=[ThirtySecondEpochs(), self.drop], verbose=0)
        self.assertAllClose(self.rate(), 1e-4)
        # One step per epoch; the fourth epoch ends at 90 s, the first past 80 s.
        self.assertEqual(self.drop.dropped_at, 4)

    def test_bad_arguments_and_a_schedule_are_refused(self):
        strategy = tf.distribute.get_strategy()
        for kwargs in ({"fraction": 1.0}, {"factor": 0.0}, {"max_seconds": 0.0}):
            with self.subTest(**kwargs):
                arguments = {"max_seconds": 10.0, **kwargs}
                with self.assertRaisesRegex(ValueError, "0 < fraction < 1"):
                    train_callbacks.TimedLearningRateDrop(1e-3, strategy=strategy, **arguments)
        scheduled = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([10], [1e-3, 1e-4])
        scheduled.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
        self.drop.set_model(scheduled)
        with self.assertRaisesRegex(ValueError, "needs a constant learning rate"):
            self.drop.on_train_begin()


class TimedDropThroughTrainingTest(tf.test.TestCase):
    def test_it_needs_a_budget_and_a_constant_rate(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "refused"
        cases = {
            "needs max_seconds": ("beta_vae", {}),
            "needs a constant learning rate": (
                "compression",
                {"max_seconds": 60.0, "config_overrides": {"learning_rate_drops": (2,)}},
            ),
        }
        for message, (task_name, kwargs) in cases.items():
            with self.subTest(message):
                with self.assertRaisesRegex(ValueError, message):
                    train_lib.train(
                        task_name,
                        model_dir / task_name,
                        steps=3,
                        runlocal=True,
                        verbose=0,
                        timed_learning_rate_drop=True,
                        **kwargs,
                    )
                self.assertFalse((model_dir / task_name).exists())  # Refused before writing.


if __name__ == "__main__":
    tf.test.main()


class ProgressBarTest(tf.test.TestCase):
    def test_with_a_time_budget_the_bar_aims_at_the_step_the_budget_reaches(self):
        bar = train_callbacks.ProgressBar(20000, 0, verbose=1, max_seconds=240)
        with contextlib.redirect_stdout(io.StringIO()):
            bar.update(100, {"loss": 1.0}, elapsed=60.0)
        self.assertEqual(bar.bar.target, 400)  # 0.6 s a step, 180 s left: 300 more steps.
        with contextlib.redirect_stdout(io.StringIO()):
            bar.update(150, {"loss": 1.0}, elapsed=300.0)
        self.assertEqual(bar.bar.target, 150)  # The budget is spent.

    def test_without_a_budget_or_when_the_cap_comes_first_the_bar_aims_at_the_cap(self):
        unbounded = train_callbacks.ProgressBar(20000, 0, verbose=1)
        capped = train_callbacks.ProgressBar(500, 0, verbose=1, max_seconds=3600)
        with contextlib.redirect_stdout(io.StringIO()):
            unbounded.update(100, {"loss": 1.0}, elapsed=60.0)
            capped.update(100, {"loss": 1.0}, elapsed=60.0)
        self.assertEqual(unbounded.bar.target, 20000)
        self.assertEqual(capped.bar.target, 500)
