"""A `.yoto` codec whose transforms run on a server with stock TensorFlow ops only.

    client = StockCodecClient(predict)       # predict(signature, inputs) -> outputs
    data = client.encode(image, lmbda=0.01)  # the same bytes as zoo's in-process Codec
    image = client.decode(data)

`predict` calls the stock-op servable (`zoo/compression/stock_serving.py`) by
signature name, through gRPC, REST, or in process (`in_process_predict`); the
range coding runs here, so the server needs no tensorflow-compression ops. The
client is zoo's `Codec` (file format, padding, checks) over a `StockBackend`.

Mean-scale servables (`.yoto` version 3) name their coding architecture in
`coding_tables`; their latents are coded in S slices of equal channel runs, a string
each, and decoding calls `scale_indexes` once a slice with the symbols decoded so far
(a context model's tables for slice k depend on slices before it), then `synthesize`
with the side symbols (the decoded latents are symbols + means).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import tensorflow as tf

from zoo.compression import codec_format
from zoo.compression.codec import Codec, CodecBackend

Predict = Callable[[str, Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


def in_process_predict(saved_model_dir) -> Predict:
    """A `predict` that runs the servable's signatures in this process."""
    loaded = tf.saved_model.load(str(saved_model_dir))

    def predict(signature_name, inputs):
        outputs = loaded.signatures[signature_name](
            **{name: tf.constant(value) for name, value in inputs.items()}
        )
        return {name: value.numpy() for name, value in outputs.items()}

    predict.loaded = loaded
    return predict


def coding_tables(predict: Predict) -> dict[str, np.ndarray]:
    """The servable's range-coding tables, `lmbda_range` and any `coding_fingerprint_bytes`.

    `coding_tables` returns one copy per row of its `rows` input (a batch dimension
    for TF Serving's batching); one row is asked for and its copy returned.
    """
    outputs = predict("coding_tables", {"rows": np.zeros([1], np.int32)})
    return {name: np.asarray(value)[0] for name, value in outputs.items()}


