"""Images to `.yoto` bytes and back with a trained `HyperpriorCodec`, at any lambda in range.

One `Codec` owns what every way of running the model shares: the image checks, the
padding, the lambda checks, the file format and its header checks. What runs the
model's transforms and the range coder is a `CodecBackend`:

    ModelBackend        the model in this process (and latent refinement)
    SavedModelBackend   an exported compression SavedModel (`zoo/compression/serving.py`)
    StockBackend        a stock-op servable over gRPC or REST, range coding on the
                        client (`serving/codec_client.py`)

All three write the same bytes for the same image and lambda. Codecs that code the
latents around predicted means (`Config.entropy_model`, `.yoto` version 3) code them in
slices, one string each: their backends take and give a tuple of latent strings.
"""

from __future__ import annotations

import abc
import hashlib
import logging

import numpy as np
import tensorflow as tf

from zoo import saved_model_metadata
from zoo.compression import codec_format, latent_refinement
from zoo.compression import config as compression_config


class CodecBackend(abc.ABC):
    """What a `Codec` runs: the model's transforms and the range coder, one image at a time.

    Images are uint8 `[1, H, W, 3]` with H and W multiples of 64 (the codec pads them);
    `lmbda` is a float the codec has checked (and snapped to the grid of integer-index
    models). Subclasses set `lmbda_range` (the trained range), `fingerprint` (8 bytes
    for integer-index models, else None) and, for mean-scale models, `architecture`
    (`HyperpriorCodec.coding_architecture()`); their latent strings are a tuple, one per
    slice.
    """

    lmbda_range: tuple[float, float]
    fingerprint: bytes | None
    architecture: str = codec_format.SCALE_ARCHITECTURE
    # What `decompress` raises when the range-coded data runs out: a forged file that
    # passed the CRC. The codec reports those as a FormatError.
    decode_errors: tuple[type[Exception], ...] = (tf.errors.InvalidArgumentError,)

    @abc.abstractmethod
    def compress(self, padded: np.ndarray, lmbda: float) -> tuple[bytes, bytes]:
        """The range-coded `(latent, side)` strings of one padded image."""

    @abc.abstractmethod
    def decompress(self, latent: bytes, side: bytes, lmbda: float, side_shape) -> np.ndarray:
        """The uint8 image `[1, H, W, 3]` (padded size) that the strings code."""

    @abc.abstractmethod
    def reconstruct(self, padded: np.ndarray, lmbda: float) -> np.ndarray:
        """What `decompress(*compress(padded))` gives, uint8 `[1, H, W, 3]`."""

    @abc.abstractmethod
    def estimated_bits(self, padded: np.ndarray, lmbda: float) -> float:
        """The model's rate estimate for the padded image, in bits."""


def _images_and_lmbda(padded: np.ndarray, lmbda: float):
    return tf.constant(padded), tf.constant([lmbda], tf.float32)


def _latent_strings(row):
    """One image's latent string(s) from a model's output: bytes, or a tuple of the slices'."""
    if isinstance(row, np.ndarray):
        return tuple(bytes(string) for string in row)
    return row


def _string_row(latent):
    """The inverse of `_latent_strings`: what a `[1]` or `[1, S]` string tensor holds."""
    return list(latent) if isinstance(latent, tuple | list) else latent


class ModelBackend(CodecBackend):
    """A trained `HyperpriorCodec` in this process, optionally refining each image's latents.

    With `refine_steps` > 0 the encoder refines the latents by that many gradient steps
    before coding them (`zoo/compression/latent_refinement.py`), and `estimated_bits` and
    `reconstruct` describe the refined latents.
    """

    def __init__(self, model, refine_steps: int = 0):
        self.model = model
        self.refine_steps = latent_refinement.check_steps(refine_steps)
        # (key, latents) of the last refined image: encoding an image and estimating its
        # bits or reconstructing it share one refinement.
        self._refined = None
        model.prepare_for_coding()
        self.lmbda_range = model.lmbda_range
        self.fingerprint = model.coding_fingerprint()
        self.architecture = model.coding_architecture()
        images = tf.TensorSpec([1, None, None, 3], tf.uint8)
        lmbda = tf.TensorSpec([1], tf.float32)
        self._compress = tf.function(model.compress, input_signature=[images, lmbda])
        latent_strings = [1, model.num_slices] if model.predicts_means else [1]
        self._decompress = tf.function(
            model.decompress,
            input_signature=[
                tf.TensorSpec(latent_strings, tf.string),
                tf.TensorSpec([1], tf.string),
                lmbda,
                tf.TensorSpec([2], tf.int32),
            ],
        )
        self._reconstruct = tf.function(
            model.quantized_reconstruction, input_signature=[images, lmbda]
        )
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

    def compress(self, padded, lmbda):
        """The range-coded `(latent, side)` strings (of the refined latents, if refining)."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        if self.refine_steps:
            latent, side = self._compress_latents(*self._refined_latents(padded, lmbda), lmbda)
        else:
            latent, side = self._compress(padded, lmbda)[:2]
        return _latent_strings(latent.numpy()[0]), side.numpy()[0]

    def decompress(self, latent, side, lmbda, side_shape):
        """The model's decoder on the strings."""
        decoded = self._decompress(
            tf.constant([_string_row(latent)]),
            tf.constant([side]),
            tf.constant([lmbda], tf.float32),
            tf.constant(side_shape, tf.int32),
        )
        return decoded.numpy()

    def reconstruct(self, padded, lmbda):
        """The model's forward pass with rounding (of the refined latents, if refining)."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        if self.refine_steps:
            return self._refined_terms(padded, lmbda)["reconstruction"].numpy()
        return self._reconstruct(padded, lmbda).numpy()

    def estimated_bits(self, padded, lmbda):
        """The model's rate estimate (of the refined latents, if refining)."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        height, width = padded.shape[1], padded.shape[2]
        if self.refine_steps:
            return float(self._refined_terms(padded, lmbda)["rate"][0]) * height * width
        weights = compression_config.loss_weights(lmbda)
        terms = self.model.compute_loss_terms(padded, None, weights, training=False)
        return float(terms["rate"][0] * tf.cast(height * width, tf.float32))

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


