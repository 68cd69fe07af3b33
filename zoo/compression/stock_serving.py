"""The compression codec as a servable with stock TensorFlow ops only.

A stock TF Serving ModelServer cannot run tensorflow-compression's range-coding
ops, so this servable stops at integer symbols: the server runs the transforms
and the entropy models' arithmetic, and the client (`serving/codec_client.py`)
range-codes locally with the tables from `coding_tables`, producing exactly the
bytes of the in-process codec. Loading it never needs `tensorflow_compression`.
"""

from __future__ import annotations

import tensorflow as tf

from zoo import serving_inputs
from zoo.compression import codec_format
from zoo.compression.serving import CodecServingBase


class CompressionStockServing(CodecServingBase):
    """Stock-op signatures (images uint8 `[N, H, W, 3]`, H and W multiples of 64; lmbda `[N]`).

    Every input and output has the batch dimension N first, as TF Serving's batching needs.

    * `analyze(images, lmbda)` -> int32 `latent_symbols`, `side_symbols`, `scale_indexes`.
    * `scale_indexes(side_symbols, lmbda)` -> int32 `scale_indexes` (decoding, step 1).
    * `synthesize(latent_symbols, lmbda)` -> uint8 `images` (decoding, step 2).
    * `coding_tables(rows int32 [N])` -> one copy per row of the range coder's int32
      tables (`latent_cdf [N, ...]` ..), the trained `lmbda_range [N, 2]` and, for
      integer-index models, the `coding_fingerprint_bytes [N]` (hex string; named so that
      TF Serving's REST API base64-encodes it, like every string output; until export
      format 2 it was `coding_fingerprint`). The values of `rows` are ignored: send `[0]`
      and read row 0.
    * `reconstruct(images, lmbda)` -> `reconstructions` and the rate estimate `bits`;
      also `serving_default`.

    Mean-scale models (`Config.entropy_model`, `.yoto` version 3) decode `symbols + mean`
    and code the latents in S slices (`model.num_slices`, S > 1 with a context model):

    * `scale_indexes(side_symbols, latent_symbols, lmbda)` (S > 1; without
      `latent_symbols` when S is 1): slice k of the result is the decoder's when
      `latent_symbols` holds the decoded symbols of the slices before k (anything after),
      so a client calls it once a slice, with the symbols decoded so far;
    * `synthesize(latent_symbols, side_symbols, lmbda)`: the means come from the side;
    * `coding_tables` also gives `coding_architecture_bytes [N]` ("mean_scale",
      "channel_context/4"), for the `.yoto` version 3 header, and `latent_channels [N]`
      (what `latent_symbols` holds before any is decoded); the slices are equal runs of
      channels.
    """

    def __init__(self, model, **kwargs):
        super().__init__(model, name="compression_stock_serving", **kwargs)
        lmbda, images = self.lmbda_spec, self.images_spec
        # Unknown rank: the shape checks run in the graph (see zoo/serving_inputs.py).
        side = tf.TensorSpec(None, tf.int32, name="side_symbols")
        latent = tf.TensorSpec(None, tf.int32, name="latent_symbols")
        rows = tf.TensorSpec(None, tf.int32, name="rows")
        self.analyze = tf.function(self._analyze, input_signature=[images, lmbda])
        if not model.predicts_means:
            self.scale_indexes = tf.function(self._scale_indexes, input_signature=[side, lmbda])
            self.synthesize = tf.function(self._synthesize, input_signature=[latent, lmbda])
        elif model.num_slices > 1:
            self.scale_indexes = tf.function(
                self._context_scale_indexes, input_signature=[side, latent, lmbda]
            )
        else:
            self.scale_indexes = tf.function(self._scale_indexes, input_signature=[side, lmbda])
        if model.predicts_means:
            self.synthesize = tf.function(
                self._mean_synthesize, input_signature=[latent, side, lmbda]
            )
        self.coding_tables = tf.function(self._coding_tables, input_signature=[rows])

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

    def _symbols(self, name, symbols, channels, lmbda):
        max_positions = self.max_pixels // codec_format.LATENT_STRIDE**2
        return serving_inputs.check_symbols(name, symbols, channels, lmbda, max_positions)

    def _scale_indexes(self, side_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        side_symbols = self._symbols(
            "side_symbols", side_symbols, self.model.num_hyper_filters, lmbda
        )
        return {"scale_indexes": self.model.scale_indexes_from_side_symbols(side_symbols, lmbda)}

    def _latent_and_side_symbols(self, latent_symbols, side_symbols, lmbda):
        """Both symbol inputs after their checks, the latents 4 times the side's size."""
        side_symbols = self._symbols(
            "side_symbols", side_symbols, self.model.num_hyper_filters, lmbda
        )
        latent_symbols = self._symbols(
            "latent_symbols", latent_symbols, self.model.num_latent_filters, lmbda
        )
        ratio = codec_format.STRIDE // codec_format.LATENT_STRIDE
        latent_symbols = serving_inputs.in_order(
            latent_symbols,
            [
                lambda s: tf.debugging.Assert(
                    tf.reduce_all(
                        tf.shape(s)[:3] == tf.shape(side_symbols)[:3] * [1, ratio, ratio]
                    ),
                    [
                        f"latent_symbols must be {ratio} times side_symbols' height and width "
                        "(one image each); got shapes",
                        tf.shape(s),
                        tf.shape(side_symbols),
                    ],
                )
            ],
        )
        return latent_symbols, side_symbols

    def _context_scale_indexes(self, side_symbols, latent_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        latent_symbols, side_symbols = self._latent_and_side_symbols(
            latent_symbols, side_symbols, lmbda
        )
        indexes = self.model.scale_indexes_from_side_symbols(side_symbols, lmbda, latent_symbols)
        return {"scale_indexes": indexes}

    def _mean_synthesize(self, latent_symbols, side_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        latent_symbols, side_symbols = self._latent_and_side_symbols(
            latent_symbols, side_symbols, lmbda
        )
        images = self.model.synthesise_symbols(latent_symbols, lmbda, side_symbols)
        return {"images": images}

    def _synthesize(self, latent_symbols, lmbda):
        lmbda = self._lmbda(lmbda)
        latent_symbols = self._symbols(
            "latent_symbols", latent_symbols, self.model.num_latent_filters, lmbda
        )
        return {"images": self.model.synthesise_symbols(latent_symbols, lmbda)}

    def _coding_tables(self, rows):
        # TF Serving batches every signature, which needs an input and a batch dimension on
        # every output: hence `rows`, and a copy of the tables per row.
        rows = serving_inputs.check_shape("rows", rows, ["N"])
        rows = serving_inputs.in_order(
            rows,
            [
                lambda r: tf.debugging.assert_greater(
                    tf.size(r), 0, message="rows is empty: send [0] for one copy of the tables"
                )
            ],
        )
        tables = {**self.model.coding_tables(), "lmbda_range": tf.constant(self.lmbda_range)}
        if self.fingerprint is not None:
            # Integer-index models: the client writes it into version 2 `.yoto` headers.
            tables["coding_fingerprint_bytes"] = tf.constant(self.fingerprint.hex())
        if self.model.predicts_means:
            # `.yoto` version 3: the client writes it into headers and decodes by its slices.
            tables["coding_architecture_bytes"] = tf.constant(self.model.coding_architecture())
            tables["latent_channels"] = tf.constant(self.model.num_latent_filters)
        count = tf.size(rows)
        return {
            name: tf.repeat(tf.convert_to_tensor(table)[tf.newaxis], count, axis=0)
            for name, table in tables.items()
        }

    def warmup_inputs(self) -> dict:
        """Valid inputs of two examples for every signature, for TF Serving's warmup file.

        The decoding steps get what `analyze` makes of the warmup images.
        """
        inputs = self.warmup_images()
        symbols = self.analyze(**inputs)
        lmbda = inputs["lmbda"]
        side = {"side_symbols": symbols["side_symbols"], "lmbda": lmbda}
        latent = {"latent_symbols": symbols["latent_symbols"], "lmbda": lmbda}
        scale_indexes, synthesize = side, latent
        if self.model.predicts_means:
            synthesize = {**side, **latent}
            if self.model.num_slices > 1:
                scale_indexes = synthesize
        return {
            "serving_default": inputs,
            "reconstruct": inputs,
            "analyze": inputs,
            "scale_indexes": scale_indexes,
            "synthesize": synthesize,
            "coding_tables": {"rows": tf.zeros([2], tf.int32)},
        }
