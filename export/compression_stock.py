"""The compression codec as a servable with stock TensorFlow ops only.

A stock TF Serving ModelServer cannot run tensorflow-compression's range-coding
ops, so this servable stops at integer symbols: the server runs the transforms
and the entropy models' arithmetic, and the client (`serving/codec_client.py`)
range-codes locally with the tables from `coding_tables`, producing exactly the
bytes of the in-process codec. Loading it never needs `tensorflow_compression`.
"""

from __future__ import annotations

import tensorflow as tf

from export import validation
from export.compression import CodecServingBase
from zoo import codec_format


class CompressionStockServing(CodecServingBase):
    """Stock-op signatures (images uint8 `[N, H, W, 3]`, H and W multiples of 64; lmbda `[N]`).

    * `analyze(images, lmbda)` -> int32 `latent_symbols`, `side_symbols`, `scale_indexes`.
    * `scale_indexes(side_symbols, lmbda)` -> int32 `scale_indexes` (decoding, step 1).
    * `synthesize(latent_symbols, lmbda)` -> uint8 `images` (decoding, step 2).
    * `coding_tables()` -> the range coder's int32 tables, the trained `lmbda_range` and,
      for integer-index models, the `coding_fingerprint` (hex string).
    * `reconstruct(images, lmbda)` -> `reconstructions` and the rate estimate `bits`;
      also `serving_default`.
    """

    def __init__(self, model, **kwargs):
        super().__init__(model, name="compression_stock_serving", **kwargs)
        lmbda, images = self.lmbda_spec, self.images_spec
        side = tf.TensorSpec([None, None, None, model.num_filters], tf.int32, name="side_symbols")
        latent = tf.TensorSpec(
            [None, None, None, model.num_latent_filters], tf.int32, name="latent_symbols"
        )
        self.analyze = tf.function(self._analyze, input_signature=[images, lmbda])
        self.scale_indexes = tf.function(self._scale_indexes, input_signature=[side, lmbda])
        self.synthesize = tf.function(self._synthesize, input_signature=[latent, lmbda])
        self.coding_tables = tf.function(self._coding_tables, input_signature=[])

    def signatures(self) -> dict:
        """Signature name -> concrete function; no range-coding op in any of them."""
        return {
            "serving_default": self.reconstruct.get_concrete_function(),
            "reconstruct": self.reconstruct.get_concrete_function(),
            "analyze": self.analyze.get_concrete_function(),
            "scale_indexes": self.scale_indexes.get_concrete_function(),
            "synthesize": self.synthesize.get_concrete_function(),
            "coding_tables": self.coding_tables.get_concrete_function(),
        }

    def _analyze(self, images, lmbda):
        lmbda = self._lmbda(lmbda)
        images = self._checked_images(images, lmbda)
        return self.model.coding_symbols(images, lmbda)

    def _symbols(self, name, symbols, lmbda):
        max_positions = self.max_pixels // codec_format.LATENT_STRIDE**2
        return validation.check_symbols(name, symbols, tf.shape(lmbda)[0], max_positions)

    def _scale_indexes(self, side_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        side_symbols = self._symbols("side_symbols", side_symbols, lmbda)
        return {"scale_indexes": self.model.scale_indexes_from_side_symbols(side_symbols, lmbda)}

    def _synthesize(self, latent_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        latent_symbols = self._symbols("latent_symbols", latent_symbols, lmbda)
        return {"images": self.model.synthesise_symbols(latent_symbols, lmbda)}

    def _coding_tables(self):
        tables = {**self.model.coding_tables(), "lmbda_range": tf.constant(self.lmbda_range)}
        if self.fingerprint is not None:
            # Integer-index models: the client writes it into version 2 `.yoto` headers.
            tables["coding_fingerprint"] = tf.constant(self.fingerprint.hex())
        return tables

    def warmup_inputs(self) -> dict:
        """Example inputs per signature, for TF Serving's warmup file."""
        inputs = self.warmup_images()
        return {"serving_default": inputs, "analyze": inputs}
