"""A learning-rate warmup for a run whose optimizer state restarts on trained weights.

Weights snapshots hold no optimizer state, so a run continued or fine-tuned from one
starts Adam with empty moment estimates. Adam's first updates then move every weight
by about the full learning rate, where a trained run's updates are a fraction of it:
a jolt that undoes part of what the weights had learned (experiments/README.md
measures it). Ramping the rate up from zero over the first steps lets the moments
fill before the updates reach full size, the usual remedy (e.g. Goyal et al. 2017,
"Accurate, Large Minibatch SGD", for restarts at large rates).
"""

from __future__ import annotations

import tensorflow as tf

keras = tf.keras


class WarmupAfterRestart(keras.optimizers.schedules.LearningRateSchedule):
    """`rate` (a number or a schedule of the step) scaled by a ramp from `start_step`.

    At step `start_step + k` the factor is `(k + 1) / warmup_steps`, 1 from
    `start_step + warmup_steps - 1` on; the wrapped schedule sees the true step, so
    drops at given steps (`learning_rate_drops`) happen where they would.
    """

    def __init__(self, rate, start_step: int, warmup_steps: int):
        super().__init__()
        if warmup_steps < 1:
            raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}.")
        self.rate = rate
        self.start_step = int(start_step)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        """The learning rate at optimizer step `step`."""
        step = tf.cast(step, tf.float32)
        rate = self.rate(step) if callable(self.rate) else self.rate
        done = (step - self.start_step + 1.0) / self.warmup_steps
        return tf.cast(rate, tf.float32) * tf.clip_by_value(done, 0.0, 1.0)

    def get_config(self):
        """The constructor's arguments (a wrapped schedule serialized as Keras does)."""
        rate = self.rate
        if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
            rate = keras.optimizers.schedules.serialize(rate)
        return {"rate": rate, "start_step": self.start_step, "warmup_steps": self.warmup_steps}

    @classmethod
    def from_config(cls, config):
        """The inverse of `get_config`."""
        rate = config["rate"]
        if isinstance(rate, dict):
            rate = keras.optimizers.schedules.deserialize(rate)
        return cls(rate, config["start_step"], config["warmup_steps"])


def with_warmup(optimizer: keras.optimizers.Optimizer, start_step: int, warmup_steps: int):
    """A new optimizer like `optimizer` whose learning rate warms up from `start_step`."""
    config = optimizer.get_config()
    rate = optimizer._learning_rate  # noqa: SLF001 (the schedule itself, not its value)
    if isinstance(rate, tf.Variable):
        rate = float(rate.numpy())
    config["learning_rate"] = WarmupAfterRestart(rate, start_step, warmup_steps)
    return type(optimizer).from_config(config)
