"""Keras callbacks of the training loop: progress, scalars, checkpoints, budgets, stopping,
and a learning-rate drop timed by the budget.

`train_lib.train` runs one `model.fit` for the whole run, one Keras epoch per
`log_every` steps, so the data pipeline is iterated by a single iterator from
start to end: a new iterator per chunk would drop whatever its predecessor had
prefetched, and how much that is depends on timing (workers would then disagree).
"""

from __future__ import annotations

import math
import pathlib
import shutil
import time
from collections.abc import Mapping

import tensorflow as tf

from zoo.training import distribute

keras = tf.keras


class ProgressBar:
    """A progress bar over the whole run (Keras's Progbar), updated once per chunk.

    With a time budget (`max_seconds`) its target is the step the run is expected to
    reach when the budget is spent (at the speed so far; at most `target`), so that the
    bar and its ETA follow the budget rather than a step cap the run will not reach.
    """

    def __init__(self, target: int, initial: int, verbose: int, max_seconds: float | None = None):
        self.steps, self.initial, self.max_seconds = target, initial, max_seconds
        self.bar = keras.utils.Progbar(target, stateful_metrics=None) if verbose else None
        if self.bar is not None and initial:
            self.bar.update(initial)

    def update(self, step: int, logs: Mapping[str, float], elapsed: float | None = None):
        """Shows `logs` (means over the last chunk) at `step`, `elapsed` seconds into the run."""
        if self.bar is None:
            return
        if self.max_seconds is not None and elapsed and step > self.initial:
            seconds_per_step = elapsed / (step - self.initial)
            remaining = max(0.0, self.max_seconds - elapsed) / seconds_per_step
            self.bar.target = int(min(self.steps, step + math.ceil(remaining)))
        # Progbar averages non-stateful metrics itself; pass the chunk means as stateful.
        self.bar.stateful_metrics = set(logs)
        self.bar.update(step, values=list(logs.items()))


class RunMonitor(keras.callbacks.Callback):
    """Stops at `steps`; after every chunk logs scalars, checks them, saves, keeps the budget.

    Args:
      initial_step: the optimizer's step when `fit` starts.
      steps: the step to stop at.
      checkpoint_every: steps between checkpoints (one is always saved at the end).
      max_seconds: stop (after a checkpoint) once this much time has passed; None: no limit.
      manager: the `tf.train.CheckpointManager` to save with.
      scratch: a directory to remove after each save (a non-chief worker's copy), or None.
      writer: the TensorBoard writer of the scalars.
      strategy: the run's strategy, so that all workers stop at the same step.
      verbose: 1 shows a progress bar.
    """

    def __init__(
        self,
        initial_step: int,
        steps: int,
        checkpoint_every: int,
        max_seconds: float | None,
        manager: tf.train.CheckpointManager,
        scratch: pathlib.Path | None,
        writer,
        strategy: tf.distribute.Strategy,
        verbose: int,
    ):
        super().__init__()
        self.step, self.steps = initial_step, steps
        self.checkpoint_every, self.max_seconds = checkpoint_every, max_seconds
        self.manager, self.scratch, self.writer = manager, scratch, writer
        self.strategy, self.verbose = strategy, verbose
        self.progress = ProgressBar(steps, initial_step, verbose, max_seconds)
        self.last_saved = initial_step
        self.stopped_for_time = False

    def on_train_begin(self, logs=None):
        """Starts the clock of the time budget."""
        self.start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        """Counts the step; the last chunk may end before its epoch does."""
        self.step += 1
        if self.step >= self.steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        """Logs, checks and maybe saves the chunk that just ended."""
        logs = {name: float(value) for name, value in (logs or {}).items()}
        if not all(math.isfinite(v) for v in logs.values()):
            raise FloatingPointError(f"Training diverged at step {self.step}: {logs}.")
        with self.writer.as_default(step=self.step):
            for name, value in logs.items():
                tf.summary.scalar(f"loss/{name}", value)
        elapsed = time.monotonic() - self.start
        self.progress.update(self.step, logs, elapsed)
        out_of_time = self.max_seconds is not None and elapsed >= self.max_seconds
        out_of_time = distribute.any_replica(self.strategy, out_of_time)
        finished = self.step >= self.steps
        if self.step - self.last_saved >= self.checkpoint_every or finished or out_of_time:
            self.manager.save(checkpoint_number=self.step)
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)
            self.last_saved = self.step
        if out_of_time and not finished:
            self.model.stop_training = True
            self.stopped_for_time = True
            if self.verbose:
                print(
                    f"\nStopped at step {self.step}/{self.steps}: "
                    f"the {self.max_seconds:g} s budget is spent."
                )

    def on_train_end(self, logs=None):
        """Flushes the scalars."""
        self.writer.flush()


