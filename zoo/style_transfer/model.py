"""Adjustable style transfer: one network, the content weight and four style weights at inference.

A feed-forward transform network (Johnson et al. 2016: strided convs down,
residual blocks, upsampling convs up) whose normalisation layers are instance
norm followed by FiLM from the loss weights: conditional instance norm
(Dumoulin et al. 2017), conditioned here on the weights themselves as in the
YOTO paper's third task. `Config.input_stride=2` strides its first conv, so that it
stylizes as fast as Dumoulin et al.'s network with the channels of a larger one; the
default, 1, is Johnson et al.'s layout. Loss terms, per example:

* `content`: mean squared difference of the output's and the input's features
  at `block3_conv3` of the loss network;
* `style_1` .. `style_4`: for each style image, the mean squared difference of
  Gram matrices at `block1_conv1` .. `block4_conv1`, each layer's distance divided
  by its own scale and the four averaged (`style_layer_balance="per_layer"`);
* `tv`: total variation of the output (a fixed, small weight, not conditioned).

Weights per example: content ~ LogUniform[0.1, 10]; the four style weights ~
`ScaledMixture`: one style alone (probability 1/2) or a Dirichlet(1) blend,
times a strength ~ LogUniform[0.1, 10]. The terms are divided by scales measured
when the model is built, on a fixed batch of training crops: the content term by
the crops' mean squared content feature (a blank output scores about 1), each
style layer's distance by the crops' own distance to that style at that layer (an
unstyled output scores about 1). So the weights mean the same for every style and
every data set. Scaling each layer separately matters: the raw distances at
`block1_conv1` and `block2_conv1` are orders of magnitude larger than those at
`block3_conv1` and `block4_conv1` (experiments/README.md, "Per-layer style scales"), so
a single scale over their sum (`"summed"`, kept so that runs trained with it rebuild
as trained) leaves the structure-carrying deeper layers almost no say and the networks
learn the styles' colour and grey level but not their texture.

Distillation (`Config.teacher`): a trained style network, frozen, is run at the same
sampled weights on the same crops; the mean squared difference of the two outputs
(`distill_pixel`) and of their loss-network features (`distill_features`) are added to the
training objective with fixed weights, as auxiliary terms (`yoto_tf.LossConditionalModel`),
so the student is not conditioned on them and serves with the same five weights. The
teacher is loaded by `compile()` and held outside the model's tracked state: checkpoints,
snapshots and exports of the student never hold or need it.

The loss network is VGG16 from HED (`zoo/style_transfer/vgg.py`): ImageNet weights cannot be
downloaded here. The default styles are the scikit-image textures brick, grass
and gravel (greyscale) and the colour retina photograph; the paper used
paintings, which are not available offline.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import tensorflow as tf

import yoto_tf
from zoo import loading
from zoo.style_transfer import data, vgg
from zoo.style_transfer.config import (
    CONDITIONED_TERMS,
    CONTENT_LAYER,
    STYLE_LAYERS,
    STYLE_TERMS,
    TERM_NAMES,
    Config,
)

keras = tf.keras


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Gram matrices `[B, C, C]` of features `[B, H, W, C]`, divided by H * W * C."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], -1, shape[3]])
    size = tf.cast(shape[1] * shape[2] * shape[3], features.dtype)
    return tf.matmul(flat, flat, transpose_a=True) / size


def _logit(probabilities: tf.Tensor) -> tf.Tensor:
    """The inverse of the sigmoid."""
    return tf.math.log(probabilities) - tf.math.log1p(-probabilities)


class _InstanceNorm(keras.layers.Layer):
    """Instance normalisation without its own scale and shift, which FiLM may supply.

    `call(x, gamma, beta)` is `(x - mean) / std * (1 + gamma) + beta` per image and
    channel, folded into one scale and one shift per channel so the feature map is read
    and written once after the statistics. A batch of one image (what a serving request
    usually holds) runs as one fused batch-norm kernel in training mode, whose batch
    statistics are then the instance's. The statistics are float32 under any dtype
    policy, as in Keras's own normalisations.
    """

    epsilon = 1e-5

    def call(self, x, gamma=None, beta=None):
        x32 = tf.cast(x, tf.float32)
        shape = tf.shape(x32)
        gain = tf.ones([shape[0], shape[3]]) if gamma is None else 1.0 + gamma
        offset = tf.zeros([shape[0], shape[3]]) if beta is None else beta

        def one_image():
            normalised, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x32,
                scale=gain[0],
                offset=offset[0],
                mean=tf.zeros([0]),
                variance=tf.zeros([0]),
                epsilon=self.epsilon,
                is_training=True,
            )
            return normalised

        def folded():
            mean, variance = tf.nn.moments(x32, axes=[1, 2], keepdims=True)
            scale = tf.math.rsqrt(variance + self.epsilon) * gain[:, tf.newaxis, tf.newaxis, :]
            shift = offset[:, tf.newaxis, tf.newaxis, :] - mean * scale
            return x32 * scale + shift

        return tf.cast(tf.cond(shape[0] == 1, one_image, folded), x.dtype)


class _Residual(keras.layers.Layer):
    """x + (conv block -> conv block without ReLU)(x)."""

    def __init__(self, filters, film, **kw):
        super().__init__(**kw)
        self.first = _ConvBlock(filters, 3, film=film)
        self.second = _ConvBlock(filters, 3, relu=False, film=film)

    def call(self, x, conditioning):
        return x + self.second(self.first(x, conditioning), conditioning)


class _ConvBlock(keras.layers.Layer):
    """[upsample] -> conv -> instance norm -> FiLM (conditional instance norm) -> [ReLU].

    `normalize=False`: conv with a bias -> FiLM's scale and shift, no statistics, so the
    block passes on the absolute levels of its input.
    """

    def __init__(
        self, filters, kernel, strides=1, upsample=False, relu=True, film=True, normalize=True, **kw
    ):
        super().__init__(**kw)
        self.upsample = keras.layers.UpSampling2D(interpolation="nearest") if upsample else None
        self.conv = keras.layers.Conv2D(
            filters, kernel, strides, padding="same", use_bias=not normalize
        )
        self.norm = _InstanceNorm() if normalize else None
        self.film = yoto_tf.FiLM() if film else None
        self.relu = relu

    def build(self, input_shape):
        """Builds FiLM's heads for this block's channels (it is called through `modulation`)."""
        if self.film is not None and not self.film.built:
            self.film.build(tf.TensorShape([None, None, None, self.conv.filters]))
        super().build(input_shape)

    def call(self, x, conditioning):
        if self.upsample is not None:
            x = self.upsample(x)
        x = self.conv(x)
        if self.norm is None:
            x = x if self.film is None else self.film(x, conditioning)
        elif self.film is None:
            x = self.norm(x)
        else:
            x = self.norm(x, *self.film.modulation(conditioning))
        return tf.nn.relu(x) if self.relu else x


@keras.utils.register_keras_serializable(package="zoo")
class StyleTransferNet(yoto_tf.LossConditionalModel):
    """The transform network with conditional instance norm, and its loss terms.

    `call(images, loss_weights)` maps float RGB images `[B, H, W, 3]` on 0..255
    (H and W multiples of 4) to stylised images on 0..255.
    """

    def __init__(
        self, weight_sampler, config: Config, loss_network, style_grams, scales, seed=0, **kw
    ):
        super().__init__(weight_sampler, seed=seed, auxiliary_terms=config.distill_terms(), **kw)
        if tuple(weight_sampler.term_names) != TERM_NAMES:
            raise ValueError(
                f"StyleTransferNet needs terms {TERM_NAMES}, got {weight_sampler.term_names}."
            )
        self.config = config
        self._teacher = None  # A `_Teacher`, set by `compile()` when distilling.
        self.loss_network = loss_network
        # A pretrained loss network is rebuilt from its file: weight snapshots leave it out.
        self.snapshot_rebuilt = ("loss_network",) if config.pretrained_vgg else ()
        self.style_grams = style_grams  # {layer: [NUM_STYLES, C, C]} constants.
        # A scalar, and {layer: [NUM_STYLES]} factors that turn Gram distances into terms.
        self.content_scale, self.style_layer_factors = scales
        film = config.conditioned
        widths = config.block_widths()
        self.subpixel = config.output_upsampling == "subpixel"
        # The full-resolution block is the one a sub-pixel output leaves out.
        ups = 1 if self.subpixel else 2
        down, up = widths[:-ups], widths[-ups:]
        first_stride = config.input_stride
        self.down = [
            _ConvBlock(
                down[0],
                9,
                strides=first_stride,
                film=film,
                normalize=config.normalize_first_block,
            )
        ]
        self.down += [_ConvBlock(width, 3, strides=2, film=film) for width in down[1:]]
        self.residual = [_Residual(down[-1], film) for _ in range(config.residual_blocks)]
        self.up = [_ConvBlock(width, 3, upsample=True, film=film) for width in up]
        # A sub-pixel output: 2 x 2 x 3 values per half-resolution pixel.
        output_channels = 12 if self.subpixel else 3
        self.output_conv = keras.layers.Conv2D(
            output_channels, config.output_kernel, padding="same"
        )
        if film:
            lows, highs = weight_sampler.bounds()
            self.conditioning = yoto_tf.ConditioningMLP(
                lows,
                highs,
                units=config.conditioning_units,
                kernel_initializer=config.conditioning_initializer,
            )
        # The skip's strength per image, 1 + a zero-started linear head on the conditioning
        # vector: the weights can turn the photograph down where style should win.
        self.skip_gain = None
        if config.input_skip and config.conditioned_skip:
            if not film:
                raise ValueError("conditioned_skip needs conditioned=True (it reads the weights).")
            self.skip_gain = keras.layers.Dense(
                1,
                kernel_initializer="zeros",
                bias_initializer=keras.initializers.Constant(config.skip_gain_start - 1.0),
            )

    def call(self, images, loss_weights=None, training=None):
        """Stylised images on 0..255 for images on 0..255."""
        images = tf.cast(images, tf.float32)
        if loss_weights is None:
            loss_weights = self.evaluation_weight_matrix(tf.shape(images)[0])
        conditioning = self.conditioning(loss_weights) if self.config.conditioned else None
        x = images / 127.5 - 1.0
        for block in [*self.down, *self.residual, *self.up]:
            x = block(x, conditioning)
        x = tf.cast(self.output_conv(x), tf.float32)
        if self.subpixel:
            x = tf.nn.depth_to_space(x, 2)
        if self.config.input_skip:
            # Half a level from 0 and 255 keeps the logits finite for black and white pixels.
            skip = _logit(tf.clip_by_value(images, 0.5, 254.5) / 255.0)
            if self.skip_gain is not None:
                gain = 1.0 + tf.cast(self.skip_gain(conditioning), tf.float32)
                skip *= gain[:, tf.newaxis, tf.newaxis, :]
            x += skip
        return 255.0 * tf.sigmoid(x)

    def compile(self, *args, **kwargs):
        """Keras's `compile`; when the config names a teacher, loads it first (`load_teacher`)."""
        if self.auxiliary_terms and self._teacher is None:
            self._teacher = _Teacher(
                load_teacher(self.config, self),
                distillation_scales(self.config, self.loss_network),
            )
        super().compile(*args, **kwargs)

    def compute_loss_terms(self, x, y, loss_weights, training):
        """Per-example content, four style and total-variation terms (and in training,
        when distilling, the weighted distillation terms)."""
        images = tf.cast(x, tf.float32)
        outputs = self(images, loss_weights, training=training)
        stacked = [outputs, images]
        distilling = bool(training and self.auxiliary_terms)
        if distilling:
            stacked.append(self._teacher_outputs(images, loss_weights))
        features = loss_features(self.loss_network, tf.concat(stacked, axis=0))
        terms = self._terms_of_features(outputs, features, len(stacked))
        if distilling:
            terms.update(self._distillation_terms(outputs, stacked[-1], features))
        return terms

    def train_step(self, data):
        """`LossConditionalModel.train_step`; with `distill_only`, the teacher's pixels alone:
        weights sampled per example as always, no loss-network pass."""
        if not self.config.distill_only:
            return super().train_step(data)
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        images = tf.cast(x, tf.float32)
        loss_weights = self.weight_sampler.sample(self.generator, tf.shape(images)[0])
        targets = self._teacher_outputs(images, loss_weights)
        with tf.GradientTape() as tape:
            outputs = self(images, loss_weights, training=True)
            pixel = self._distillation_terms(outputs, targets, features=None)["distill_pixel"]
            loss = tf.nn.compute_average_loss(pixel, sample_weight=sample_weight)
            if self.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(self.losses))
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        self._trackers["distill_pixel"].update_state(pixel, sample_weight=sample_weight)
        return {"distill_pixel": self._trackers["distill_pixel"].result()}

    def _teacher_outputs(self, images, loss_weights):
        """The teacher's outputs at the student's sampled weights (compiled models only)."""
        if self._teacher is None:
            raise ValueError(
                f"Config.teacher={self.config.teacher!r} is loaded by compile(); "
                "compile the model before training it."
            )
        # The teacher sees the student's sampled weights: its answer at the same point
        # of the trade-off. No gradient reaches it.
        return tf.stop_gradient(self._teacher.model(images, loss_weights, training=False))

    def objective_terms(self, outputs, images) -> dict[str, tf.Tensor]:
        """Per-example content, style and tv terms of any `outputs` (float, 0..255) for
        `images` under this model's objective: its loss network, Gram targets and scales.

        For judging another network's outputs by this one's objective.
        """
        outputs = tf.cast(outputs, tf.float32)
        stacked = tf.concat([outputs, tf.cast(images, tf.float32)], axis=0)
        return self._terms_of_features(outputs, loss_features(self.loss_network, stacked), 2)

    def _terms_of_features(self, outputs, features, parts: int) -> dict[str, tf.Tensor]:
        """The weighted terms from loss-network features of `[outputs, images, ...]`."""
        batch = tf.shape(outputs)[0]
        content_out, content_in, *_ = tf.split(features[CONTENT_LAYER], parts)
        content = tf.reduce_mean(tf.square(content_out - content_in), axis=[1, 2, 3])
        style = style_terms(
            {k: v[:batch] for k, v in features.items()}, self.style_grams, self.style_layer_factors
        )
        tv = tf.reduce_mean(
            tf.abs(outputs[:, 1:] - outputs[:, :-1]), axis=[1, 2, 3]
        ) + tf.reduce_mean(tf.abs(outputs[:, :, 1:] - outputs[:, :, :-1]), axis=[1, 2, 3])
        terms = {"content": content / self.content_scale}
        for index, name in enumerate(STYLE_TERMS):
            terms[name] = style[:, index]
        terms["tv"] = tv
        return terms

    def _distillation_terms(self, outputs, targets, features) -> dict[str, tf.Tensor]:
        """The weighted per-example distillation terms against the teacher's outputs."""
        scales = self._teacher.scales
        terms = {}
        if "distill_pixel" in self.auxiliary_terms:
            pixel = tf.reduce_mean(tf.square(outputs - targets), axis=[1, 2, 3])
            terms["distill_pixel"] = self.config.distill_pixel * pixel / scales["pixel"]
        if "distill_features" in self.auxiliary_terms:
            layers = []
            for layer in DISTILLATION_LAYERS:
                student, _, teacher = tf.split(features[layer], 3)
                difference = tf.reduce_mean(tf.square(student - teacher), axis=[1, 2, 3])
                layers.append(difference / scales[layer])
            terms["distill_features"] = (
                self.config.distill_features * tf.add_n(layers) / len(layers)
            )
        return terms


