"""Client-side range coding for codecs served on a stock TF Serving ModelServer.

The stock-op servable (`zoo/compression/stock_serving.py`) stops at integer symbols;
this module turns them into the very strings the in-process codec writes, and
back, with tensorflow-compression's range coder running locally. It mirrors
`ContinuousBatchedEntropyModel.compress` (hyper-latents, one distribution per
channel) and `LocationScaleIndexedEntropyModel.compress` (latents, one scale
index per element), using the tables the server exports.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc


class RangeCoder:
    """Range-codes one image's latent and hyper-latent symbols with a model's tables."""

    def __init__(self, tables: Mapping[str, np.ndarray]):
        self.latent_cdf = tf.constant(tables["latent_cdf"], tf.int32)
        self.latent_cdf_offset = tf.constant(tables["latent_cdf_offset"], tf.int32)
        self.side_cdf = tf.constant(tables["side_cdf"], tf.int32)
        self.side_cdf_offset = tf.constant(tables["side_cdf_offset"], tf.int32)

    def encode(self, latent_symbols, side_symbols, scale_indexes) -> tuple[bytes, bytes]:
        """`(latent_string, side_string)` for one image's symbols `[h, w, C]`."""
        return self.encode_latents(latent_symbols, scale_indexes), self.encode_side(side_symbols)

    def encode_side(self, side_symbols) -> bytes:
        """The side string of one image's hyper-latent symbols `[h, w, C]`."""
        side = tf.constant(side_symbols, tf.int32)[tf.newaxis] - self.side_cdf_offset
        handle = tfc.create_range_encoder([1], self.side_cdf)
        handle = tfc.entropy_encode_channel(handle, side)
        return tfc.entropy_encode_finalize(handle).numpy()[0]

    def encode_latents(self, latent_symbols, scale_indexes) -> bytes:
        """The string of latent symbols `[h, w, c]` (all channels, or one slice's)."""
        indexes = tf.constant(scale_indexes, tf.int32)[tf.newaxis]
        latent = tf.constant(latent_symbols, tf.int32)[tf.newaxis]
        latent -= tf.gather(self.latent_cdf_offset, indexes)
        handle = tfc.create_range_encoder([1], self.latent_cdf)
        handle = tfc.entropy_encode_index(handle, indexes, latent)
        return tfc.entropy_encode_finalize(handle).numpy()[0]

    def decode_side(self, side_string: bytes, side_shape) -> np.ndarray:
        """Hyper-latent symbols `[h, w, C]` from their string; raises ValueError if corrupt."""
        channels = int(self.side_cdf_offset.shape[0])
        shape = tf.constant([*side_shape, channels], tf.int32)
        handle = tfc.create_range_decoder(tf.constant([side_string]), self.side_cdf)
        handle, symbols = tfc.entropy_decode_channel(handle, shape, tf.int32)
        self._check(tfc.entropy_decode_finalize(handle), "side information")
        return (symbols + self.side_cdf_offset).numpy()[0]

    def decode_latents(self, latent_string: bytes, scale_indexes) -> np.ndarray:
        """Latent symbols `[h, w, c]` given their scale indexes; raises ValueError if corrupt.

        `c` is every channel, or one slice's (a context model codes a string per slice).
        """
        indexes = tf.constant(scale_indexes, tf.int32)[tf.newaxis]
        handle = tfc.create_range_decoder(tf.constant([latent_string]), self.latent_cdf)
        handle, symbols = tfc.entropy_decode_index(handle, indexes, tf.shape(indexes)[1:], tf.int32)
        self._check(tfc.entropy_decode_finalize(handle), "latents")
        return (symbols + tf.gather(self.latent_cdf_offset, indexes)).numpy()[0]

    @staticmethod
    def _check(success, part: str) -> None:
        if not bool(tf.reduce_all(success)):
            raise ValueError(f"The range-coded {part} are corrupt (the decoder ran past them).")
