"""Feature-wise linear modulation (FiLM) from a conditioning vector."""

from __future__ import annotations

import tensorflow as tf

keras = tf.keras


@keras.utils.register_keras_serializable(package="yoto_tf")
class FiLM(keras.layers.Layer):
    """Feature-wise linear modulation: `features * (1 + gamma) + beta`.

    `gamma = scale * (W_g c + b_g)` and `beta = scale * (W_b c + b_b)` are one value per
    channel (the last axis of `features`), computed from the conditioning vector
    `c` by two dense heads. With the default `scale = 0.1` the layer starts near
    the identity, as in the YOTO reference implementation (Dosovitskiy &
    Djolonga, ICLR 2020); FiLM itself is Perez et al., AAAI 2018.

    Works on any rank of `features` with channels last: dense `[B, C]`, conv
    NHWC `[B, H, W, C]`, and so on. `conditioning` is `[B, D]`.

    Args:
      scale: multiplier on the heads' outputs; small values start near identity.
      kernel_initializer: initializer of the heads' kernel.
    """

    def __init__(self, scale: float = 0.1, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, features_shape):
        """Creates the heads for the channel count of `features`."""
        channels = features_shape[-1]
        if channels is None:
            raise ValueError("FiLM needs a known channel count (last axis of features).")
        self.channels = int(channels)
        # Both heads as one Dense of 2C units: one matmul instead of two on the hot path.
        # Columns [:C] are the gamma head, [C:] the beta head.
        # float32 under any dtype policy: the modulation is computed once per example, so
        # float16 would save nothing and would round 1 + gamma to steps of 1e-3.
        self.heads = keras.layers.Dense(
            2 * self.channels,
            kernel_initializer=self.kernel_initializer,
            name="heads",
            dtype="float32",
        )
        super().build(features_shape)

    def modulation(self, conditioning):
        """Returns float32 `(gamma, beta)`, each `[B, C]`, for `conditioning` `[B, D]`."""
        conditioning = tf.cast(conditioning, tf.float32)
        gamma, beta = tf.split(self.scale * self.heads(conditioning), 2, axis=-1)
        return gamma, beta

    def call(self, features, conditioning):
        """Modulates `features` `[B, ..., C]` with `conditioning` `[B, D]`."""
        if conditioning.shape.rank != 2:
            raise ValueError(
                f"FiLM conditioning must be [batch, dim], got shape {conditioning.shape}."
            )
        gamma, beta = self.modulation(conditioning)
        # [B, C] -> [B, 1, ..., 1, C] so each example's modulation broadcasts over space.
        broadcast_shape = [-1] + [1] * (features.shape.rank - 2) + [self.channels]
        scale = tf.cast(tf.reshape(1.0 + gamma, broadcast_shape), features.dtype)
        shift = tf.cast(tf.reshape(beta, broadcast_shape), features.dtype)
        return features * scale + shift

    def get_config(self):
        """Returns the constructor arguments."""
        config = super().get_config()
        config.update(
            scale=self.scale,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config