DISTILLATION_LAYERS = (CONTENT_LAYER, *STYLE_LAYERS)


class _Teacher:
    """A frozen teacher network and the distillation scales, held outside Keras's tracking.

    A plain object, not a layer or trackable: the student's weights, checkpoints and
    snapshots leave the teacher out, and its variables never reach the optimizer.
    """

    def __init__(self, model, scales: dict[str, tf.Tensor]):
        self.model = model
        self.scales = scales


# What must match between a teacher's config and its student's: the style images (the
# weights' meaning) and, through the weight samplers' bounds, the weight ranges.
_TEACHER_MATCHING_FIELDS = ("styles", "style_folder", "style_size")


def load_teacher(config: Config, student: StyleTransferNet):
    """The frozen teacher network that `config.teacher` names, checked against `student`.

    Raises ValueError naming `teacher` and the fix when it cannot be loaded, is not a
    style-transfer run, or was trained on other styles or weight ranges.
    """
    from zoo.loading import releases, snapshots

    path = config.teacher
    advice = (
        "Give --config=teacher= a trained style-transfer training dir, weights snapshot "
        "or pretrained:NAME on the same styles and weight ranges."
    )
    teacher = restore_teacher(path, config, student.weight_sampler, advice)
    if not (releases.is_release(path) or snapshots.is_snapshot(path)):
        warnings.warn(
            f"teacher={path!r} is a training dir: every start or resume of the student loads "
            "its latest checkpoint, which moves while it trains. A weights snapshot "
            "(python -m zoo.training.snapshot) is a fixed teacher.",
            stacklevel=2,
        )
    teacher.trainable = False
    return teacher


