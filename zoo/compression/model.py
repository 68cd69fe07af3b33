"""Variable-rate learned image compression: one scale-hyperprior model for every rate.

The model is Ballé et al. 2018's scale hyperprior ("Variational image
compression with a scale hyperprior", ICLR 2018), built from
tensorflow-compression like its `models/bmshj2018.py`, with a FiLM layer after
every convolution except the last of the synthesis transform, conditioned on
log(1, lambda). Loss per image: `bpp + lambda * mse`, MSE on the 0..255 scale
(tensorflow-compression's and CompressAI's convention), lambda log-uniform per
example on [0.0018, 0.18] (the range of CompressAI's eight quality levels), each
image's loss divided by its lambda so that every rate gets its share of the
gradient (`Config.weight_sum_power`). The four transforms are the layers of
`transforms.py`; the hyperparameters are `config.Config`, the data `data.py`.

The paper (Dosovitskiy & Djolonga, ICLR 2020) evaluated on Kodak, which is not
available offline; this task trains on random crops of the photographs that ship
inside installed wheels (`zoo/data/photos.py`) and evaluates on held-out ones.

What the default config, the release runs and the released codec measure against JPEG
and WebP is in experiments/README.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc

import yoto_tf
from zoo.compression import codec_format, integer_network, transforms
from zoo.compression import config as compression_config
from zoo.compression.codec_format import STRIDE
from zoo.compression.config import TERM_NAMES, Config
from zoo.config_dicts import config_from_dict

keras = tf.keras


# How the latents are coded (`Config.entropy_model`):
# - "scale": Ballé et al. 2018's scale hyperprior: zero-mean priors whose scales the
#   hyper-synthesis predicts (every release up to v6, `.yoto` versions 1 and 2);
# - "mean_scale": Minnen, Ballé and Toderici 2018: the hyper-synthesis also predicts each
#   latent's mean, and the coder codes `round(y - mean)`;
# - "channel_context": mean-scale with Minnen and Singh 2020's channel-wise context: the
#   latents are coded in `context_slices` slices, each slice's means and scales corrected
#   from the slices decoded before it.
# The last two need the integer hyper-synthesis: means decide the decoded values and the
# context reads them, so both are computed exactly (zoo/compression/integer_network.py).
ENTROPY_MODELS = ("scale", "mean_scale", "channel_context")


def _round_straight_through(values):
    return values + tf.stop_gradient(tf.round(values) - values)


def noisy_bits(entropy_model, perturbed, indexes=None):
    """Bits of noise-perturbed values under a tfc entropy model's (indexed) prior, per image.

    What `entropy_model(x, [indexes], training=True)` returns beside `perturbed = x + u`,
    for noise `u` drawn by the caller. tfc 2.14 takes no noise argument, so this calls
    its `_make_prior` and `_log_prob` (pinned; tests compare the two on tfc's own noise).
    """
    if indexes is None:
        prior = entropy_model.prior
    else:
        prior = entropy_model._make_prior(entropy_model._normalize_indexes(indexes))  # noqa: SLF001
    log_probs = entropy_model._log_prob(prior, perturbed)  # noqa: SLF001
    axes = tuple(range(-entropy_model.coding_rank, 0))
    return tf.reduce_sum(log_probs, axis=axes) / -math.log(2.0)


@keras.utils.register_keras_serializable(package="zoo")
class HyperpriorCodec(yoto_tf.LossConditionalModel):
    """Scale-hyperprior image codec conditioned on (1, lambda).

    `compute_loss_terms` gives per-image bits per pixel ("rate") and MSE on the
    0..255 scale ("distortion") with additive-noise quantisation (training) or
    rounding (evaluation). `compress`/`decompress` produce and read real
    range-coded strings; `zoo/compression/codec.py` wraps them in a file format.

    Built from the task's `Config` whole, as every task's model is: its weight sampler
    (`Config.weight_sampler`), `weight_sum_power` (over the distortion weight alone, the
    rate's being 1), the transforms' widths, the scale table, the conditioning and the
    entropy model; evaluation at lambda = `fixed_lmbda`, or 0.018. The fields the coder
    reads are also attributes (`num_filters`, `num_latent_filters` and `num_hyper_filters`
    with None resolved to `num_filters`, `entropy_model`, ...).

    Args:
      config: the task's `Config`.
      seed: the seed of the weight sampler and the quantization noise.
    """

    def __init__(self, config: Config, seed: int | None = 0, **kwargs):
        weight_sampler = config.weight_sampler()
        super().__init__(
            weight_sampler,
            evaluation_weights={"distortion": config.fixed_lmbda or 0.018},
            seed=seed,
            weight_sum_power=config.weight_sum_power,
            weight_sum_terms=("distortion",),
            **kwargs,
        )
        if tuple(weight_sampler.term_names) != TERM_NAMES:
            raise ValueError(
                f"HyperpriorCodec needs loss terms {TERM_NAMES}, got {weight_sampler.term_names}."
            )
        self.config = config
        self.num_filters = int(config.num_filters)
        self.num_latent_filters = int(config.num_latent_filters or config.num_filters)
        self.num_hyper_filters = int(config.num_hyper_filters or config.num_filters)
        self.num_scales = int(config.num_scales)
        self.scale_min, self.scale_max = float(config.scale_min), float(config.scale_max)
        self.conditioning_units = int(config.conditioning_units)
        self.conditioning_initializer = config.conditioning_initializer
        self.conditioned = bool(config.conditioned)
        self.latent_gain_exponent = float(config.latent_gain_exponent)
        self.integer_entropy_parameters = bool(config.integer_entropy_parameters)
        self.entropy_model = str(config.entropy_model)
        self.context_slices = int(config.context_slices)
        self.context_filters = int(config.context_filters)
        self._check_entropy_model()
        lows, highs = weight_sampler.bounds()
        distortion = TERM_NAMES.index("distortion")
        # The trained lambda range: every coder, servable and binary reads it from here.
        self.lmbda_range = (lows[distortion], highs[distortion])
        self._reference_lmbda = math.sqrt(lows[distortion] * highs[distortion])
        n, m, film = self.num_filters, self.num_latent_filters, self.conditioned
        h = self.num_hyper_filters
        self.analysis = transforms.AnalysisTransform(n, m, film)
        self.synthesis = transforms.SynthesisTransform(n, film)
        self.hyper_analysis = transforms.HyperAnalysisTransform(h, film, self.predicts_means)
        if self.integer_entropy_parameters:
            self.hyper_synthesis = integer_network.IntegerHyperSynthesis(
                h,
                m,
                self.num_scales,
                lmbda_range=self.lmbda_range if film else None,
                conditioning_units=max(4, self.conditioning_units // 4),
                predicts_means=self.entropy_model != "scale",
            )
        else:
            self.hyper_synthesis = transforms.HyperSynthesisTransform(h, m, film)
        self.slice_contexts = [
            integer_network.IntegerSliceContext(
                m // self.num_slices,
                self.context_filters,
                lmbda_range=self.lmbda_range if film else None,
                conditioning_units=max(4, self.conditioning_units // 16),
                name=f"context_{index}",
            )
            for index in range(1, self.num_slices)
        ]
        self.hyperprior = tfc.NoisyDeepFactorized(batch_shape=[h])
        if self.conditioned:
            lows, highs = weight_sampler.bounds()
            self.conditioning = yoto_tf.ConditioningMLP(
                lows,
                highs,
                units=self.conditioning_units,
                kernel_initializer=self.conditioning_initializer,
            )
        if config.frozen_transforms:
            for layer in (self.analysis, self.synthesis, getattr(self, "conditioning", None)):
                if layer is not None:
                    layer.trainable = False
        self._coding_models = None

    def _check_entropy_model(self):
        if self.entropy_model not in ENTROPY_MODELS:
            raise ValueError(
                f"entropy_model must be one of {ENTROPY_MODELS}, got {self.entropy_model!r}."
            )
        if self.entropy_model != "scale" and not self.integer_entropy_parameters:
            raise ValueError(
                f"entropy_model={self.entropy_model!r} needs integer_entropy_parameters=True: "
                "its means and context decide the decoded latents, so they are computed "
                "exactly."
            )
        if self.entropy_model == "channel_context" and (
            self.context_slices < 2 or self.num_latent_filters % self.context_slices
        ):
            raise ValueError(
                f"context_slices must be at least 2 and divide the {self.num_latent_filters} "
                f"latent channels, got {self.context_slices}."
            )

    @property
    def num_slices(self) -> int:
        """How many slices the latents are coded in (1 without a context model)."""
        return self.context_slices if self.entropy_model == "channel_context" else 1

    @property
    def predicts_means(self) -> bool:
        """Whether latents are coded around predicted means (`.yoto` version 3)."""
        return self.entropy_model != "scale"

    def coding_architecture(self) -> str:
        """How this codec codes its latents, by name: "scale", "mean_scale", "channel_context/4"."""
        if self.entropy_model == "channel_context":
            return f"channel_context/{self.num_slices}"
        return self.entropy_model

    def _sliced_latents(self, side, lmbda, training, decode_slice):
        """The entropy-parameter path of mean-scale models, slice by slice.

        `side`: noisy hyper-latents (training) or side symbols. `decode_slice(index, means,
        raw_scales)` gives the slice's decoded latents (what the slices after it read):
        `round(y - mean) + mean` when encoding, `symbols + mean` when decoding, with a
        straight-through rounding in training. Everything here is exact float64 on its
        grid unless training. Returns the decoded latents of every slice, concatenated.
        """
        exact = not training
        raw_scales, means = self.hyper_synthesis.parameters(side, lmbda, training=training)
        width = self.num_latent_filters // self.num_slices
        decoded = []
        for index in range(self.num_slices):
            channels = slice(index * width, (index + 1) * width)
            slice_scales, slice_means = raw_scales[..., channels], means[..., channels]
            if index > 0:
                # The raw scales enter the context on the mean grid (clipped like the means).
                scale_inputs = integer_network.quantized_mean(slice_scales, exact)
                context = tf.concat([*decoded, slice_means, scale_inputs], axis=-1)
                scale_change, mean_change = self.slice_contexts[index - 1](
                    context, lmbda, training=training
                )
                slice_scales = slice_scales + scale_change
                slice_means = integer_network.quantized_mean(slice_means + mean_change, exact)
            decoded.append(decode_slice(index, slice_means, slice_scales))
        return tf.concat(decoded, axis=-1)

    def _slice_channels(self, index):
        width = self.num_latent_filters // self.num_slices
        return slice(index * width, (index + 1) * width)

    def _scale_fn(self, index):
        log_min, log_max = math.log(self.scale_min), math.log(self.scale_max)
        return tf.exp(log_min + (log_max - log_min) / (self.num_scales - 1) * index)

    def _entropy_models(self, compression: bool):
        # float32 whatever the dtype policy: likelihoods of small scales underflow in float16.
        latent = tfc.LocationScaleIndexedEntropyModel(
            tfc.NoisyNormal,
            self.num_scales,
            self._scale_fn,
            coding_rank=3,
            compression=compression,
            bottleneck_dtype=tf.float32,
        )
        # Integer-index models quantize the hyper-latents to integers, not around the prior's
        # float-estimated medians: the side symbols are then what the hyper-synthesis saw
        # in training (z + noise) and no machine-dependent offset enters the index path.
        side = tfc.ContinuousBatchedEntropyModel(
            self.hyperprior,
            coding_rank=3,
            compression=compression,
            bottleneck_dtype=tf.float32,
            offset_heuristic=not self.integer_entropy_parameters,
        )
        return latent, side

    def prepare_for_coding(self):
        """Builds the range-coding tables from the learned priors (call after training)."""
        self._coding_models = self._entropy_models(compression=True)

    def _condition(self, loss_weights):
        return self.conditioning(loss_weights) if self.conditioned else None

    def _scale_indexes(self, z_hat, conditioning, lmbda, training=False):
        """Scale-table indexes of the latents' priors, predicted from the hyper-latents.

        Training gets the raw, continuous output: the entropy model clamps it to the table
        with tfc's `lower_bound`, whose gradient still pushes a too-small scale up (a
        `tf.maximum` here would zero that gradient and leave such scales stuck at
        `scale_min`). Everywhere else the indexes are the integers the range coder uses
        (it clamps, then truncates), so the model's rate estimate is computed under exactly
        the distributions the bitstream is coded with. The integer network reads the
        side symbols (`z_hat` itself: its side model quantizes to integers) and the
        lambda level.
        """
        if self.integer_entropy_parameters:
            return self.hyper_synthesis(z_hat, lmbda, training=training)
        raw = self.hyper_synthesis(z_hat, conditioning)
        if training:
            return raw
        return tf.floor(tf.clip_by_value(raw, 0.0, self.num_scales - 1.0))

    def _latent_gain(self, lmbda):
        """`[B, 1, 1, 1]` gain on the latents for per-image `lmbda` `[B]` (1 when off)."""
        lmbda = tf.cast(lmbda, tf.float32)
        gain = (lmbda / self._reference_lmbda) ** self.latent_gain_exponent
        return tf.reshape(gain, [-1, 1, 1, 1])

    def analyse(self, images, conditioning, lmbda):
        """float32 latents `y` (gain applied) of float images on the 0..255 scale."""
        return self.analysis(images, conditioning) * self._latent_gain(lmbda)

    def _hyper_analyse(self, y, conditioning):
        return self.hyper_analysis(y, conditioning)

    def synthesise(self, y_hat, conditioning, lmbda):
        """float32 images on the 0..255 scale (unclipped) from quantised latents."""
        y_hat = y_hat / self._latent_gain(lmbda)
        return self.synthesis(y_hat, conditioning)

    def _perturb(self, x):
        """Training's quantization noise, `x + U(-1/2, 1/2)`, from the model's generator.

        tfc's entropy models draw it from TensorFlow's global stream, which depends on how
        the graph was replicated; the generator gives each replica a stream of its own,
        derived from the seed and the replica index, like the loss weights.
        """
        return x + self.generator.uniform(tf.shape(x), -0.5, 0.5)

    def _forward(self, images, loss_weights, training):
        conditioning = self._condition(loss_weights)
        lmbda = loss_weights[:, TERM_NAMES.index("distortion")]
        if training or self._coding_models is None:
            latent_model, side_model = self._entropy_models(compression=False)
        else:
            # Once coding is prepared, evaluation quantizes the hyper-latents around the
            # same offsets as the coder, so the estimate describes the very bitstream.
            latent_model, side_model = self._coding_models
        y = self.analyse(images, conditioning, lmbda)
        z = self._hyper_analyse(y, conditioning)
        if self.predicts_means:
            if training:
                y_hat, bits = self._noisy_mean_terms(latent_model, side_model, y, z, lmbda)
                # The synthesis learns from noisy latents, as the scale-only codec's does.
                y_hat = self._perturb(y)
            else:
                y_hat, bits = self._rounded_mean_terms(latent_model, side_model, y, z, lmbda)
            return self.synthesise(y_hat, conditioning, lmbda), bits
        if training:
            z_tilde = self._perturb(z)
            side_bits = noisy_bits(side_model, z_tilde)
            indexes = self._scale_indexes(z_tilde, conditioning, lmbda, training=True)
            y_tilde = self._perturb(y)
            bits = noisy_bits(latent_model, y_tilde, indexes)
        else:
            z_tilde, side_bits = side_model(z, training=False)
            indexes = self._scale_indexes(z_tilde, conditioning, lmbda)
            y_tilde, bits = latent_model(y, indexes, training=False)
        reconstruction = self.synthesise(y_tilde, conditioning, lmbda)
        return reconstruction, bits + side_bits

    def _noisy_mean_terms(self, latent_model, side_model, y, z, lmbda, y_noise=None, z_noise=None):
        """Training's rates of a mean-scale model and its latents rounded straight-through.

        Bits of `y + noise - mean` under each latent's scale, from noisy hyper-latents;
        the context reads what the decoder will: `round(y - mean) + mean`. Returns
        `(y_hat, bits per image)`; the noise is drawn here unless given.
        """
        z_tilde = z + z_noise if z_noise is not None else self._perturb(z)
        y_tilde = y + y_noise if y_noise is not None else self._perturb(y)
        bits = noisy_bits(side_model, z_tilde)
        slice_bits = []

        def decode_slice(index, means, raw_scales):
            channels = self._slice_channels(index)
            slice_bits.append(noisy_bits(latent_model, y_tilde[..., channels] - means, raw_scales))
            return _round_straight_through(y[..., channels] - means) + means

        y_hat = self._sliced_latents(z_tilde, lmbda, True, decode_slice)
        return y_hat, bits + tf.add_n(slice_bits)

    def _rounded_mean_terms(self, latent_model, side_model, y, z, lmbda):
        """What coding `y`, `z` gives a mean-scale model: `(y_hat float32, bits per image)`."""
        side_symbols, side_bits = side_model(z, training=False)
        symbols, scale_indexes = [], []
        y_hat = self._encode_slices(y, side_symbols, lmbda, symbols, scale_indexes)
        bits = [
            latent_model(slice_symbols, indexes, training=False)[1]
            for slice_symbols, indexes in zip(symbols, scale_indexes, strict=True)
        ]
        return y_hat, side_bits + tf.add_n(bits)

    def _encode_slices(self, y, side_symbols, lmbda, symbols, scale_indexes):
        """Quantizes latents `y` around their exact means; returns float32 `y_hat`.

        Appends each slice's float32 symbols `round(y - mean)` and scale indexes to the
        lists given: the encoder's choice, which need not be reproducible, while the
        decoded values `symbols + mean` are exact.
        """
        y64 = tf.cast(y, tf.float64)

        def decode_slice(index, means, raw_scales):
            rounded = tf.round(y64[..., self._slice_channels(index)] - means)
            symbols.append(tf.cast(rounded, tf.float32))
            scale_indexes.append(integer_network.scale_indexes(raw_scales, self.num_scales))
            return rounded + means

        return tf.cast(self._sliced_latents(side_symbols, lmbda, False, decode_slice), tf.float32)

    def _decode_slices(self, side_symbols, lmbda, slice_symbols):
        """float32 `y_hat` from side symbols and `slice_symbols(index, scale_indexes)`."""

        def decode_slice(index, means, raw_scales):
            indexes = integer_network.scale_indexes(raw_scales, self.num_scales)
            return tf.cast(slice_symbols(index, indexes), tf.float64) + means

        return tf.cast(self._sliced_latents(side_symbols, lmbda, False, decode_slice), tf.float32)

    def call(self, images, loss_weights=None, training=None):
        """Reconstructs float images `[B, H, W, 3]` (0..255, H and W multiples of 64)."""
        images = tf.cast(images, tf.float32)
        if loss_weights is None:
            loss_weights = self.evaluation_weight_matrix(tf.shape(images)[0])
        reconstruction, _ = self._forward(images, loss_weights, training=bool(training))
        return reconstruction

    def compute_loss_terms(self, x, y, loss_weights, training):
        """Per-image bits per pixel and MSE (0..255 scale)."""
        images = tf.cast(x, tf.float32)
        reconstruction, bits = self._forward(images, loss_weights, training=training)
        num_pixels = tf.cast(tf.reduce_prod(tf.shape(images)[1:3]), tf.float32)
        if not training:
            reconstruction = tf.clip_by_value(tf.round(reconstruction), 0.0, 255.0)
        mse = tf.reduce_mean(tf.math.squared_difference(images, reconstruction), axis=[1, 2, 3])
        return {"rate": bits / num_pixels, "distortion": mse}

    def _coding_setup(self, lmbda):
        """The range-coding entropy models and the conditioning for per-image `lmbda` `[B]`."""
        if self._coding_models is None:
            self.prepare_for_coding()
        weights = compression_config.loss_weights(lmbda)
        return (*self._coding_models, self._condition(weights))

    def latents(self, images, lmbda):
        """The encoder's latents `y` and hyper-latents `z` of uint8 images at per-image `lmbda`."""
        _, _, conditioning = self._coding_setup(lmbda)
        y = self.analyse(tf.cast(images, tf.float32), conditioning, lmbda)
        return y, self._hyper_analyse(y, conditioning)

    def compress(self, images, lmbda):
        """Range-codes uint8 images `[B, H, W, 3]` (H, W multiples of 64) at per-image `lmbda`.

        Returns `(latent_strings [B], side_strings [B], latent_shape, side_shape)`.
        """
        y, z = self.latents(images, lmbda)
        latent_strings, side_strings = self.compress_latents(y, z, lmbda)
        return latent_strings, side_strings, tf.shape(y)[1:-1], tf.shape(z)[1:-1]

    def compress_latents(self, y, z, lmbda):
        """Range-codes latents `y` and hyper-latents `z`, from `latents` or refined ones.

        Returns `(latent_strings [B], side_strings [B])`; `decompress` reads them back.
        """
        latent_model, side_model, conditioning = self._coding_setup(lmbda)
        side_strings = side_model.compress(z)
        z_hat = side_model.decompress(side_strings, tf.shape(z)[1:-1])
        if self.predicts_means:
            # One string per slice, `[B, slices]`: a decoder needs each slice's before the next.
            symbols, scale_indexes = [], []
            self._encode_slices(y, z_hat, lmbda, symbols, scale_indexes)
            strings = [
                latent_model.compress(slice_symbols, indexes)
                for slice_symbols, indexes in zip(symbols, scale_indexes, strict=True)
            ]
            return tf.stack(strings, axis=-1), side_strings
        indexes = self._scale_indexes(z_hat, conditioning, lmbda)
        return latent_model.compress(y, indexes), side_strings

    def coded_terms(self, images, y, z, lmbda):
        """What coding latents `y`, `z` gives: per-image bpp estimate, MSE, uint8 images.

        The rate is computed under the coder's integer scale indexes and the distortion
        from the rounded, clipped reconstruction `decompress` returns.
        """
        latent_model, side_model, conditioning = self._coding_setup(lmbda)
        if self.predicts_means:
            y_hat, bits = self._rounded_mean_terms(latent_model, side_model, y, z, lmbda)
            reconstruction = self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))
            return self._rate_and_distortion(images, bits, reconstruction)
        z_hat, side_bits = side_model(z, training=False)
        indexes = self._scale_indexes(z_hat, conditioning, lmbda)
        y_hat, bits = latent_model(y, indexes, training=False)
        reconstruction = self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))
        return self._rate_and_distortion(images, bits + side_bits, reconstruction)

    def relaxed_terms(self, images, y, z, lmbda, y_noise, z_noise):
        """A differentiable stand-in for `coded_terms`, for optimising the latents themselves.

        Rates as in training, from noise-perturbed latents (`*_noise`: uniform in
        [-1/2, 1/2]); distortion from rounded latents with a straight-through gradient,
        so the decoder is optimised for what it will really receive (Minnen and Singh,
        ICIP 2020, train this way).
        """
        latent_model, side_model = self._entropy_models(compression=False)
        conditioning = self._condition(compression_config.loss_weights(lmbda))
        if self.predicts_means:
            y_hat, bits = self._noisy_mean_terms(
                latent_model, side_model, y, z, lmbda, y_noise=y_noise, z_noise=z_noise
            )
            return self._rate_and_distortion(
                images, bits, self.synthesise(y_hat, conditioning, lmbda)
            )
        z_tilde = z + z_noise
        indexes = self._scale_indexes(z_tilde, conditioning, lmbda, training=True)
        bits = noisy_bits(side_model, z_tilde) + noisy_bits(latent_model, y + y_noise, indexes)
        y_hat = y + tf.stop_gradient(tf.round(y) - y)
        return self._rate_and_distortion(images, bits, self.synthesise(y_hat, conditioning, lmbda))

    @staticmethod
    def _rate_and_distortion(images, bits, reconstruction):
        images = tf.cast(images, tf.float32)
        num_pixels = tf.cast(tf.reduce_prod(tf.shape(images)[1:3]), tf.float32)
        difference = images - tf.cast(reconstruction, tf.float32)
        return {
            "rate": bits / num_pixels,
            "distortion": tf.reduce_mean(tf.square(difference), axis=[1, 2, 3]),
            "reconstruction": reconstruction,
        }

    def decompress(self, latent_strings, side_strings, lmbda, side_shape):
        """Inverse of `compress`: uint8 images `[B, H, W, 3]` (padded size)."""
        latent_model, side_model, conditioning = self._coding_setup(lmbda)
        z_hat = side_model.decompress(side_strings, side_shape)
        if self.predicts_means:
            y_hat = self._decode_slices(
                z_hat,
                lmbda,
                lambda index, indexes: latent_model.decompress(latent_strings[:, index], indexes),
            )
            return self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))
        indexes = self._scale_indexes(z_hat, conditioning, lmbda)
        y_hat = latent_model.decompress(latent_strings, indexes)
        return self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))

    def quantized_reconstruction(self, images, lmbda):
        """What `decompress(compress(images))` must equal: the model with rounding, as uint8."""
        latent_model, side_model, conditioning = self._coding_setup(lmbda)
        y = self.analyse(tf.cast(images, tf.float32), conditioning, lmbda)
        if self.predicts_means:
            side_symbols = side_model.quantize(self._hyper_analyse(y, conditioning))
            y_hat = self._encode_slices(y, side_symbols, lmbda, [], [])
            return self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))
        # The scale model has no location: latents are rounded to integers, whatever the scale.
        y_hat = latent_model.quantize(y)
        return self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))

    # The codec split at the range coder, in stock TensorFlow ops only: a server without
    # tensorflow-compression's ops runs these, and the client range-codes the symbols
    # with `coding_tables()` (serving/range_coding.py), writing the same bytes as
    # `compress`.

    def coding_symbols(self, images, lmbda):
        """What `compress` range-codes, for uint8 images `[B, H, W, 3]` at per-image `lmbda`.

        Returns int32 `latent_symbols` (the rounded latents), `side_symbols` (the
        hyper-latents rounded around the prior's quantization offsets) and the latents'
        `scale_indexes`.
        """
        latent_model, side_model, conditioning = self._coding_setup(lmbda)
        y = self.analyse(tf.cast(images, tf.float32), conditioning, lmbda)
        z = self._hyper_analyse(y, conditioning)
        side_symbols = tf.cast(tf.round(z - self._side_offset(side_model)), tf.int32)
        if self.predicts_means:
            symbols, scale_indexes = [], []
            self._encode_slices(y, side_symbols, lmbda, symbols, scale_indexes)
            return {
                "latent_symbols": tf.cast(tf.concat(symbols, axis=-1), tf.int32),
                "side_symbols": side_symbols,
                "scale_indexes": tf.cast(tf.concat(scale_indexes, axis=-1), tf.int32),
            }
        return {
            "latent_symbols": tf.cast(tf.round(y), tf.int32),
            "side_symbols": side_symbols,
            "scale_indexes": self.scale_indexes_from_side_symbols(side_symbols, lmbda),
        }

    def scale_indexes_from_side_symbols(self, side_symbols, lmbda, latent_symbols=None):
        """The latents' int32 scale indexes from decoded hyper-latent symbols.

        A context model's indexes of slice k also depend on the latent symbols of the
        slices before it: with `latent_symbols` holding those (any values in slice k and
        after), slice k of the result is the decoder's. A decoder calls this once a slice.
        """
        _, side_model, conditioning = self._coding_setup(lmbda)
        if self.predicts_means:
            indexes = []
            if latent_symbols is None:
                if self.num_slices > 1:
                    raise ValueError("A context model's scale indexes need latent_symbols.")
                latent_symbols = tf.zeros(tf.shape(side_symbols), tf.int32)  # Unread.

            def slice_symbols(index, scale_indexes):
                indexes.append(scale_indexes)
                return latent_symbols[..., self._slice_channels(index)]

            self._decode_slices(side_symbols, lmbda, slice_symbols)
            return tf.cast(tf.concat(indexes, axis=-1), tf.int32)
        if self.integer_entropy_parameters:
            return tf.cast(self.hyper_synthesis(side_symbols, lmbda, training=False), tf.int32)
        z_hat = tf.cast(side_symbols, tf.float32) + self._side_offset(side_model)
        return tf.cast(self._scale_indexes(z_hat, conditioning, lmbda), tf.int32)

    def synthesise_symbols(self, latent_symbols, lmbda, side_symbols=None):
        """uint8 images from decoded latent symbols: the end of `decompress`.

        Mean-scale models decode `symbols + mean`, so they need the `side_symbols` too.
        """
        _, _, conditioning = self._coding_setup(lmbda)
        if self.predicts_means:
            if side_symbols is None:
                raise ValueError("A mean-scale model's latents need the side_symbols too.")
            y_hat = self._decode_slices(
                side_symbols,
                lmbda,
                lambda index, _: latent_symbols[..., self._slice_channels(index)],
            )
            return self._to_uint8(self.synthesise(y_hat, conditioning, lmbda))
        return self._to_uint8(
            self.synthesise(tf.cast(latent_symbols, tf.float32), conditioning, lmbda)
        )

    def coding_tables(self):
        """The range coder's tables: everything a client needs besides the symbols."""
        if self._coding_models is None:
            self.prepare_for_coding()
        latent_model, side_model = self._coding_models
        return {
            "latent_cdf": latent_model.cdf,
            "latent_cdf_offset": latent_model.cdf_offset,
            "side_cdf": side_model.cdf,
            "side_cdf_offset": side_model.cdf_offset,
        }

    def coding_fingerprint(self) -> bytes | None:
        """8 bytes identifying everything that decides the probability tables, or None.

        A SHA-256 over the range coder's tables and the integer hyper-synthesis's
        integers (with the lambda grid): two models give the same fingerprint only if
        every file of one decodes with the other. None for float-index models, whose
        indexes are not reproducible across platforms anyway (format version 1).
        """
        if not self.integer_entropy_parameters:
            return None
        digest = hashlib.sha256()
        low, high = self.lmbda_range
        digest.update(f"yoto-integer-index/{codec_format.LMBDA_LEVELS}/{low!r}/{high!r}".encode())
        if self.predicts_means:
            digest.update(f"/{self.coding_architecture()}".encode())
        tables = self.coding_tables()
        arrays = [np.asarray(tables[name]) for name in sorted(tables)]
        arrays += self.hyper_synthesis.integer_parameters()
        for context in self.slice_contexts:
            arrays += context.integer_parameters()
        for array in arrays:
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array, np.int64).tobytes())
        return digest.digest()[: codec_format.FINGERPRINT_SIZE]

    @staticmethod
    def _side_offset(side_model):
        offset = side_model.quantization_offset
        return 0.0 if offset is None else offset

    @staticmethod
    def _to_uint8(images):
        return tf.cast(tf.clip_by_value(tf.round(images), 0.0, 255.0), tf.uint8)

    def get_config(self):
        """Constructor arguments, for rebuilding the (untrained) model: the Config as a dict."""
        return {"config": dataclasses.asdict(self.config), "seed": self.seed}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the (untrained) model from `get_config()`."""
        del custom_objects
        # JSON turns the Config's tuples (learning_rate_drops) into lists.
        return cls(config_from_dict(Config, config["config"]), seed=config["seed"])


def build_model(config: Config, seed: int = 0) -> HyperpriorCodec:
    """Builds (and creates the variables of) the codec described by `config`."""
    model = HyperpriorCodec(config, seed=seed)
    model(tf.zeros([1, STRIDE, STRIDE, 3]))
    return model


def optimizer(config: Config) -> keras.optimizers.Optimizer:
    """Adam at the configured learning rate, divided by 10 at each of `learning_rate_drops`."""
    if not config.learning_rate_drops:
        return keras.optimizers.Adam(config.learning_rate)
    # The schedule reads the optimizer's step counter (checkpointed) before each update and
    # keeps the first rate while it is <= a boundary: `d - 1` makes exactly d updates at it.
    boundaries = [int(step) - 1 for step in config.learning_rate_drops]
    rates = [config.learning_rate * 0.1**index for index in range(len(boundaries) + 1)]
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, rates)
    return keras.optimizers.Adam(schedule)