def set_learning_rate(optimizer: keras.optimizers.Optimizer, rate: float):
    """Sets `optimizer`'s constant learning rate; a ValueError if it follows a schedule."""
    try:
        optimizer.learning_rate = rate
    except TypeError as error:  # Keras refuses to overwrite a LearningRateSchedule.
        raise ValueError(
            "A timed learning-rate drop needs a constant learning rate; this optimizer "
            "follows a schedule (the config's learning_rate_drops or "
            "learning_rate_schedule): use one or the other."
        ) from error


class TimedLearningRateDrop(keras.callbacks.Callback):
    """Divides a constant learning rate by `factor` once `fraction` of the time budget is spent.

    A run bounded by time does not know in advance the step at which to drop the rate
    (`learning_rate_drops` needs it), yet ending at a lower rate is how codecs are
    trained. Each run starts again at `learning_rate`: the optimizer checkpoints its
    rate, and a resumed run has a budget of its own. Every worker drops at the same step.

    Args:
      learning_rate: the rate to start each run at (the config's).
      max_seconds: the run's time budget.
      strategy: the run's strategy.
      fraction: the share of the budget spent at `learning_rate`.
      factor: what the rate is divided by afterwards.
      verbose: 1 prints the step of the drop.
      clock: seconds from an arbitrary origin (tests pass their own).
    """

    def __init__(
        self,
        learning_rate: float,
        max_seconds: float,
        strategy: tf.distribute.Strategy,
        fraction: float = 0.8,
        factor: float = 10.0,
        verbose: int = 1,
        clock=time.monotonic,
    ):
        super().__init__()
        if not 0 < fraction < 1 or factor <= 0 or max_seconds <= 0:
            raise ValueError(
                f"Need 0 < fraction < 1, factor > 0 and max_seconds > 0; got {fraction}, "
                f"{factor}, {max_seconds}."
            )
        self.learning_rate, self.max_seconds, self.strategy = learning_rate, max_seconds, strategy
        self.fraction, self.factor, self.verbose = fraction, factor, verbose
        self.clock = clock
        self.dropped_at = None

    def _set_rate(self, rate: float):
        set_learning_rate(self.model.optimizer, rate)

    def on_train_begin(self, logs=None):
        """Restarts the clock and the rate."""
        self._set_rate(self.learning_rate)
        self.start = self.clock()
        self.dropped_at = None

    def on_epoch_end(self, epoch, logs=None):
        """Drops the rate after the chunk that crosses `fraction` of the budget."""
        if self.dropped_at is not None:
            return
        due = self.clock() - self.start >= self.fraction * self.max_seconds
        if distribute.any_replica(self.strategy, due):
            self._set_rate(self.learning_rate / self.factor)
            self.dropped_at = int(self.model.optimizer.iterations.numpy())
            if self.verbose:
                print(
                    f"\nLearning rate {self.learning_rate:g} -> "
                    f"{self.learning_rate / self.factor:g} at step {self.dropped_at} "
                    f"({self.fraction:.0%} of the {self.max_seconds:g} s budget)."
                )