def restore_teacher(path, config: Config, weight_sampler, advice: str):
    """The style network at `path`, restored, if it can teach a student of `config` whose
    weights `weight_sampler` draws: the same styles and style size, and every weight the
    student can see inside the teacher's ranges (a narrower range or one fixed vector is
    taught as well as the same range). Raises ValueError naming `path`, then `advice`."""
    try:
        task_name, teacher_config, _ = loading.load_run(path)
    except (FileNotFoundError, ValueError, KeyError) as error:
        raise ValueError(f"teacher={path!r} cannot be loaded: {error} {advice}") from error
    if task_name != "style_transfer":
        raise ValueError(
            f"teacher={path!r} holds a {task_name} model, not style transfer. {advice}"
        )
    for field in _TEACHER_MATCHING_FIELDS:
        theirs, ours = getattr(teacher_config, field), getattr(config, field)
        if theirs != ours:
            raise ValueError(
                f"teacher={path!r} was trained with {field}={theirs!r}, the student with "
                f"{ours!r}: its outputs are not targets for this objective. {advice}"
            )
    try:
        teacher, _, _ = loading.restore_model(path)
    except (FileNotFoundError, ValueError) as error:
        raise ValueError(f"teacher={path!r} cannot be loaded: {error} {advice}") from error
    (our_low, our_high), (their_low, their_high) = (
        np.asarray(weight_sampler.bounds(), np.float64),
        np.asarray(teacher.weight_sampler.bounds(), np.float64),
    )
    tolerance = 1e-6 * np.maximum(1.0, np.abs(their_high))
    if np.any(our_low < their_low - tolerance) or np.any(our_high > their_high + tolerance):
        raise ValueError(
            f"teacher={path!r} was trained on the weight ranges "
            f"{[their_low.tolist(), their_high.tolist()]}, the student on "
            f"{[our_low.tolist(), our_high.tolist()]} ({', '.join(TERM_NAMES)}): it cannot "
            f"answer at every sampled weight. {advice}"
        )
    return teacher


