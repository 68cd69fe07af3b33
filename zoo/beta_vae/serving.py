"""Serving signatures of the beta-VAE, with beta a named per-example input."""

from __future__ import annotations

import tensorflow as tf

from zoo import serving_inputs, serving_module

# TF Serving batching for this servable (`batching_params.pbtxt`). Its inputs have one
# fixed shape per example, so requests merge into one batch; a failed check fails the
# whole batch, which a short timeout keeps to the requests of about one millisecond.
BATCHING_PARAMETERS = {
    # A 28 x 28 model saturates a GPU well before 256 images (under 1 MB of input).
    "max_batch_size": 256,
    # The longest a request waits for others: about the time of one small forward pass.
    "batch_timeout_micros": 1000,
    # At most 100 full batches queued, then UNAVAILABLE: bounds queueing latency and memory.
    "max_enqueued_batches": 100,
    # Unused under --enable_per_model_batching_parameters, where batching.config's shared
    # pool runs every model's batches; here so the file also works as a global one.
    "num_batch_threads": 2,
    "pad_variable_length_inputs": False,
}


class BetaVAEServing(serving_module.ServingModule):
    """The beta-VAE's serving surface.

    Every input and output has the batch dimension N first, so TF Serving can batch
    every signature. Signatures (beta is float32 `[N]`, one per example, inside the
    trained range):

    * `reconstruct(images [N, H, W, C] float32 in [0, 1], beta)` -> `reconstructions`
      (pixel probabilities, decoded from the posterior mean); also `serving_default`.
    * `sample(beta, seed int64 [N])` -> `images` drawn from the prior, example i seeded by
      `seed[i]` alone: the same seed and beta give the same image in any batch.
    * `loss_terms(images, beta)` -> per-example `reconstruction`, `kl` (nats) and
      `total = reconstruction + beta * kl`, with fixed reparameterisation noise.
    """

    def __init__(self, model):
        super().__init__(model, name="beta_vae_serving")
        lows, highs = model.weight_sampler.bounds()
        self.beta_range = (lows[1], highs[1])
        # Unknown rank: the shape checks run in the graph (see zoo/serving_inputs.py).
        image_spec = tf.TensorSpec(None, tf.float32, name="images")
        beta_spec = tf.TensorSpec(None, tf.float32, name="beta")
        seed_spec = tf.TensorSpec(None, tf.int64, name="seed")
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

    def batching_parameters(self) -> dict:
        """TF Serving's per-model batching settings for this servable."""
        return dict(BATCHING_PARAMETERS)

    def _beta_and_images(self, beta, images):
        beta = serving_inputs.check_weight("beta", beta, *self.beta_range)
        images = serving_inputs.check_images(
            "images",
            images,
            self.model.image_shape,
            batch_size_of=beta,
            batch_message="images and beta need the same batch size (one beta per image)",
        )
        return tf.stack([tf.ones_like(beta), beta], axis=-1), images

    def _reconstruct(self, images, beta):
        weights, images = self._beta_and_images(beta, images)
        return {"reconstructions": self.model(images, weights, training=False)}

    def _sample(self, beta, seed):
        beta = serving_inputs.check_weight("beta", beta, *self.beta_range)
        seed = serving_inputs.check_shape("seed", seed, ["N"])
        seed = serving_inputs.check_batch_size(
            "seed", seed, beta, "seed and beta need the same batch size (one seed per beta)"
        )
        weights = tf.stack([tf.ones_like(beta), beta], axis=-1)
        return {"images": self.model.sample_images_per_example(weights, seed)}

    def _loss_terms(self, images, beta):
        weights, images = self._beta_and_images(beta, images)
        terms = self.model.compute_loss_terms(images, None, weights, training=False)
        return {**terms, "total": terms["reconstruction"] + weights[:, 1] * terms["kl"]}

    def warmup_inputs(self) -> dict:
        """Valid inputs of two examples for every signature, for TF Serving's warmup file."""
        middle = (self.beta_range[0] * self.beta_range[1]) ** 0.5
        images = tf.zeros([2, *self.model.image_shape], tf.float32)
        beta = tf.constant([self.beta_range[0], middle], tf.float32)
        with_images = {"images": images, "beta": beta}
        return {
            "serving_default": with_images,
            "reconstruct": with_images,
            "sample": {"beta": beta, "seed": tf.constant([0, 1], tf.int64)},
            "loss_terms": with_images,
        }
