"""Serving signatures of adjustable style transfer: five loss weights per image, per request."""

from __future__ import annotations

import warnings

import tensorflow as tf

from zoo import serving_inputs, serving_module
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.weight_ranges import in_trained_range

# Images are checked against this size by default: 4096 x 4096.
MAX_PIXELS = 1 << 24
# `stylize` runs a batch through the network in chunks of about this many pixels: beyond
# it the activations outgrow the CPU's caches and a batch is slower per image than its
# images one by one (experiments/README.md, "Stylize in chunks"). Each image is stylized
# alone either way (instance norm and FiLM are per image), so chunks change no output.
CHUNK_PIXELS = 1 << 19
# Under a version's assets.extra/: the style images, one PNG per style weight.
STYLE_ASSET_DIR = "styles"


class StyleTransferServing(serving_module.ServingModule):
    """The style-transfer network's serving surface.

    Signatures (images uint8 `[N, H, W, 3]`, H and W multiples of 4; `loss_weights`
    float32 `[N, 5]`: content, style_1 .. style_4, each in its trained range, the
    style weights summing to the trained strength range). Every input and output has
    the batch dimension N first, as TF Serving's batching needs:

    * `stylize(images, loss_weights)` -> `stylized` uint8; also `serving_default`.
    * `loss_terms(images, loss_weights)` -> per-image `content`, `style_1` .. `style_4`
      and `tv` of the output, as in training.
    """

    def __init__(self, model, max_pixels: int = MAX_PIXELS):
        super().__init__(model, name="style_transfer_serving")
        self.max_pixels = int(max_pixels)
        lows, highs = model.weight_sampler.bounds()
        count = len(style_config.CONDITIONED_TERMS)
        self.lows, self.highs = lows[:count], highs[:count]
        self.tv_weight = float(highs[count])
        config = model.config
        # A YOTO model's style weights are a ScaledMixture: their sum is the strength.
        self.strength_range = (
            None if config.fixed_weights is not None else (config.style_low, config.style_high)
        )
        # Unknown rank: the shape checks run in the graph (see zoo/serving_inputs.py).
        images = tf.TensorSpec(None, tf.uint8, name="images")
        weights = tf.TensorSpec(None, tf.float32, name="loss_weights")
        self.stylize = tf.function(self._stylize, input_signature=[images, weights])
        self.loss_terms = tf.function(self._loss_terms, input_signature=[images, weights])

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {
            "serving_default": self.stylize.get_concrete_function(),
            "stylize": self.stylize.get_concrete_function(),
            "loss_terms": self.loss_terms.get_concrete_function(),
        }

    def _checked(self, images, loss_weights):
        weights = serving_inputs.check_weight_matrix(
            "loss_weights", loss_weights, style_config.CONDITIONED_TERMS, self.lows, self.highs
        )
        if self.strength_range is not None:
            low, high = self.strength_range
            weights = serving_inputs.in_order(
                weights,
                [
                    lambda w: tf.debugging.Assert(
                        tf.reduce_all(in_trained_range(tf.reduce_sum(w[:, 1:], axis=1), low, high)),
                        [
                            f"loss_weights style_1..style_4 must sum to the trained strength "
                            f"range [{low:g}, {high:g}] (all zeros is no style); got sums",
                            tf.reduce_sum(w[:, 1:], axis=1),
                        ],
                    )
                ],
            )
        images = serving_inputs.check_shape(
            "images", images, ["N", "height", "width", 3], {3: "3 channels (RGB)"}
        )
        images = serving_inputs.check_batch_size(
            "images", images, weights, "images and loss_weights need one row each"
        )
        images = serving_inputs.in_order(
            images,
            [
                lambda x: tf.debugging.Assert(
                    tf.reduce_all(tf.shape(x)[1:3] % 4 == 0) & tf.reduce_all(tf.shape(x)[1:3] > 0),
                    ["images height and width must be positive multiples of 4; got", tf.shape(x)],
                ),
                lambda x: tf.debugging.Assert(
                    tf.shape(x)[1] * tf.shape(x)[2] <= self.max_pixels,
                    [f"images exceed the {self.max_pixels}-pixel limit; got", tf.shape(x)],
                ),
            ],
        )
        full = tf.concat([weights, tf.fill([tf.shape(weights)[0], 1], self.tv_weight)], 1)
        return tf.cast(images, tf.float32), full

    def _stylize(self, images, loss_weights):
        images, weights = self._checked(images, loss_weights)
        stylized = self._in_chunks(images, weights)
        return {"stylized": tf.cast(tf.clip_by_value(tf.round(stylized), 0, 255), tf.uint8)}

    def _in_chunks(self, images, weights):
        """The network's outputs for `images`, run `CHUNK_PIXELS` at a time (at least one
        image per chunk), concatenated in order."""
        count = tf.shape(images)[0]
        pixels = tf.shape(images)[1] * tf.shape(images)[2]
        chunk = tf.maximum(1, CHUNK_PIXELS // tf.maximum(pixels, 1))
        outputs = tf.TensorArray(
            tf.float32, size=0, dynamic_size=True, infer_shape=False, element_shape=None
        )

        def body(start, outputs):
            end = tf.minimum(start + chunk, count)
            stylized = self.model(images[start:end], weights[start:end], training=False)
            return end, outputs.write(outputs.size(), stylized)

        _, outputs = tf.while_loop(
            lambda start, _: start < count,
            body,
            [tf.constant(0), outputs],
            parallel_iterations=1,
        )
        # `_checked` refuses an empty batch, so at least one chunk was written.
        stylized = outputs.concat()
        stylized.set_shape([None, None, None, 3])
        return stylized

    def _loss_terms(self, images, loss_weights):
        images, weights = self._checked(images, loss_weights)
        return self.model.compute_loss_terms(images, None, weights, training=False)

    def extra_metadata(self) -> dict:
        """`{"styles": {"style_1": name, ...}}`: which image each style weight stands for.

        `{"styles": null}` when a user's style folder has moved since training.
        """
        try:
            files = style_data.style_files(self.model.config)
        except (FileNotFoundError, ValueError):
            return {"styles": None}
        names = [name for name, _ in files]
        return {"styles": dict(zip(style_config.STYLE_TERMS, names, strict=True))}

    def asset_files(self) -> dict[str, bytes]:
        """`styles/style_1.png` ..: the style images as the loss network saw them.

        For people and tools to see what each weight does (the evaluation grid
        shows them). Empty, with a warning, when the style images cannot be read
        any more: the network needs only its Gram targets, which it holds.
        """
        try:
            images = style_data.load_style_images(self.model.config)
        except (FileNotFoundError, ValueError) as error:
            warnings.warn(
                f"The exported model will not include its style images: {error}", stacklevel=2
            )
            return {}
        return {
            f"{STYLE_ASSET_DIR}/{term}.png": tf.io.encode_png(image).numpy()
            for term, image in zip(style_config.STYLE_TERMS, images, strict=True)
        }

    def warmup_inputs(self) -> dict:
        """Valid inputs for every signature, for TF Serving's warmup file.

        Two images: one single style, one blend.
        """
        images = tf.fill([2, 64, 64, 3], tf.constant(128, tf.uint8))
        low, high = self.lows, self.highs
        if self.strength_range is None:
            weights = tf.constant([low, low], tf.float32)
        else:
            weights = tf.constant([[low[0], 1.0, 0, 0, 0], [high[0], 0.25, 0.25, 0.25, 0.25]])
        inputs = {"images": images, "loss_weights": weights}
        return {name: inputs for name in ("serving_default", "stylize", "loss_terms")}
