"""Integer networks: the codec's entropy-model parameters computed identically on every platform.

Range decoding needs the decoder's probability tables to equal the encoder's bit
for bit, and the table of each latent is chosen by a scale index that the
hyper-synthesis computes. In float arithmetic that index may come out one apart on
two machines (another instruction set, oneDNN on or off, another thread count, a
GPU, XLA, another TensorFlow), and the file then fails to decode or decodes to a
wrong image. Ballé, Johnston and Minnen ("Integer networks for data compression
with latent-variable models", ICLR 2019) compute everything that decides the
tables in integer arithmetic; this module does the same.

Every quantity of the exact path is a dyadic rational `units * 2**-fraction_bits`
with bounded `units`: the input symbols, the quantized kernels and biases, the
activations (a clipped, quantized ReLU), and the FiLM scales and shifts computed
from the lambda level by a small quantized MLP. The exact path computes on these
values in float64, where every product and partial sum is an integer multiple of
its grid and at most 2**53 of them in magnitude (`check_exact_bounds` proves it for
a configuration), so any summation order, FMA or not, gives the same result on
any device; each accumulator is then snapped back to its grid with a rounding,
which also absorbs the tiny errors of conv algorithms that are not exact sums
(Winograd, FFT). Kernels and biases are float32 variables: `round(v * 2**f)` of a
stored float32 is the same integer everywhere. The exact path divides only by powers
of two, which is exact, and every op (conv2d, conv2d_transpose,
matmul, round, floor, clip on float64) is a stock TensorFlow op that runs on CPU
and GPU servers alike.

Training runs the same network in float32 with straight-through rounding (the
forward pass sees the quantized values, the gradient passes as if unquantized),
so the network learns what it will compute.

The lambda level: lambda enters the exact path only as an integer level
`q = round(LEVELS * log(lambda / low) / log(high / low))` (`codec_format`), and
`.yoto` files of these models store a lambda on that grid, so every machine
computes the same level from the header (a grid lambda sits half a level from
either rounding boundary).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from zoo.compression import codec_format

keras = tf.keras

# Kernels: 12 fraction bits, |kernel| < 8. Biases: 12 fraction bits, |bias| < 256.
WEIGHT_FRACTION_BITS = 12
WEIGHT_UNITS = 2**15 - 1
BIAS_UNITS = 2**20 - 1
# Activations: a quantized ReLU, 6 fraction bits, clipped to [0, 255].
ACTIVATION_FRACTION_BITS = 6
ACTIVATION_UNITS = 255 * 2**ACTIVATION_FRACTION_BITS
# FiLM: scale in (-7, 9) and shift in [-255, 255], both with 8 fraction bits.
MODULATION_FRACTION_BITS = 8
SCALE_OFFSET_UNITS = 8 * 2**MODULATION_FRACTION_BITS - 1
SHIFT_UNITS = 255 * 2**MODULATION_FRACTION_BITS
# The hyper-latent symbols a decoder may read are clipped to this before the network.
SYMBOL_LIMIT = 255
# Latent means (mean-scale models): 6 fraction bits, |mean| <= 255. A decoded latent
# `symbol + mean` is then on the activation grid, exact in float32 and float64 alike, and
# the context networks read it as they read activations.
MEAN_FRACTION_BITS = ACTIVATION_FRACTION_BITS
MEAN_UNITS = 255 * 2**MEAN_FRACTION_BITS
# The lambda level enters the conditioning MLP as q / (LEVELS / 2) - 1 in [-1, 1].
LEVEL_FRACTION_BITS = int(math.log2(codec_format.LMBDA_LEVELS // 2))
EXACT_LIMIT = 2.0**53


def quantize(values, fraction_bits: int, low_units: int, high_units: int, straight_through=True):
    """`values` on the grid `2**-fraction_bits`, clipped to `[low_units, high_units]` units.

    Exact in float32 and float64 (scaling by powers of two and rounding to integers
    are exact). With `straight_through` the gradient passes as if unquantized.
    """
    scale = 2.0**fraction_bits
    quantized = tf.clip_by_value(tf.round(values * scale), low_units, high_units) / scale
    if not straight_through:
        return quantized
    return values + tf.stop_gradient(quantized - values)


def quantized_relu(values, exact: bool):
    """ReLU clipped to [0, 255] on the activation grid (the paper's QReLU).

    The clip has its true gradient (zero outside), the rounding a straight-through one.
    """
    clipped = tf.clip_by_value(values, 0.0, ACTIVATION_UNITS / 2.0**ACTIVATION_FRACTION_BITS)
    return quantize(
        clipped, ACTIVATION_FRACTION_BITS, 0, ACTIVATION_UNITS, straight_through=not exact
    )


def snap(values, fraction_bits: int):
    """Rounds an exact path's accumulator to its grid (a no-op when the sum was exact)."""
    scale = 2.0**fraction_bits
    return tf.round(values * scale) / scale


def quantized_mean(values, exact: bool):
    """Latent means on their grid (`MEAN_FRACTION_BITS`), clipped to [-255, 255].

    Training rounds straight-through; the exact path's values are what the coder uses.
    """
    return quantize(values, MEAN_FRACTION_BITS, -MEAN_UNITS, MEAN_UNITS, straight_through=not exact)


def scale_indexes(raw, num_scales: int):
    """The range coder's integer scale indexes (as float32) from an exact path's raw output."""
    return tf.cast(tf.clip_by_value(tf.floor(raw), 0.0, num_scales - 1.0), tf.float32)


def lmbda_level(lmbda, low: float, high: float):
    """int32 levels `[B]` of float lambdas `[B]`: `codec_format.lmbda_level` in the graph.

    Computed in float64: for a lambda on the grid (every `.yoto` v2 header's) the
    rounding has half a level of margin against float32's and log's errors of 1e-5.
    """
    position = tf.math.log(tf.cast(lmbda, tf.float64) / low) / math.log(high / low)
    level = tf.round(position * codec_format.LMBDA_LEVELS)
    return tf.cast(tf.clip_by_value(level, 0.0, codec_format.LMBDA_LEVELS), tf.int32)


def _weight(variable, dtype, units, exact):
    values = tf.cast(variable, dtype)
    return quantize(values, WEIGHT_FRACTION_BITS, -units, units, straight_through=not exact)


def _units(variable, units) -> np.ndarray:
    """The integer units of a quantized weight, as the exact path uses them."""
    values = np.asarray(variable.numpy(), np.float64) * 2.0**WEIGHT_FRACTION_BITS
    return np.clip(np.round(values), -units, units).astype(np.int64)


@keras.utils.register_keras_serializable(package="zoo")
class IntegerConv2D(keras.layers.Layer):
    """A convolution with quantized kernel and bias (stride 1, or transposed with stride 2).

    `call(x, exact)`: with `exact`, `x` must be float64 on the grid `2**-input_fraction_bits`
    and the result is the exact float64 accumulator `conv(x, K) + b` on its grid;
    otherwise float32 with straight-through rounding of the kernel and bias.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        upsample: bool = False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        # Keras would cast the exact path's float64 inputs to float32, losing their low bits.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.upsample = bool(upsample)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        """Creates the kernel (`[k, k, out, in]` when upsampling, as conv2d_transpose takes it)."""
        channels = int(input_shape[-1])
        size = self.kernel_size
        shape = (
            (size, size, self.filters, channels)
            if self.upsample
            else (size, size, channels, self.filters)
        )
        self.kernel = self.add_weight("kernel", shape, initializer=self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.filters,), initializer="zeros")
        super().build(input_shape)

    def taps(self) -> int:
        """The most products any output sums (a transposed stride-2 conv uses every other tap)."""
        per_side = -(-self.kernel_size // 2) if self.upsample else self.kernel_size
        channels = self.kernel.shape[-1] if self.upsample else self.kernel.shape[-2]
        return per_side * per_side * int(channels)

    def call(self, inputs, exact: bool = False, input_fraction_bits: int = 0):
        """`conv(inputs, kernel) + bias` (exact float64 on the grid, or float32 for training)."""
        dtype = tf.float64 if exact else tf.float32
        inputs = tf.cast(inputs, dtype)
        kernel = _weight(self.kernel, dtype, WEIGHT_UNITS, exact)
        bias = _weight(self.bias, dtype, BIAS_UNITS, exact)
        if self.upsample:
            shape = tf.shape(inputs)
            output_shape = tf.stack([shape[0], 2 * shape[1], 2 * shape[2], self.filters])
            outputs = tf.nn.conv2d_transpose(inputs, kernel, output_shape, 2, padding="SAME")
        else:
            outputs = tf.nn.conv2d(inputs, kernel, 1, padding="SAME")
        if exact:
            outputs = snap(outputs, input_fraction_bits + WEIGHT_FRACTION_BITS)
        return outputs + bias

    def integer_parameters(self) -> list[np.ndarray]:
        """The kernel's and bias's integer units: what the exact path computes with."""
        return [_units(self.kernel, WEIGHT_UNITS), _units(self.bias, BIAS_UNITS)]

    def get_config(self):
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            upsample=self.upsample,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@keras.utils.register_keras_serializable(package="zoo")
class IntegerDense(keras.layers.Layer):
    """A dense layer with quantized kernel and bias; `call(x, exact)` as `IntegerConv2D`."""

    def __init__(self, units: int, kernel_initializer="glorot_uniform", **kwargs):
        kwargs.setdefault("dtype", "float32")
        # Keras would cast the exact path's float64 inputs to float32, losing their low bits.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.units = int(units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        """Creates `kernel [in, units]` and `bias [units]`."""
        self.kernel = self.add_weight(
            "kernel", (int(input_shape[-1]), self.units), initializer=self.kernel_initializer
        )
        self.bias = self.add_weight("bias", (self.units,), initializer="zeros")
        super().build(input_shape)

    def taps(self) -> int:
        """Products per output."""
        return int(self.kernel.shape[0])

    def call(self, inputs, exact: bool = False, input_fraction_bits: int = 0):
        """`inputs @ kernel + bias`."""
        dtype = tf.float64 if exact else tf.float32
        inputs = tf.cast(inputs, dtype)
        outputs = tf.matmul(inputs, _weight(self.kernel, dtype, WEIGHT_UNITS, exact))
        if exact:
            outputs = snap(outputs, input_fraction_bits + WEIGHT_FRACTION_BITS)
        return outputs + _weight(self.bias, dtype, BIAS_UNITS, exact)

    def integer_parameters(self) -> list[np.ndarray]:
        """The kernel's and bias's integer units."""
        return [_units(self.kernel, WEIGHT_UNITS), _units(self.bias, BIAS_UNITS)]

    def get_config(self):
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            units=self.units,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


def level_modulation(hidden_layer, heads_layer, lmbda, lmbda_range, layers, filters, exact):
    """FiLM of an integer network: per layer `(scale, shift)`, each `[B, 1, 1, filters]`.

    A one-hidden-layer quantized MLP (`hidden_layer`, `heads_layer`: IntegerDense) on the
    lambda level gives each layer's scale `1 + a` and shift `b` on the modulation grid.
    """
    dtype = tf.float64 if exact else tf.float32
    level = lmbda_level(lmbda, *lmbda_range)
    position = tf.cast(level, dtype)[:, tf.newaxis] / 2.0**LEVEL_FRACTION_BITS - 1.0
    hidden = hidden_layer(position, exact=exact, input_fraction_bits=LEVEL_FRACTION_BITS)
    hidden = quantized_relu(hidden, exact)
    heads = heads_layer(hidden, exact=exact, input_fraction_bits=ACTIVATION_FRACTION_BITS)
    offsets = quantize(
        heads, MODULATION_FRACTION_BITS, -SCALE_OFFSET_UNITS, SCALE_OFFSET_UNITS, not exact
    )
    shifts = quantize(heads, MODULATION_FRACTION_BITS, -SHIFT_UNITS, SHIFT_UNITS, not exact)
    modulation = []
    for layer in range(layers):
        scale = 1.0 + offsets[:, 2 * layer * filters : (2 * layer + 1) * filters]
        shift = shifts[:, (2 * layer + 1) * filters : (2 * layer + 2) * filters]
        modulation.append((scale[:, None, None, :], shift[:, None, None, :]))
    return modulation


def _add_level_film(network, conditioning_units: int) -> None:
    """Gives an integer network with `convs`, `num_filters` and `lmbda_range` its FiLM MLP.

    Sets `network.conditioned` (False for no range or a single lambda) and, when
    conditioned, `conditioning_hidden` and `conditioning_heads` (scale and shift for the
    first two convs, `level_modulation`).
    """
    low_high = network.lmbda_range
    network.conditioned = low_high is not None and low_high[0] < low_high[1]
    if network.conditioned:
        network.conditioning_hidden = IntegerDense(conditioning_units, name="conditioning_hidden")
        network.conditioning_heads = IntegerDense(
            4 * network.num_filters, kernel_initializer=_small_heads(), name="conditioning_heads"
        )


def _integer_units(network, extra_layers=()) -> list[np.ndarray]:
    """The integer units of `network`'s convs, its FiLM MLP, then `extra_layers`, in order."""
    layers = list(network.convs)
    if network.conditioned:
        layers += [network.conditioning_hidden, network.conditioning_heads]
    layers += list(extra_layers)
    return [units for layer in layers for units in layer.integer_parameters()]


def _small_heads():
    # Small initial heads: FiLM starts near the identity, as yoto_tf.FiLM does.
    return keras.initializers.VarianceScaling(0.01, "fan_in", "uniform")


@keras.utils.register_keras_serializable(package="zoo")
class IntegerHyperSynthesis(keras.layers.Layer):
    """The scale hyperprior's hyper-synthesis as an integer network, FiLM-conditioned on lambda.

    Side symbols `[B, h, w, C]` -> two transposed 5x5 convs (stride 2, FiLM, quantized
    ReLU) -> a 3x3 conv with `num_latent_filters` outputs: the latents' scale indexes.
    FiLM's per-channel scale `1 + a` and shift `b` come from a one-hidden-layer quantized
    MLP on the lambda level (`codec_format.lmbda_level`); `lmbda_range=None` (a fixed-rate
    or unconditioned model) leaves FiLM out.

    `call(symbols, lmbda, training)`: training gives the float32 raw indexes (the entropy
    model interpolates between scales); otherwise the exact integer indexes, clipped to
    `[0, num_scales - 1]`, as float32.

    With `predicts_means` a second 3x3 head on the same features gives each latent's mean
    (Minnen, Ballé and Toderici 2018's mean-scale hyperprior) on the mean grid;
    `parameters` returns both. The head starts at zero: a scale-only codec's weights
    give a mean-scale codec that codes exactly as it did, and training moves it from there.
    """

    def __init__(
        self,
        num_filters: int,
        num_latent_filters: int,
        num_scales: int,
        lmbda_range=None,
        conditioning_units: int = 64,
        predicts_means: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        # Keras would cast the exact path's float64 inputs to float32, losing their low bits.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.num_filters = int(num_filters)
        self.num_latent_filters = int(num_latent_filters)
        self.num_scales = int(num_scales)
        self.lmbda_range = None if lmbda_range is None else tuple(float(v) for v in lmbda_range)
        self.conditioning_units = int(conditioning_units)
        self.predicts_means = bool(predicts_means)
        n = self.num_filters
        self.convs = [
            IntegerConv2D(n, 5, upsample=True, name="conv_0"),
            IntegerConv2D(n, 5, upsample=True, name="conv_1"),
            IntegerConv2D(self.num_latent_filters, 3, name="conv_2"),
        ]
        if self.predicts_means:
            self.mean_conv = IntegerConv2D(
                self.num_latent_filters, 3, kernel_initializer="zeros", name="conv_mean"
            )
        _add_level_film(self, conditioning_units)

    def build(self, input_shape):
        """Builds every layer for side symbols with `input_shape[-1]` channels."""
        channels = int(input_shape[-1])
        n = self.num_filters
        self.convs[0].build((None, None, None, channels))
        self.convs[1].build((None, None, None, n))
        self.convs[2].build((None, None, None, n))
        if self.predicts_means:
            self.mean_conv.build((None, None, None, n))
        if self.conditioned:
            self.conditioning_hidden.build((None, 1))
            self.conditioning_heads.build((None, self.conditioning_units))
        check_exact_bounds(self)
        super().build(input_shape)

    def _modulation(self, lmbda, exact):
        """Per layer `(scale [B, 1, 1, n], shift [B, 1, 1, n])` from the lambda levels."""
        return level_modulation(
            self.conditioning_hidden,
            self.conditioning_heads,
            lmbda,
            self.lmbda_range,
            layers=2,
            filters=self.num_filters,
            exact=exact,
        )

    def _features(self, symbols, lmbda, exact):
        """The last hidden layer's activations (on the activation grid when exact)."""
        dtype = tf.float64 if exact else tf.float32
        x = tf.clip_by_value(tf.cast(symbols, dtype), -SYMBOL_LIMIT, SYMBOL_LIMIT)
        modulation = self._modulation(lmbda, exact) if self.conditioned else [None, None]
        fraction_bits = 0
        for conv, film in zip(self.convs[:2], modulation, strict=True):
            x = conv(x, exact=exact, input_fraction_bits=fraction_bits)
            if film is not None:
                x = x * film[0] + film[1]
            x = quantized_relu(x, exact)
            fraction_bits = ACTIVATION_FRACTION_BITS
        return x

    def call(self, symbols, lmbda, training=None):
        """Scale indexes of the latents from side symbols (training: raw float32)."""
        exact = not training
        features = self._features(symbols, lmbda, exact)
        raw = self.convs[2](features, exact=exact, input_fraction_bits=ACTIVATION_FRACTION_BITS)
        if training:
            return raw
        return scale_indexes(raw, self.num_scales)

    def parameters(self, symbols, lmbda, training=None):
        """`(raw scales, means)` of the latents from side symbols; means None without the head.

        Exact (float64 on their grids) unless training. The raw scales are what `call`
        floors into indexes; the means are on the mean grid.
        """
        exact = not training
        features = self._features(symbols, lmbda, exact)
        bits = ACTIVATION_FRACTION_BITS
        raw = self.convs[2](features, exact=exact, input_fraction_bits=bits)
        if not self.predicts_means:
            return raw, None
        means = self.mean_conv(features, exact=exact, input_fraction_bits=bits)
        return raw, quantized_mean(means, exact)

    def integer_parameters(self) -> list[np.ndarray]:
        """Every integer the exact path computes with, in a fixed order (for fingerprints)."""
        return _integer_units(self, [self.mean_conv] if self.predicts_means else [])

    def get_config(self):
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            num_filters=self.num_filters,
            num_latent_filters=self.num_latent_filters,
            num_scales=self.num_scales,
            lmbda_range=self.lmbda_range,
            conditioning_units=self.conditioning_units,
            predicts_means=self.predicts_means,
        )
        return config


@keras.utils.register_keras_serializable(package="zoo")
class IntegerSliceContext(keras.layers.Layer):
    """A channel-wise context model's network for one slice of the latents, in integers.

    Minnen and Singh ("Channel-wise autoregressive entropy models for learned image
    compression", ICIP 2020) code the latents in slices and predict each slice's
    distribution from the slices decoded before it. Here the inputs are the decoded
    latents of the earlier slices (`symbols + mean`, exact on the mean grid) and this
    slice's hyperprior means and raw scales, all on the activation grid and clipped to
    [-255, 255]; two 3x3 convs with FiLM on the lambda level and a quantized ReLU, then a
    3x3 conv give corrections to the slice's raw scales and means. The last conv starts
    at zero, so a new context model starts at the mean-scale codec it extends.

    `call(inputs, lmbda, training)` returns `(scale_corrections, mean_corrections)`, each
    `[B, h, w, slice_channels]` (exact float64 accumulators unless training).
    """

    def __init__(
        self,
        slice_channels: int,
        num_filters: int,
        lmbda_range=None,
        conditioning_units: int = 16,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        # Keras would cast the exact path's float64 inputs to float32, losing their low bits.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.slice_channels = int(slice_channels)
        self.num_filters = int(num_filters)
        self.lmbda_range = None if lmbda_range is None else tuple(float(v) for v in lmbda_range)
        self.conditioning_units = int(conditioning_units)
        n = self.num_filters
        self.convs = [
            IntegerConv2D(n, 3, name="conv_0"),
            IntegerConv2D(n, 3, name="conv_1"),
            IntegerConv2D(2 * self.slice_channels, 3, kernel_initializer="zeros", name="conv_2"),
        ]
        _add_level_film(self, conditioning_units)

    def build(self, input_shape):
        """Builds every layer for inputs with `input_shape[-1]` channels."""
        n = self.num_filters
        self.convs[0].build((None, None, None, int(input_shape[-1])))
        self.convs[1].build((None, None, None, n))
        self.convs[2].build((None, None, None, n))
        if self.conditioned:
            self.conditioning_hidden.build((None, 1))
            self.conditioning_heads.build((None, self.conditioning_units))
        check_exact_bounds(self)
        super().build(input_shape)

    def call(self, inputs, lmbda, training=None):
        """`(scale_corrections, mean_corrections)` of the slice from the context `inputs`."""
        exact = not training
        dtype = tf.float64 if exact else tf.float32
        limit = ACTIVATION_UNITS / 2.0**ACTIVATION_FRACTION_BITS
        x = tf.clip_by_value(tf.cast(inputs, dtype), -limit, limit)
        modulation = (
            level_modulation(
                self.conditioning_hidden,
                self.conditioning_heads,
                lmbda,
                self.lmbda_range,
                layers=2,
                filters=self.num_filters,
                exact=exact,
            )
            if self.conditioned
            else [None, None]
        )
        for conv, film in zip(self.convs[:2], modulation, strict=True):
            x = conv(x, exact=exact, input_fraction_bits=ACTIVATION_FRACTION_BITS)
            if film is not None:
                x = x * film[0] + film[1]
            x = quantized_relu(x, exact)
        outputs = self.convs[2](x, exact=exact, input_fraction_bits=ACTIVATION_FRACTION_BITS)
        return outputs[..., : self.slice_channels], outputs[..., self.slice_channels :]

    def integer_parameters(self) -> list[np.ndarray]:
        """Every integer the exact path computes with, in a fixed order (for fingerprints)."""
        return _integer_units(self)

    def get_config(self):
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            slice_channels=self.slice_channels,
            num_filters=self.num_filters,
            lmbda_range=self.lmbda_range,
            conditioning_units=self.conditioning_units,
        )
        return config


def check_exact_bounds(network) -> None:
    """Raises ValueError unless every sum of the exact path stays below 2**53 grid units.

    Bounds each layer's accumulator by its worst case (every tap at its largest input
    and weight), in units of the accumulator's grid, then the FiLM product.
    """
    weight, activation = WEIGHT_UNITS, float(ACTIVATION_UNITS)
    scale_units = SCALE_OFFSET_UNITS + 2**MODULATION_FRACTION_BITS
    checks = []
    reads_symbols = isinstance(network, IntegerHyperSynthesis)
    for index, conv in enumerate(network.convs):
        # The hyper-synthesis's first conv reads integer symbols (grid 1); every other conv,
        # and a context network's first, reads values on the activation grid (2**-6).
        largest_input, input_bits = (
            (SYMBOL_LIMIT, 0)
            if index == 0 and reads_symbols
            else (activation, ACTIVATION_FRACTION_BITS)
        )
        accumulator = conv.taps() * largest_input * weight + BIAS_UNITS * 2.0**input_bits
        checks.append((conv.name, accumulator))
        if network.conditioned and index < 2:
            shift = SHIFT_UNITS * 2.0 ** (input_bits + WEIGHT_FRACTION_BITS)
            checks.append((f"{conv.name} FiLM", accumulator * scale_units + shift))
    if reads_symbols and network.predicts_means:
        accumulator = network.mean_conv.taps() * activation * weight
        checks.append(("conv_mean", accumulator + BIAS_UNITS * 2.0**ACTIVATION_FRACTION_BITS))
    if network.conditioned:
        heads = network.conditioning_heads.taps() * activation * weight
        checks.append(("conditioning_heads", heads + BIAS_UNITS * 2.0**ACTIVATION_FRACTION_BITS))
    for name, largest in checks:
        if largest >= EXACT_LIMIT:
            raise ValueError(
                f"The integer network {network.name} is too wide for exact float64 sums: {name}'s "
                f"accumulator may reach {largest:.3g} grid units (limit 2**53); use fewer filters."
            )
