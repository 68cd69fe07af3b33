"""A `.yoto` codec whose transforms run on a server with stock TensorFlow ops only.

    client = StockCodecClient(predict)       # predict(signature, inputs) -> outputs
    data = client.encode(image, lmbda=0.01)  # the same bytes as zoo's in-process Codec
    image = client.decode(data)

`predict` calls the stock-op servable (`zoo/compression/stock_serving.py`) by
signature name, through gRPC, REST, or in process (`in_process_predict`); the
range coding runs here, so the server needs no tensorflow-compression ops. The
client is zoo's `Codec` (file format, padding, checks) over a `StockBackend`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import tensorflow as tf

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
        self._coder = RangeCoder(tables)

    def compress(self, padded, lmbda):
        """The servable's symbols, range-coded here."""
        symbols = self._analyze(padded, lmbda)
        return self._coder.encode(
            symbols["latent_symbols"][0], symbols["side_symbols"][0], symbols["scale_indexes"][0]
        )

    def decompress(self, latent, side, lmbda, side_shape):
        """Range-decodes here, with the servable's scale indexes and synthesis."""
        return self.decode_steps(latent, side, lmbda, side_shape)["image"][np.newaxis]

    def decode_steps(self, latent, side, lmbda, side_shape) -> dict:
        """What decoding computes on the way: `scale_indexes`, `latent_symbols` and `image`.

        The image is at the padded size.
        """
        side_symbols = self._coder.decode_side(side, side_shape)
        indexes = self._predict(
            "scale_indexes", {"side_symbols": side_symbols[np.newaxis], "lmbda": _vector(lmbda)}
        )["scale_indexes"][0]
        latent_symbols = self._coder.decode_latents(latent, indexes)
        return {
            "scale_indexes": np.asarray(indexes, np.int32),
            "latent_symbols": np.asarray(latent_symbols, np.int32),
            "image": self._synthesize(latent_symbols[np.newaxis], lmbda)[0],
        }

    def reconstruct(self, padded, lmbda):
        """The servable's synthesis of the servable's rounded latents: no range coding needed."""
        return self._synthesize(self._analyze(padded, lmbda)["latent_symbols"], lmbda)

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
