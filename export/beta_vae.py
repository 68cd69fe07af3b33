"""Serving signatures of the beta-VAE, with beta a named per-example input."""

from __future__ import annotations

import tensorflow as tf

from export import validation


class BetaVAEServing(tf.Module):
    """The beta-VAE's serving surface.

    Signatures (beta is float32 `[N]`, one per example, inside the trained range):

    * `reconstruct(images [N, H, W, C] in [0, 1], beta)` -> `reconstructions`
      (pixel probabilities, decoded from the posterior mean); also `serving_default`.
    * `sample(beta, seed int64 scalar)` -> `images` drawn from the prior.
    * `loss_terms(images, beta)` -> per-example `reconstruction`, `kl` (nats) and
      `total = reconstruction + beta * kl`, with fixed reparameterisation noise.
    """

    def __init__(self, model):
        super().__init__(name="beta_vae_serving")
        self.model = model
        lows, highs = model.weight_sampler.bounds()
        self.beta_range = (lows[1], highs[1])
        image_spec = tf.TensorSpec([None, *model.image_shape], tf.float32, name="images")
        beta_spec = tf.TensorSpec([None], tf.float32, name="beta")
        seed_spec = tf.TensorSpec([], tf.int64, name="seed")
        self.reconstruct = tf.function(self._reconstruct, input_signature=[image_spec, beta_spec])
        self.sample = tf.function(self._sample, input_signature=[beta_spec, seed_spec])
        self.loss_terms = tf.function(self._loss_terms, input_signature=[image_spec, beta_spec])

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {
            "serving_default": self.reconstruct.get_concrete_function(),
            "reconstruct": self.reconstruct.get_concrete_function(),
            "sample": self.sample.get_concrete_function(),
            "loss_terms": self.loss_terms.get_concrete_function(),
        }

    def _weights(self, beta):
        beta = validation.check_weight("beta", beta, *self.beta_range)
        return tf.stack([tf.ones_like(beta), beta], axis=-1)

    def _checked_images(self, images, beta):
        return validation.check_images(
            "images", images, self.model.image_shape, batch_size=tf.shape(beta)[0]
        )

    def _reconstruct(self, images, beta):
        weights = self._weights(beta)
        images = self._checked_images(images, beta)
        return {"reconstructions": self.model(images, weights, training=False)}

    def _sample(self, beta, seed):
        weights = self._weights(beta)
        seed_pair = tf.stack([seed, tf.zeros_like(seed)])
        return {"images": self.model.sample_images(weights, seed_pair)}

    def _loss_terms(self, images, beta):
        weights = self._weights(beta)
        images = self._checked_images(images, beta)
        terms = self.model.compute_loss_terms(images, None, weights, training=False)
        return {**terms, "total": terms["reconstruction"] + weights[:, 1] * terms["kl"]}

    def warmup_inputs(self) -> dict:
        """Example inputs per signature, for TF Serving's warmup file."""
        middle = (self.beta_range[0] * self.beta_range[1]) ** 0.5
        images = tf.zeros([2, *self.model.image_shape], tf.float32)
        beta = tf.constant([self.beta_range[0], middle], tf.float32)
        return {
            "serving_default": {"images": images, "beta": beta},
            "sample": {"beta": beta, "seed": tf.constant(0, tf.int64)},
        }
