"""Images to `.yoto` bytes and back with a trained `HyperpriorCodec`, at any lambda in range."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import tensorflow as tf

from zoo import saved_model_metadata
from zoo.compression import codec_format, latent_refinement


def _drop_custom_gradient_warnings(record) -> bool:
    """A logging filter: False for TF's "unsaved custom gradients" warnings on load."""
    return "with ops with unsaved custom gradients" not in record.getMessage()


class Codec:
    """Compresses uint8 RGB images `[H, W, 3]` of any size to bytes, and back.

    Images are padded to a multiple of 64 by edge replication and cropped back
    after decoding. `decode(encode(x, lmbda))` equals
    `reconstruct(x, lmbda)` exactly: the model's forward pass with rounding.

    With `refine_steps` > 0 the encoder refines each image's latents by that many
    gradient steps before coding them (`zoo/compression/latent_refinement.py`): fewer bits or
    less distortion for the same decoder and file format, at the cost of encode time.
    `estimated_bits` and `reconstruct` then describe the refined latents.
    """

    def __init__(self, model, refine_steps: int = 0):
        self.model = model
        self.refine_steps = latent_refinement.check_steps(refine_steps)
        # (key, latents) of the last refined image: encoding an image and estimating its
        # bits or reconstructing it share one refinement.
        self._refined = None
        model.prepare_for_coding()
        lows, highs = model.weight_sampler.bounds()
        self.lmbda_range = (lows[1], highs[1])
        self.fingerprint = model.coding_fingerprint()
        images = tf.TensorSpec([1, None, None, 3], tf.uint8)
        lmbda = tf.TensorSpec([1], tf.float32)
        compress = tf.function(model.compress, input_signature=[images, lmbda])
        self._compress = lambda padded, lmbda: compress(padded, lmbda)[:2]
        self._decompress = tf.function(
            model.decompress,
            input_signature=[
                tf.TensorSpec([1], tf.string),
                tf.TensorSpec([1], tf.string),
                lmbda,
                tf.TensorSpec([2], tf.int32),
            ],
        )
        self._reconstruct = tf.function(
            model.quantized_reconstruction, input_signature=[images, lmbda]
        )

        def bits(padded, lmbda):
            weights = tf.stack([tf.ones_like(lmbda), lmbda], axis=-1)
            terms = model.compute_loss_terms(padded, None, weights, training=False)
            return terms["rate"] * tf.cast(padded.shape[1] * padded.shape[2], tf.float32)

        self._bits = bits
        if self.refine_steps:
            latents = [tf.TensorSpec([1, None, None, None], tf.float32)] * 2
            self._refine = tf.function(
                lambda padded, lmbda: latent_refinement.refine_latents(
                    model, padded, lmbda, self.refine_steps
                ),
                input_signature=[images, lmbda],
            )
            self._compress_latents = tf.function(
                model.compress_latents, input_signature=[*latents, lmbda]
            )
            self._coded_terms = tf.function(
                model.coded_terms, input_signature=[images, *latents, lmbda]
            )

    @classmethod
    def from_saved_model(cls, saved_model_dir) -> Codec:
        """A codec running an exported compression SavedModel (`zoo/compression/serving.py`).

        Its outputs are the same bytes and pixels as the model it was exported from.
        """
        import tensorflow_compression  # noqa: F401  Registers the range-coding ops.

        metadata = saved_model_metadata.read_metadata(saved_model_dir)
        if metadata.get("task") != "compression":
            raise ValueError(
                f"{saved_model_dir} holds a {metadata.get('task')!r} model, not a compression "
                "codec; export a model trained with --task=compression."
            )
        # Loading warns once per function that custom gradients were not saved; decoding
        # never takes gradients, so keep those warnings (and only those) off the screen.
        for name in ("tensorflow", "absl"):  # TF logs it through absl.
            logging.getLogger(name).addFilter(_drop_custom_gradient_warnings)
        loaded = tf.saved_model.load(str(saved_model_dir))
        codec = cls.__new__(cls)
        codec.model = loaded
        # Refinement takes gradients through the model, which a SavedModel does not keep.
        codec.refine_steps = 0
        codec.lmbda_range = tuple(metadata["weight_ranges"]["distortion"])
        fingerprint = metadata.get("coding_fingerprint")
        codec.fingerprint = None if fingerprint is None else bytes.fromhex(fingerprint)
        signatures = loaded.signatures

        def compress(padded, lmbda):
            outputs = signatures["compress"](images=padded, lmbda=lmbda)
            return outputs["latent_strings"], outputs["side_strings"]

        def decompress(latent, side, lmbda, side_shape):
            # The signature takes the hyper-latents' height and width once per image.
            rows = tf.repeat(tf.reshape(side_shape, [1, 2]), tf.size(lmbda), axis=0)
            return signatures["decompress"](
                latent_strings=latent, side_strings=side, lmbda=lmbda, side_shape=rows
            )["images"]

        codec._compress = compress
        codec._decompress = decompress
        codec._reconstruct = lambda padded, lmbda: signatures["reconstruct"](
            images=padded, lmbda=lmbda
        )["reconstructions"]
        codec._bits = lambda padded, lmbda: signatures["reconstruct"](images=padded, lmbda=lmbda)[
            "bits"
        ]
        return codec

    def check_lmbda(self, lmbda: float) -> float:
        """Returns `lmbda` as a float (on the lambda grid of integer-index models), or raises.

        The error names the trained range.
        """
        lmbda = codec_format.check_lmbda(lmbda, self.lmbda_range)
        if self.fingerprint is None:
            return lmbda
        return codec_format.snap_lmbda(lmbda, *self.lmbda_range)

    @property
    def header_size(self) -> int:
        """Bytes of this codec's `.yoto` header (version 2 for integer-index models)."""
        version = codec_format.FLOAT_INDEX_VERSION
        if self.fingerprint is not None:
            version = codec_format.INTEGER_INDEX_VERSION
        return codec_format.HEADER_SIZES[version]

    def check_header(self, header: codec_format.Header) -> float:
        """The header's lambda if this codec can decode the file, else a FormatError saying why.

        A file's format version says which kind of model wrote it, and a version 2
        file's fingerprint which model: decoding with another would read the range-coded
        data under other probability tables and give garbage.
        """
        return codec_format.check_header(header, self.fingerprint, self.lmbda_range)

    # The image checks and padding are the file format's, shared with the stock-op client.
    check_image = staticmethod(codec_format.check_image)
    pad = staticmethod(codec_format.pad_image)

    def encode(self, image, lmbda: float) -> bytes:
        """Compresses one image at `lmbda` into .yoto bytes."""
        image = self.check_image(image)
        lmbda = self.check_lmbda(lmbda)
        padded = tf.constant(self.pad(image)[np.newaxis])
        lmbda_tensor = tf.constant([lmbda], tf.float32)
        if self.refine_steps:
            latent, side = self._compress_latents(
                *self._refined_latents(padded, lmbda_tensor), lmbda_tensor
            )
        else:
            latent, side = self._compress(padded, lmbda_tensor)
        return codec_format.pack(
            lmbda,
            image.shape[0],
            image.shape[1],
            side.numpy()[0],
            latent.numpy()[0],
            fingerprint=self.fingerprint,
        )

    def decode(self, data: bytes) -> np.ndarray:
        """Decompresses .yoto bytes into a uint8 image `[H, W, 3]`."""
        header, side, latent = codec_format.unpack(data)
        lmbda = self.check_header(header)
        try:
            decoded = self._decompress(
                tf.constant([latent]),
                tf.constant([side]),
                tf.constant([lmbda], tf.float32),
                tf.constant(header.side_shape, tf.int32),
            )
        except tf.errors.InvalidArgumentError as error:
            # Reachable only past the CRC (a forged file): the range decoder ran out of data.
            raise codec_format.FormatError(
                f"the range-coded data is corrupt ({error.message.splitlines()[0]})"
            ) from error
        return decoded.numpy()[0, : header.height, : header.width]

    def estimated_bits(self, image, lmbda: float) -> float:
        """The model's rate estimate for the padded image, in bits (header not included)."""
        image = self.check_image(image)
        lmbda = self.check_lmbda(lmbda)
        padded = tf.constant(self.pad(image)[np.newaxis])
        lmbda_tensor = tf.constant([lmbda], tf.float32)
        if self.refine_steps:
            terms = self._refined_terms(padded, lmbda_tensor)
            return float(terms["rate"][0]) * padded.shape[1] * padded.shape[2]
        return float(self._bits(padded, lmbda_tensor)[0])

    def reconstruct(self, image, lmbda: float) -> np.ndarray:
        """The quantised reconstruction that `decode(encode(image, lmbda))` must equal."""
        image = self.check_image(image)
        lmbda = self.check_lmbda(lmbda)
        padded = tf.constant(self.pad(image)[np.newaxis])
        lmbda_tensor = tf.constant([lmbda], tf.float32)
        if self.refine_steps:
            result = self._refined_terms(padded, lmbda_tensor)["reconstruction"]
        else:
            result = self._reconstruct(padded, lmbda_tensor)
        return result.numpy()[0, : image.shape[0], : image.shape[1]]

    def clear_refinement_cache(self):
        """Forgets the last image's refined latents, so the next call refines again."""
        self._refined = None

    def _refined_latents(self, padded, lmbda):
        key = (hashlib.sha256(padded.numpy().tobytes()).digest(), padded.shape, float(lmbda[0]))
        if self._refined is None or self._refined[0] != key:
            self._refined = (key, self._refine(padded, lmbda))
        return self._refined[1]

    def _refined_terms(self, padded, lmbda):
        return self._coded_terms(padded, *self._refined_latents(padded, lmbda), lmbda)
