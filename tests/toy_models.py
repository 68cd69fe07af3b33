"""A user's own two-term loss-conditional model, as README shows it, for the core tests."""

import numpy as np
import tensorflow as tf

import yoto_tf

keras = tf.keras


class SmoothRegressor(yoto_tf.LossConditionalModel):
    """Regression with a data term and an output-magnitude penalty weighted by `smooth`."""

    def __init__(self, weight_sampler=None, **kwargs):
        sampler = weight_sampler or yoto_tf.WeightSampler(
            {"fit": yoto_tf.Constant(1.0), "smooth": yoto_tf.LogUniform(0.01, 10.0)}
        )
        super().__init__(sampler, **kwargs)
        self.conditioning = yoto_tf.ConditioningMLP(*sampler.bounds(), units=16)
        self.hidden = keras.layers.Dense(16)
        self.film = yoto_tf.FiLM()
        self.head = keras.layers.Dense(1)

    def call(self, x, loss_weights=None, training=None):
        if loss_weights is None:
            loss_weights = self.evaluation_weight_matrix(tf.shape(x)[0])
        hidden = self.film(self.hidden(x), self.conditioning(loss_weights))
        return self.head(tf.nn.relu(hidden))

    def compute_loss_terms(self, x, y, loss_weights, training):
        prediction = self(x, loss_weights, training=training)
        return {
            "fit": tf.reduce_sum(tf.square(prediction - y), axis=-1),
            "smooth": tf.reduce_sum(tf.square(prediction), axis=-1),
        }


def regression_data(n=256, seed=0):
    """Inputs `[n, 4]` and targets `2 * x[:, :1]`."""
    x = np.random.RandomState(seed).randn(n, 4).astype("float32")
    return x, 2.0 * x[:, :1]
