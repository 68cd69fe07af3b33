"""beta-VAE on MNIST, conditioned on beta: one model for every beta.

Loss per example: `reconstruction + beta * kl`, where reconstruction is the
Bernoulli negative log-likelihood of the pixels summed over the image (grey
levels in [0, 1] are the Bernoulli targets, as in keras-io's VAE) and kl is
`KL(q(z|x) || N(0, I))` summed over latents, both in nats. beta is sampled
log-uniformly per example on [0.125, 512], the paper's range (Dosovitskiy &
Djolonga, ICLR 2020, Sec. 4.1; they used CIFAR-10 and Shapes3D, which are not
available offline, so this zoo entry uses MNIST).

Every conv block ends in a FiLM layer before its nonlinearity, driven by a
`ConditioningMLP` on log(reconstruction weight, beta).

Default config, and what to expect:
    yoto-train --task=beta_vae --model_dir=runs/vae --steps=3000
    yoto-evaluate --task=beta_vae --model_dirs=runs/vae
gives reconstruction rising and KL falling monotonically over beta = 2^-3 .. 2^9.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

import yoto_tf
from zoo.beta_vae.config import TERM_NAMES, Config
from zoo.config_dicts import config_from_dict

keras = tf.keras

# A fixed seed for the reparameterisation noise at evaluation, so evaluations repeat exactly.
_EVALUATION_NOISE_SEED = (20200426, 0)
# MNIST's images.
IMAGE_SHAPE = (28, 28, 1)


@keras.utils.register_keras_serializable(package="zoo")
class BetaVAE(yoto_tf.LossConditionalModel):
    """Convolutional VAE whose conv blocks are FiLM-conditioned on (1, beta).

    Built from the task's `Config` whole, as every task's model is: its weight sampler
    (`Config.weight_sampler`), `latent_dim` (the Gaussian latent's size), `filters` (the
    encoder's stride-2 conv blocks; the decoder mirrors them), `conditioning_units` (the
    conditioning MLP's width), `conditioned` (if False, no conditioning MLP or FiLM at
    all: the plain VAE, the baseline for measuring what conditioning costs) and
    `weight_sum_power`; evaluation at beta = `fixed_beta`, or 1.

    Args:
      config: the task's `Config`.
      image_shape: `(height, width, channels)`; height and width divisible by
        `2 ** len(config.filters)`.
      seed: the seed of the weight sampler and the reparameterisation noise.
    """

    def __init__(self, config: Config, image_shape=IMAGE_SHAPE, seed: int | None = 0, **kwargs):
        weight_sampler = config.weight_sampler()
        super().__init__(
            weight_sampler,
            evaluation_weights={"kl": config.fixed_beta or 1.0},
            seed=seed,
            weight_sum_power=config.weight_sum_power,
            **kwargs,
        )
        if tuple(weight_sampler.term_names) != TERM_NAMES:
            raise ValueError(
                f"BetaVAE needs loss terms {TERM_NAMES}, got {weight_sampler.term_names}."
            )
        self.config = config
        self.latent_dim = int(config.latent_dim)
        self.filters = tuple(int(f) for f in config.filters)
        self.conditioning_units = int(config.conditioning_units)
        self.conditioned = bool(config.conditioned)
        self.image_shape = tuple(int(d) for d in image_shape)
        stride = 2 ** len(self.filters)
        height, width, channels = self.image_shape
        if height % stride or width % stride:
            raise ValueError(
                f"image_shape {self.image_shape} must have height and width divisible by {stride}."
            )
        # A conv followed by FiLM needs no bias of its own: its bias is one value per channel,
        # which FiLM's shift head already provides (conditioning-dependent terms are linear
        # in the conditioning vector too). Dropping it saves a pass over every feature map,
        # as convs before BatchNorm do. The decoder's dense layer keeps its bias: that one is
        # per position, and it is what draws the mean image when KL collapses at high beta.
        conv = dict(kernel_size=3, strides=2, padding="same", use_bias=not self.conditioned)
        self.encoder_convs = [keras.layers.Conv2D(f, **conv) for f in self.filters]
        self.posterior = keras.layers.Dense(2 * self.latent_dim)
        self._bottom_shape = (height // stride, width // stride, self.filters[-1])
        self.decoder_dense = keras.layers.Dense(int(np.prod(self._bottom_shape)))
        self.decoder_convs = [keras.layers.Conv2DTranspose(f, **conv) for f in self.filters[::-1]]
        self.to_logits = keras.layers.Conv2D(channels, 3, padding="same")
        if self.conditioned:
            lows, highs = weight_sampler.bounds()
            self.conditioning = yoto_tf.ConditioningMLP(lows, highs, units=self.conditioning_units)
            self.encoder_films = [yoto_tf.FiLM() for _ in self.filters]
            self.decoder_films = [yoto_tf.FiLM() for _ in range(len(self.filters) + 1)]

    def _condition(self, loss_weights):
        return self.conditioning(loss_weights) if self.conditioned else None

    def _film(self, films, index, features, conditioning):
        return films[index](features, conditioning) if self.conditioned else features

    def encode(self, images, conditioning):
        """Returns the posterior mean and log-variance `[batch, latent_dim]` each."""
        films = self.encoder_films if self.conditioned else None
        x = images
        for i, conv in enumerate(self.encoder_convs):
            x = tf.nn.relu(self._film(films, i, conv(x), conditioning))
        x = tf.reshape(x, [-1, int(np.prod(self._bottom_shape))])
        # float32 under any dtype policy: exp(log_variance) and the KL overflow float16.
        posterior = tf.cast(self.posterior(x), tf.float32)
        mean, log_variance = tf.split(posterior, 2, axis=-1)
        return mean, log_variance

    def decode(self, latents, conditioning):
        """Returns float32 pixel logits `[batch, *image_shape]`."""
        films = self.decoder_films if self.conditioned else None
        # FiLM on the reshaped feature map: one scale and shift per channel, as for convs.
        x = tf.reshape(self.decoder_dense(latents), [-1, *self._bottom_shape])
        x = tf.nn.relu(self._film(films, 0, x, conditioning))
        for i, conv in enumerate(self.decoder_convs):
            x = tf.nn.relu(self._film(films, i + 1, conv(x), conditioning))
        return tf.cast(self.to_logits(x), tf.float32)

    def _weights_or_default(self, images, loss_weights):
        if loss_weights is None:
            return self.evaluation_weight_matrix(tf.shape(images)[0])
        return tf.cast(loss_weights, tf.float32)

    def call(self, images, loss_weights=None, training=None):
        """Reconstructs `images` (pixel probabilities) from the posterior mean."""
        loss_weights = self._weights_or_default(images, loss_weights)
        conditioning = self._condition(loss_weights)
        mean, _ = self.encode(images, conditioning)
        return tf.sigmoid(self.decode(mean, conditioning))

    def sample_images(self, loss_weights, seed):
        """Draws images from the prior, one per row of `loss_weights`, seeded by `seed` (2 ints)."""
        loss_weights = tf.cast(loss_weights, tf.float32)
        latents = tf.random.stateless_normal(
            [tf.shape(loss_weights)[0], self.latent_dim], seed=seed
        )
        return tf.sigmoid(self.decode(latents, self._condition(loss_weights)))

    def sample_images_per_example(self, loss_weights, seeds):
        """Draws image i from the prior with the seed pair `(seeds[i], 0)` and `loss_weights[i]`.

        Each image depends on its own seed and weights only, whatever else is in the
        batch (a served `sample` batches other clients' requests with it); image i
        is `sample_images(loss_weights[i:i + 1], (seeds[i], 0))`.
        """
        seeds = tf.cast(seeds, tf.int64)

        def latent(seed):
            pair = tf.stack([seed, tf.zeros_like(seed)])
            return tf.random.stateless_normal([self.latent_dim], seed=pair)

        latents = tf.map_fn(
            latent, seeds, fn_output_signature=tf.TensorSpec([self.latent_dim], tf.float32)
        )
        return tf.sigmoid(self.decode(latents, self._condition(tf.cast(loss_weights, tf.float32))))

    def compute_loss_terms(self, x, y, loss_weights, training):
        """Per-example reconstruction NLL and KL, both in nats."""
        images = tf.convert_to_tensor(x, tf.float32)
        conditioning = self._condition(loss_weights)
        mean, log_variance = self.encode(images, conditioning)
        if training:
            noise = self.generator.normal(tf.shape(mean))
        else:
            noise = tf.random.stateless_normal(tf.shape(mean), seed=_EVALUATION_NOISE_SEED)
        latents = mean + tf.exp(0.5 * log_variance) * noise
        logits = self.decode(latents, conditioning)
        reconstruction = tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=images, logits=logits), axis=[1, 2, 3]
        )
        kl = 0.5 * tf.reduce_sum(
            tf.square(mean) + tf.exp(log_variance) - 1.0 - log_variance, axis=-1
        )
        return {"reconstruction": reconstruction, "kl": kl}

    def get_config(self):
        """Constructor arguments, for rebuilding the (untrained) model: the Config as a dict."""
        return {
            "config": dataclasses.asdict(self.config),
            "image_shape": list(self.image_shape),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the (untrained) model from `get_config()`."""
        del custom_objects
        return cls(
            config_from_dict(Config, config["config"]),
            image_shape=config["image_shape"],
            seed=config["seed"],
        )


def build_model(config: Config, seed: int = 0) -> BetaVAE:
    """Builds (and creates the variables of) the beta-VAE described by `config`."""
    model = BetaVAE(config, seed=seed)
    model(tf.zeros([1, *model.image_shape]))
    return model


def optimizer(config: Config) -> keras.optimizers.Optimizer:
    """Adam at the configured learning rate and schedule."""
    if config.learning_rate_schedule == "constant":
        return keras.optimizers.Adam(config.learning_rate)
    if config.learning_rate_schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.steps, alpha=0.05
        )
        return keras.optimizers.Adam(schedule)
    raise ValueError(
        f"learning_rate_schedule must be 'constant' or 'cosine', got "
        f"{config.learning_rate_schedule!r}."
    )