def distillation_scales(config: Config, loss_network) -> dict[str, tf.Tensor]:
    """`{"pixel": .., layer: ..}`: mean squared differences of a mid-grey image from a fixed
    batch of 8 training crops, in pixels and at each distillation layer, so that each
    distillation term scores about 1 for a grey output against a teacher's photo-like one.
    """
    crops = next(iter(data.train_dataset(dataclasses.replace(config, batch_size=8), seed=0)))
    crops = tf.cast(crops, tf.float32)
    grey = tf.fill(tf.shape(crops), 127.5)
    features = loss_features(loss_network, tf.concat([crops, grey], axis=0))
    scales = {"pixel": tf.reduce_mean(tf.square(crops - grey))}
    for layer in DISTILLATION_LAYERS:
        photo, blank = tf.split(features[layer], 2)
        scales[layer] = tf.reduce_mean(tf.square(photo - blank))
    return {name: tf.constant(value) for name, value in scales.items()}


def loss_features(loss_network, images) -> dict[str, tf.Tensor]:
    """`{layer: float32 activations}` of the loss network for RGB images on 0..255.

    float32 whatever the dtype policy: Gram matrices sum H * W products, which
    overflow float16.
    """
    features = loss_network(vgg.preprocess(tf.cast(images, tf.float32)))
    return {name: tf.cast(value, tf.float32) for name, value in features.items()}