class StockBackend(CodecBackend):
    """A stock-op codec servable's transforms, with the range coding in this process."""

    # The range decoder raises ValueError when it runs past the data (`RangeCoder`).
    decode_errors = (ValueError, tf.errors.InvalidArgumentError)

    def __init__(self, predict: Predict):
        from serving.range_coding import RangeCoder  # Needs tensorflow-compression here.

        self._predict = predict
        tables = coding_tables(predict)
        self.lmbda_range = tuple(float(v) for v in tables.pop("lmbda_range"))
        # Exports before format 2 (CHANGELOG.md) call it `coding_fingerprint`.
        old_name = tables.pop("coding_fingerprint", None)
        fingerprint = tables.pop("coding_fingerprint_bytes", old_name)
        if fingerprint is not None:
            fingerprint = np.asarray(fingerprint).item()
            fingerprint = bytes.fromhex(
                fingerprint.decode() if isinstance(fingerprint, bytes) else fingerprint
            )
        self.fingerprint = fingerprint
        architecture = tables.pop("coding_architecture_bytes", None)
        if architecture is not None:
            architecture = np.asarray(architecture).item()
            architecture = (
                architecture.decode() if isinstance(architecture, bytes) else architecture
            )
            self.architecture = str(architecture)
        self.predicts_means = architecture is not None
        self.num_slices = 1
        if self.predicts_means:
            self.num_slices = codec_format.parse_architecture(self.architecture)[1]
            self.latent_channels = int(np.asarray(tables.pop("latent_channels")))
        self._coder = RangeCoder(tables)

    def compress(self, padded, lmbda):
        """The servable's symbols, range-coded here (a string a slice for mean-scale models)."""
        symbols = self._analyze(padded, lmbda)
        latent, side = symbols["latent_symbols"][0], symbols["side_symbols"][0]
        indexes = symbols["scale_indexes"][0]
        if not self.predicts_means:
            return self._coder.encode(latent, side, indexes)
        strings = tuple(
            self._coder.encode_latents(latent[..., channels], indexes[..., channels])
            for channels in self._slices(latent.shape[-1])
        )
        return strings, self._coder.encode_side(side)

    def _slices(self, channels: int) -> list[slice]:
        width = channels // self.num_slices
        return [slice(k * width, (k + 1) * width) for k in range(self.num_slices)]

    def decompress(self, latent, side, lmbda, side_shape):
        """Range-decodes here, with the servable's scale indexes and synthesis."""
        return self.decode_steps(latent, side, lmbda, side_shape)["image"][np.newaxis]

    def decode_steps(self, latent, side, lmbda, side_shape) -> dict:
        """What decoding computes on the way: `scale_indexes`, `latent_symbols` and `image`.

        The image is at the padded size.
        """
        side_symbols = self._coder.decode_side(side, side_shape)
        request = {"side_symbols": side_symbols[np.newaxis], "lmbda": _vector(lmbda)}
        if self.predicts_means:
            return self._decode_slices(latent, request)
        indexes = self._predict("scale_indexes", request)["scale_indexes"][0]
        latent_symbols = self._coder.decode_latents(latent, indexes)
        return {
            "scale_indexes": np.asarray(indexes, np.int32),
            "latent_symbols": np.asarray(latent_symbols, np.int32),
            "image": self._synthesize(latent_symbols[np.newaxis], lmbda)[0],
        }

    def _decode_slices(self, strings, request) -> dict:
        """A mean-scale model's decoding: a `scale_indexes` call and a string per slice."""
        if len(strings) != self.num_slices:
            raise ValueError(f"{len(strings)} latent strings for {self.num_slices} slices")
        height, width = (4 * size for size in request["side_symbols"].shape[1:3])
        latent_symbols = np.zeros([height, width, self.latent_channels], np.int32)
        indexes = np.zeros_like(latent_symbols)
        for string, channels in zip(strings, self._slices(self.latent_channels), strict=True):
            if self.num_slices > 1:
                # Slice k's tables read the symbols of the slices before it (zeros after).
                request["latent_symbols"] = latent_symbols[np.newaxis]
            outputs = self._predict("scale_indexes", request)
            slice_indexes = np.asarray(outputs["scale_indexes"], np.int32)[0][..., channels]
            indexes[..., channels] = slice_indexes
            latent_symbols[..., channels] = self._coder.decode_latents(string, slice_indexes)
        request["latent_symbols"] = latent_symbols[np.newaxis]
        images = self._predict("synthesize", request)["images"]
        return {
            "scale_indexes": indexes,
            "latent_symbols": latent_symbols,
            "image": np.asarray(images, np.uint8)[0],
        }

    def reconstruct(self, padded, lmbda):
        """The servable's synthesis of the servable's rounded latents: no range coding needed."""
        symbols = self._analyze(padded, lmbda)
        if self.predicts_means:
            request = {name: symbols[name] for name in ("latent_symbols", "side_symbols")}
            images = self._predict("synthesize", {**request, "lmbda": _vector(lmbda)})
            return np.asarray(images["images"], np.uint8)
        return self._synthesize(symbols["latent_symbols"], lmbda)

    def estimated_bits(self, padded, lmbda):
        """Not available: the stock-op servable has no rate estimate."""
        raise NotImplementedError(
            "a stock-op codec servable gives no rate estimate; use the model or its full "
            "SavedModel export (Codec, Codec.from_saved_model) for estimated_bits."
        )

    def _analyze(self, padded, lmbda):
        return self._predict("analyze", {"images": padded, "lmbda": _vector(lmbda)})

    def _synthesize(self, latent_symbols, lmbda):
        images = self._predict(
            "synthesize", {"latent_symbols": latent_symbols, "lmbda": _vector(lmbda)}
        )["images"]
        # REST JSON carries no dtype; the pixels are integers in 0..255 either way.
        return np.asarray(images, np.uint8)


class StockCodecClient(Codec):
    """Encodes and decodes `.yoto` files through a stock-op codec servable."""

    def __init__(self, predict: Predict):
        super().__init__(StockBackend(predict))

    def decode_steps(self, data: bytes) -> dict:
        """What decoding computes on the way: `scale_indexes`, `latent_symbols` and `image`.

        Raises FormatError for a corrupt file or one that another model wrote.
        """
        header, lmbda, side, latent = self.unpack(data)
        steps = self.decoding(self.backend.decode_steps, latent, side, lmbda, header.side_shape)
        steps["image"] = steps["image"][: header.height, : header.width]
        return steps


def _vector(lmbda: float) -> np.ndarray:
    return np.array([lmbda], np.float32)
