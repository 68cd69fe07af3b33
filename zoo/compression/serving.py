"""Serving signatures of the compression codec, with lambda a named per-image input.

This is the full codec: its `compress` and `decompress` signatures run
tensorflow-compression's range-coding ops, so loading it needs
`import tensorflow_compression` (in process, or a ModelServer built with those
ops). `zoo.compression.codec.Codec.from_saved_model` wraps it in the `.yoto` file format.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf
import tensorflow_compression as tfc

from zoo import serving_inputs, serving_module
from zoo.compression import codec_format
from zoo.compression import config as compression_config
from zoo.compression.codec_format import STRIDE


class CodecServingBase(serving_module.ServingModule):
    """What every codec servable shares: the lmbda and image checks, `reconstruct`, warmup.

    `reconstruct(images, lmbda)` gives `reconstructions` uint8 (what decoding the bytes
    gives) and the model's rate estimate `bits [N]`. Every input and output has the
    batch dimension N first, as TF Serving's batching needs.
    """

    # Unknown rank: the shape checks run in the graph (see zoo/serving_inputs.py).
    images_spec = tf.TensorSpec(None, tf.uint8, name="images")
    lmbda_spec = tf.TensorSpec(None, tf.float32, name="lmbda")

    def __init__(self, model, max_pixels: int = codec_format.MAX_PIXELS, name=None):
        # Before the base takes the model's variables: this builds the coding tables'.
        model.prepare_for_coding()
        super().__init__(model, name=name)
        self.lmbda_range = model.lmbda_range
        self.max_pixels = int(max_pixels)
        # Computed here, eagerly: it hashes the tables' values.
        self.fingerprint = model.coding_fingerprint()
        self.reconstruct = tf.function(
            self._reconstruct, input_signature=[self.images_spec, self.lmbda_spec]
        )

    @contextlib.contextmanager
    def export_context(self):
        """Traces and saves with each transform's kernel as a variable holding its value.

        tensorflow-compression's `SignalConv2D` keeps its kernel in the Fourier domain
        (`RDFTParameter`) and computes it with an inverse FFT on every call, a third of the
        exported `compress`'s time on a photograph; the export stores the kernels once,
        computed here, and the model gets its parameterisation back afterwards.
        """
        layers = [
            layer
            for layer in self.model.submodules
            if isinstance(layer, tfc.SignalConv2D)
            and callable(layer.kernel_parameter)
            and not isinstance(layer.kernel_parameter, tf.Variable)
        ]
        parameters = [layer.kernel_parameter for layer in layers]
        # Tracked by this module, so the SavedModel holds them.
        self.exported_kernels = [
            tf.Variable(layer.kernel, trainable=False, name=f"{layer.name}_kernel")
            for layer in layers
        ]
        try:
            for layer, kernel in zip(layers, self.exported_kernels, strict=True):
                # The public setter refuses a built layer; the kernel property reads this.
                layer._kernel_parameter = kernel  # noqa: SLF001
            yield
        finally:
            for layer, parameter in zip(layers, parameters, strict=True):
                layer._kernel_parameter = parameter  # noqa: SLF001

    def _lmbda(self, lmbda):
        return serving_inputs.check_weight("lmbda", lmbda, *self.lmbda_range)

    def _checked_images(self, images, lmbda):
        """`images` after its checks; `lmbda` must have passed `_lmbda`."""
        images = serving_inputs.check_shape(
            "images", images, ["N", "height", "width", 3], {3: "3 channels (RGB)"}
        )
        images = serving_inputs.check_batch_size(
            "images", images, lmbda, "images and lmbda need one lmbda per image"
        )
        return serving_inputs.in_order(
            images,
            [
                lambda x: tf.debugging.Assert(
                    tf.reduce_all(tf.shape(x)[1:3] % STRIDE == 0)
                    & tf.reduce_all(tf.shape(x)[1:3] > 0),
                    [
                        f"images height and width must be positive multiples of {STRIDE}; got",
                        tf.shape(x),
                    ],
                ),
                lambda x: tf.debugging.Assert(
                    tf.shape(x)[1] * tf.shape(x)[2] <= self.max_pixels,
                    [f"images exceed the {self.max_pixels}-pixel limit; got", tf.shape(x)],
                ),
            ],
        )

    def _reconstruct(self, images, lmbda):
        lmbda = self._lmbda(lmbda)
        images = self._checked_images(images, lmbda)
        reconstructions = self.model.quantized_reconstruction(images, lmbda)
        weights = compression_config.loss_weights(lmbda)
        terms = self.model.compute_loss_terms(images, None, weights, training=False)
        pixels = tf.cast(tf.shape(images)[1] * tf.shape(images)[2], tf.float32)
        return {"reconstructions": reconstructions, "bits": terms["rate"] * pixels}

    def extra_metadata(self) -> dict:
        """The model's coding fingerprint (integer-index models), for `.yoto` version 2 files.

        Mean-scale models (`.yoto` version 3) add their `coding_architecture`.
        """
        metadata = {}
        if self.fingerprint is not None:
            metadata["coding_fingerprint"] = self.fingerprint.hex()
        if self.model.predicts_means:
            metadata["coding_architecture"] = self.model.coding_architecture()
        return metadata

    def warmup_images(self) -> dict:
        """Two small grey images at the lowest and the middle lmbda, for warmup requests."""
        middle = (self.lmbda_range[0] * self.lmbda_range[1]) ** 0.5
        images = tf.fill([2, STRIDE, STRIDE, 3], tf.constant(128, tf.uint8))
        lmbda = tf.constant([self.lmbda_range[0], middle], tf.float32)
        return {"images": images, "lmbda": lmbda}


class CompressionServing(CodecServingBase):
    """The full codec's serving surface (images uint8 `[N, H, W, 3]`, H, W multiples of 64).

    Signatures (lmbda is float32 `[N]`, one per image, inside the trained range):

    * `compress(images, lmbda)` -> `latent_strings_bytes [N]`, `side_strings_bytes [N]`
      (range-coded), `side_shape` int32 `[N, 2]` (every row the hyper-latents' height and
      width, needed to decode). String outputs end in `_bytes` because TF Serving's REST
      API base64-encodes only those (`{"b64": ...}`) and writes other strings' raw bytes
      into its JSON; until export format 2 (CHANGELOG.md) they were `latent_strings` and
      `side_strings`.
    * `decompress(latent_strings, side_strings, lmbda, side_shape)` -> `images` uint8; the
      rows of `side_shape` must be equal: one request decodes images of one size.

    Mean-scale models (`Config.entropy_model`, `.yoto` version 3) code their latents in
    S slices (`model.num_slices`, 1 for mean_scale): their latent strings are `[N, S]`,
    one string per slice, in and out.
    * `reconstruct(images, lmbda)`, also `serving_default` (see `CodecServingBase`).
    """

    def __init__(self, model, max_pixels: int = codec_format.MAX_PIXELS):
        super().__init__(model, max_pixels, name="compression_serving")
        strings = [
            tf.TensorSpec(None, tf.string, name="latent_strings"),
            tf.TensorSpec(None, tf.string, name="side_strings"),
        ]
        side_shape = tf.TensorSpec(None, tf.int32, name="side_shape")
        self.compress = tf.function(
            self._compress, input_signature=[self.images_spec, self.lmbda_spec]
        )
        self.decompress = tf.function(
            self._decompress, input_signature=[*strings, self.lmbda_spec, side_shape]
        )

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {
            "serving_default": self.reconstruct.get_concrete_function(),
            "reconstruct": self.reconstruct.get_concrete_function(),
            "compress": self.compress.get_concrete_function(),
            "decompress": self.decompress.get_concrete_function(),
        }

    def _compress(self, images, lmbda):
        lmbda = self._lmbda(lmbda)
        images = self._checked_images(images, lmbda)
        latent, side, _, side_shape = self.model.compress(images, lmbda)
        # One row per image, so that every output has the batch dimension.
        rows = tf.repeat(side_shape[tf.newaxis], tf.shape(images)[0], axis=0)
        return {"latent_strings_bytes": latent, "side_strings_bytes": side, "side_shape": rows}

    def _decompress(self, latent_strings, side_strings, lmbda, side_shape):
        lmbda = self._lmbda(lmbda)
        inputs = {}
        latent_dims = ["N", self.model.num_slices] if self.model.predicts_means else ["N"]
        for name, strings, dims in (
            ("latent_strings", latent_strings, latent_dims),
            ("side_strings", side_strings, ["N"]),
        ):
            strings = serving_inputs.check_shape(name, strings, dims, {1: "one string a slice"})
            inputs[name] = serving_inputs.check_batch_size(
                name, strings, lmbda, f"{name} and lmbda need one lmbda per image"
            )
        side_shape = serving_inputs.check_shape(
            "side_shape", side_shape, ["N", 2], {1: "2 columns (height, width)"}
        )
        side_shape = serving_inputs.check_batch_size(
            "side_shape", side_shape, lmbda, "side_shape and lmbda need one row per image"
        )
        limit = self.max_pixels // (STRIDE * STRIDE)
        side_shape = serving_inputs.in_order(
            side_shape,
            [
                lambda s: tf.debugging.Assert(
                    tf.reduce_all(s == s[:1]),
                    [
                        "side_shape rows must be equal: one request decodes images of one "
                        "size; got",
                        s,
                    ],
                ),
                lambda s: tf.debugging.Assert(
                    # In int64: a forged height * width overflows int32 into the limit.
                    tf.reduce_all(s > 0)
                    & (tf.cast(s[0, 0], tf.int64) * tf.cast(s[0, 1], tf.int64) <= limit),
                    [
                        f"side_shape must be positive, within {self.max_pixels} pixels "
                        f"({limit} hyper-latent positions); got",
                        s,
                    ],
                ),
            ],
        )
        images = self.model.decompress(
            inputs["latent_strings"], inputs["side_strings"], lmbda, side_shape[0]
        )
        return {"images": images}

    def warmup_inputs(self) -> dict:
        """Valid inputs of two images for every signature, for TF Serving's warmup file.

        `decompress` gets what `compress` makes of the warmup images.
        """
        inputs = self.warmup_images()
        coded = self.compress(**inputs)
        decompress = {
            "latent_strings": coded["latent_strings_bytes"],
            "side_strings": coded["side_strings_bytes"],
            "side_shape": coded["side_shape"],
            "lmbda": inputs["lmbda"],
        }
        return {
            "serving_default": inputs,
            "reconstruct": inputs,
            "compress": inputs,
            "decompress": decompress,
        }