def style_grams(config: Config, loss_network) -> dict[str, tf.Tensor]:
    """`{layer: [NUM_STYLES, C, C]}` Gram matrices of the style images (computed once)."""
    grams = {layer: [] for layer in STYLE_LAYERS}
    for image in data.load_style_images(config):
        features = loss_features(loss_network, image[np.newaxis])
        for layer in STYLE_LAYERS:
            grams[layer].append(gram_matrix(features[layer])[0])
    return {layer: tf.constant(tf.stack(values)) for layer, values in grams.items()}


def style_layer_distances(features: dict, grams: dict) -> dict[str, tf.Tensor]:
    """`{layer: [B, NUM_STYLES]}`: mean squared Gram difference to each style, per layer."""
    distances = {}
    for layer in STYLE_LAYERS:
        difference = gram_matrix(features[layer])[:, tf.newaxis] - grams[layer][tf.newaxis]
        distances[layer] = tf.reduce_mean(tf.square(difference), axis=[2, 3])
    return distances


def style_terms(features: dict, grams: dict, layer_factors: dict) -> tf.Tensor:
    """`[B, NUM_STYLES]` style terms: per-layer Gram distances times their factors, summed."""
    distances = style_layer_distances(features, grams)
    return tf.add_n([distances[layer] * layer_factors[layer] for layer in STYLE_LAYERS])