def _drop_custom_gradient_warnings(record) -> bool:
    """A logging filter: False for TF's "unsaved custom gradients" warnings on load."""
    return "with ops with unsaved custom gradients" not in record.getMessage()


class SavedModelBackend(CodecBackend):
    """An exported compression SavedModel's `compress`, `decompress` and `reconstruct`."""

    def __init__(self, saved_model_dir):
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
        self.model = tf.saved_model.load(str(saved_model_dir))
        self.lmbda_range = tuple(metadata["weight_ranges"]["distortion"])
        fingerprint = metadata.get("coding_fingerprint")
        self.fingerprint = None if fingerprint is None else bytes.fromhex(fingerprint)
        # Exports of mean-scale codecs name their architecture; older ones are "scale".
        self.architecture = metadata.get("coding_architecture", codec_format.SCALE_ARCHITECTURE)
        self._signatures = self.model.signatures

    def compress(self, padded, lmbda):
        """The `compress` signature's strings."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        outputs = self._signatures["compress"](images=padded, lmbda=lmbda)
        # Exports before format 2 (CHANGELOG.md) named them without `_bytes`.
        latent = outputs.get("latent_strings_bytes", outputs.get("latent_strings"))
        side = outputs.get("side_strings_bytes", outputs.get("side_strings"))
        return _latent_strings(latent.numpy()[0]), side.numpy()[0]

    def decompress(self, latent, side, lmbda, side_shape):
        """The `decompress` signature's image."""
        # The signature takes the hyper-latents' height and width once per image.
        return self._signatures["decompress"](
            latent_strings=tf.constant([_string_row(latent)]),
            side_strings=tf.constant([side]),
            lmbda=tf.constant([lmbda], tf.float32),
            side_shape=tf.constant([side_shape], tf.int32),
        )["images"].numpy()

    def reconstruct(self, padded, lmbda):
        """The `reconstruct` signature's reconstructions."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        return self._signatures["reconstruct"](images=padded, lmbda=lmbda)[
            "reconstructions"
        ].numpy()

    def estimated_bits(self, padded, lmbda):
        """The `reconstruct` signature's bits."""
        padded, lmbda = _images_and_lmbda(padded, lmbda)
        return float(self._signatures["reconstruct"](images=padded, lmbda=lmbda)["bits"][0])


