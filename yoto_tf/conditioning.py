"""The conditioning network: an MLP on `log(lambda)`, the whole loss-weight vector."""

from __future__ import annotations

import math
from collections.abc import Sequence

import tensorflow as tf

keras = tf.keras

# Weights from a Dirichlet can underflow to zero; log(0) would be -inf.
_MIN_WEIGHT = 1e-6


@keras.utils.register_keras_serializable(package="yoto_tf")
class ConditioningMLP(keras.layers.Layer):
    """Maps loss weights `lambda` `[batch, k]` to a conditioning vector `[batch, units]`.

    `c = MLP((log(max(lambda, 1e-6)) - center) / half_width)`, where `center` and
    `half_width` come from the trained range `[low, high]` of each weight so that
    the MLP sees inputs in about `[-1, 1]` whatever the range (beta in
    [0.125, 512] spans eight units of log). The paper uses one hidden layer of
    256 to 512 units; FiLM layers read the output through their own heads.

    Args:
      low: per-term lower bounds of the trained weight range (or one float).
      high: per-term upper bounds (or one float).
      units: width of each hidden layer and of the output.
      num_layers: number of Dense+ReLU layers.
      kernel_initializer: of the Dense layers. Keras's default (Glorot) on a
        two- or three-weight input gives a conditioning vector of about 0.07 in
        magnitude, so FiLM modulations grow slowly; "he_uniform" gives about 1,
        which a codec needs to learn rates that differ by 10x (experiments/README.md).
    """

    def __init__(
        self,
        low: Sequence[float] | float,
        high: Sequence[float] | float,
        units: int = 256,
        num_layers: int = 1,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        # float32 under any dtype policy: one small MLP per batch, and log-weights near the
        # range's ends would lose their differences in float16.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        low = [float(v) for v in (low if isinstance(low, Sequence) else [low])]
        high = [float(v) for v in (high if isinstance(high, Sequence) else [high])]
        if len(low) != len(high):
            raise ValueError(f"low and high need the same length, got {len(low)} and {len(high)}.")
        if units < 1 or num_layers < 1:
            raise ValueError(f"units and num_layers must be >= 1, got {units} and {num_layers}.")
        self.low, self.high = low, high
        self.units, self.num_layers = int(units), int(num_layers)
        log_low = [math.log(max(v, _MIN_WEIGHT)) for v in low]
        log_high = [math.log(max(v, _MIN_WEIGHT)) for v in high]
        self._center = [(a + b) / 2 for a, b in zip(log_low, log_high, strict=True)]
        # A constant weight has zero width; any positive scale keeps its input at 0.
        self._half_width = [max((b - a) / 2, 1.0) for a, b in zip(log_low, log_high, strict=True)]
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.hidden = [
            keras.layers.Dense(
                self.units,
                activation="relu",
                kernel_initializer=self.kernel_initializer,
                name=f"dense_{i}",
                dtype=self.dtype_policy,
            )
            for i in range(self.num_layers)
        ]

    def build(self, input_shape):
        """Checks the weight vector length against the configured range."""
        if input_shape[-1] is not None and input_shape[-1] != len(self.low):
            raise ValueError(
                f"ConditioningMLP was configured for {len(self.low)} loss weights, "
                f"got a weight vector of length {input_shape[-1]}."
            )
        super().build(input_shape)

    def call(self, loss_weights):
        """Returns the conditioning vector for `loss_weights` `[batch, k]`."""
        log_weights = tf.math.log(tf.maximum(tf.cast(loss_weights, tf.float32), _MIN_WEIGHT))
        x = (log_weights - self._center) / self._half_width
        for layer in self.hidden:
            x = layer(x)
        return x

    def get_config(self):
        """Returns the constructor arguments."""
        config = super().get_config()
        config.update(
            low=self.low,
            high=self.high,
            units=self.units,
            num_layers=self.num_layers,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