def term_scales(config: Config, loss_network, grams) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The content scale and per-layer style factors, from a fixed batch of 8 training crops.

    The factors make each style term about 1 on the crops themselves: with "per_layer"
    every layer's mean distance becomes 1/L, with "summed" only the layers' total is scaled.
    """
    crops = next(iter(data.train_dataset(dataclasses.replace(config, batch_size=8), seed=0)))
    features = loss_features(loss_network, crops)
    content_scale = tf.reduce_mean(tf.square(features[CONTENT_LAYER]))
    scales = {
        layer: tf.reduce_mean(distance, axis=0)
        for layer, distance in style_layer_distances(features, grams).items()
    }
    if config.style_layer_balance == "per_layer":
        factors = {layer: 1.0 / (len(STYLE_LAYERS) * scale) for layer, scale in scales.items()}
    else:
        total = tf.add_n(list(scales.values()))
        factors = {layer: 1.0 / total for layer in STYLE_LAYERS}
    return tf.constant(content_scale), {k: tf.constant(v) for k, v in factors.items()}


def build_model(config: Config, seed: int = 0) -> StyleTransferNet:
    """Builds the network, its frozen loss network, the style Grams and the term scales."""
    network = vgg.loss_network(
        (CONTENT_LAYER, *STYLE_LAYERS), config.vgg_weights, pretrained=config.pretrained_vgg
    )
    grams = style_grams(config, network)
    scales = term_scales(config, network, grams)
    model = StyleTransferNet(
        config.weight_sampler(),
        config,
        network,
        grams,
        scales,
        seed=seed,
        weight_sum_power=config.weight_sum_power,
        weight_sum_terms=CONDITIONED_TERMS,  # tv's small constant weight is not a trade-off.
    )
    model.set_evaluation_weights(
        {
            "content": 1.0,
            "style_1": 1.0,
            "style_2": 0.0,
            "style_3": 0.0,
            "style_4": 0.0,
            "tv": config.tv_weight,
        }
    )
    model(tf.zeros([1, 16, 16, 3]))
    return model


def optimizer(config: Config) -> keras.optimizers.Optimizer:
    """Adam at the configured learning rate."""
    return keras.optimizers.Adam(config.learning_rate)
