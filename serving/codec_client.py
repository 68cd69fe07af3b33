"""A `.yoto` codec whose transforms run on a server with stock TensorFlow ops only.

    client = StockCodecClient(predict)       # predict(signature, inputs) -> outputs
    data = client.encode(image, lmbda=0.01)  # the same bytes as zoo.codec.Codec
    image = client.decode(data)

`predict` calls the stock-op servable (`zoo/compression/stock_serving.py`) by
signature name, through gRPC, REST, or in process (`in_process_predict`); the
range coding runs here, so the server needs no tensorflow-compression ops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import tensorflow as tf

from zoo.compression import codec_format

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
    """The servable's range-coding tables, `lmbda_range` and (if any) `coding_fingerprint`.

    `coding_tables` returns one copy per row of its `rows` input (a batch dimension
    for TF Serving's batching); one row is asked for and its copy returned.
    """
    outputs = predict("coding_tables", {"rows": np.zeros([1], np.int32)})
    return {name: np.asarray(value)[0] for name, value in outputs.items()}


class StockCodecClient:
    """Encodes and decodes `.yoto` files through a stock-op codec servable."""

    def __init__(self, predict: Predict):
        from serving.range_coding import RangeCoder  # Needs tensorflow-compression here.

        self._predict = predict
        tables = coding_tables(predict)
        self.lmbda_range = tuple(float(v) for v in tables.pop("lmbda_range"))
        fingerprint = tables.pop("coding_fingerprint", None)
        if fingerprint is not None:
            fingerprint = np.asarray(fingerprint).item()
            fingerprint = bytes.fromhex(
                fingerprint.decode() if isinstance(fingerprint, bytes) else fingerprint
            )
        self.fingerprint = fingerprint
        self._coder = RangeCoder(tables)

    def encode(self, image, lmbda: float) -> bytes:
        """Compresses one uint8 RGB image `[H, W, 3]` at `lmbda` into .yoto bytes."""
        image = codec_format.check_image(image)
        lmbda = codec_format.check_lmbda(lmbda, self.lmbda_range)
        if self.fingerprint is not None:
            lmbda = codec_format.snap_lmbda(lmbda, *self.lmbda_range)
        padded = codec_format.pad_image(image)[np.newaxis]
        symbols = self._predict("analyze", {"images": padded, "lmbda": self._vector(lmbda)})
        latent, side = self._coder.encode(
            symbols["latent_symbols"][0], symbols["side_symbols"][0], symbols["scale_indexes"][0]
        )
        return codec_format.pack(
            lmbda, image.shape[0], image.shape[1], side, latent, fingerprint=self.fingerprint
        )

    def decode(self, data: bytes) -> np.ndarray:
        """Decompresses .yoto bytes into a uint8 image `[H, W, 3]`."""
        return self.decode_steps(data)["image"]

    def decode_steps(self, data: bytes) -> dict:
        """What decoding computes on the way: `scale_indexes`, `latent_symbols` and `image`.

        Raises FormatError for a corrupt file or one that another model wrote.
        """
        header, side, latent = codec_format.unpack(data)
        lmbda = self._vector(codec_format.check_header(header, self.fingerprint, self.lmbda_range))
        side_symbols = self._range_decode(self._coder.decode_side, side, header.side_shape)
        indexes = self._predict(
            "scale_indexes", {"side_symbols": side_symbols[np.newaxis], "lmbda": lmbda}
        )["scale_indexes"][0]
        latent_symbols = self._range_decode(self._coder.decode_latents, latent, indexes)
        images = self._predict(
            "synthesize", {"latent_symbols": latent_symbols[np.newaxis], "lmbda": lmbda}
        )["images"]
        # REST JSON carries no dtype; the pixels are integers in 0..255 either way.
        return {
            "scale_indexes": np.asarray(indexes, np.int32),
            "latent_symbols": np.asarray(latent_symbols, np.int32),
            "image": np.asarray(images[0, : header.height, : header.width], np.uint8),
        }

    @staticmethod
    def _range_decode(decode, *args):
        try:
            return decode(*args)
        except (ValueError, tf.errors.InvalidArgumentError) as error:
            # Reachable only past the CRC (a forged file): the range decoder ran out of data.
            message = str(error).splitlines()[0]
            raise codec_format.FormatError(
                f"the range-coded data is corrupt ({message})"
            ) from error

    @staticmethod
    def _vector(lmbda: float) -> np.ndarray:
        return np.array([lmbda], np.float32)