class Codec:
    """Compresses uint8 RGB images `[H, W, 3]` of any size to bytes, and back.

    Images are padded to a multiple of 64 by edge replication and cropped back
    after decoding. `decode(encode(x, lmbda))` equals
    `reconstruct(x, lmbda)` exactly: the model's forward pass with rounding.

    `Codec(model)` runs a trained `HyperpriorCodec` in this process; with
    `refine_steps` > 0 the encoder refines each image's latents by that many
    gradient steps before coding them (`zoo/compression/latent_refinement.py`): fewer
    bits or less distortion for the same decoder and file format, at the cost of
    encode time. `estimated_bits` and `reconstruct` then describe the refined latents.
    `Codec(backend)` runs any other `CodecBackend`; `from_saved_model` an export.
    """

    def __init__(self, model, refine_steps: int = 0):
        if isinstance(model, CodecBackend):
            if refine_steps:
                raise ValueError(
                    "refine_steps needs the model in this process: pass the model, not a backend."
                )
            self.backend = model
        else:
            self.backend = ModelBackend(model, refine_steps)
        self.lmbda_range = tuple(self.backend.lmbda_range)
        self.fingerprint = self.backend.fingerprint
        self.architecture = self.backend.architecture

    @classmethod
    def from_saved_model(cls, saved_model_dir) -> Codec:
        """A codec running an exported compression SavedModel (`zoo/compression/serving.py`).

        Its outputs are the same bytes and pixels as the model it was exported from.
        """
        return cls(SavedModelBackend(saved_model_dir))

    @property
    def refine_steps(self) -> int:
        """Gradient steps the encoder refines each image's latents by (0: none)."""
        return getattr(self.backend, "refine_steps", 0)

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
        """Bytes of this codec's `.yoto` header (version 1, 2 or 3, by the kind of model)."""
        if self.architecture != codec_format.SCALE_ARCHITECTURE:
            _, num_slices = codec_format.parse_architecture(self.architecture)
            return codec_format.header_size(codec_format.MEAN_VERSION, num_slices)
        version = codec_format.FLOAT_INDEX_VERSION
        if self.fingerprint is not None:
            version = codec_format.INTEGER_INDEX_VERSION
        return codec_format.header_size(version)

    def check_header(self, header: codec_format.Header) -> float:
        """The header's lambda if this codec can decode the file, else a FormatError saying why.

        A file's format version and architecture say which kind of model wrote it, and
        its fingerprint which model: decoding with another would read the range-coded
        data under other probability tables and give garbage.
        """
        return codec_format.check_header(
            header, self.fingerprint, self.lmbda_range, self.architecture
        )

    check_image = staticmethod(codec_format.check_image)
    pad = staticmethod(codec_format.pad_image)

    def lmbda_for_target_bpp(self, image, target_bpp: float, iterations: int = 20) -> float:
        """Bisects log(lambda) for the file whose bits per pixel is closest to `target_bpp`.

        Rate grows with lambda, so bisection in log space converges; the result is
        the largest lambda in range whose file does not exceed the target, or the
        lowest lambda if even that file is larger.
        """
        low, high = np.log(self.lmbda_range[0]), np.log(self.lmbda_range[1])
        pixels = image.shape[0] * image.shape[1]

        def lmbda_of(log_lmbda):
            # exp(log(high)) may come out an ulp above high: the range's ends are exact.
            return float(np.clip(np.exp(log_lmbda), *self.lmbda_range))

        def bpp(log_lmbda):
            return 8 * len(self.encode(image, lmbda_of(log_lmbda))) / pixels

        if bpp(high) <= target_bpp:
            return lmbda_of(high)
        if bpp(low) > target_bpp:
            return lmbda_of(low)
        for _ in range(iterations):
            middle = (low + high) / 2
            if bpp(middle) <= target_bpp:
                low = middle
            else:
                high = middle
        return lmbda_of(low)

    def encode(self, image, lmbda: float) -> bytes:
        """Compresses one image at `lmbda` into .yoto bytes."""
        image, lmbda, padded = self._checked(image, lmbda)
        latent, side = self.backend.compress(padded, lmbda)
        return codec_format.pack(
            lmbda,
            image.shape[0],
            image.shape[1],
            side,
            latent,
            fingerprint=self.fingerprint,
            architecture=self.architecture,
        )

    def decode(self, data: bytes) -> np.ndarray:
        """Decompresses .yoto bytes into a uint8 image `[H, W, 3]`."""
        header, lmbda, side, latent = self.unpack(data)
        decoded = self.decoding(self.backend.decompress, latent, side, lmbda, header.side_shape)
        return decoded[0, : header.height, : header.width]

    def estimated_bits(self, image, lmbda: float) -> float:
        """The model's rate estimate for the padded image, in bits (header not included)."""
        _, lmbda, padded = self._checked(image, lmbda)
        return self.backend.estimated_bits(padded, lmbda)

    def reconstruct(self, image, lmbda: float) -> np.ndarray:
        """The quantised reconstruction that `decode(encode(image, lmbda))` must equal."""
        image, lmbda, padded = self._checked(image, lmbda)
        return self.backend.reconstruct(padded, lmbda)[0, : image.shape[0], : image.shape[1]]

    def clear_refinement_cache(self):
        """Forgets the last image's refined latents, so the next call refines again."""
        if isinstance(self.backend, ModelBackend):
            self.backend.clear_refinement_cache()

    def unpack(self, data: bytes) -> tuple[codec_format.Header, float, bytes, bytes]:
        """`(header, lmbda, side, latent)` of .yoto bytes this codec can decode.

        Raises FormatError for a corrupt file or one that another model wrote.
        """
        header, side, latent = codec_format.unpack(data)
        return header, self.check_header(header), side, latent

    def decoding(self, decompress, *args):
        """`decompress(*args)`, with the backend's range-decoding errors as a FormatError."""
        try:
            return decompress(*args)
        except self.backend.decode_errors as error:
            # Reachable only past the CRC (a forged file): the range decoder ran out of data.
            message = str(error).splitlines()[0]
            raise codec_format.FormatError(
                f"the range-coded data is corrupt ({message})"
            ) from error

    def _checked(self, image, lmbda):
        image = self.check_image(image)
        lmbda = self.check_lmbda(lmbda)
        return image, lmbda, self.pad(image)[np.newaxis]
