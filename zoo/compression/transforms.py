"""The codec's four transforms as named layers, each a chain of FiLM-conditioned blocks.

As in tensorflow-compression's `models/bmshj2018.py`: the analysis maps an image to the
latents y, the synthesis maps quantised latents back to an image, the hyper-analysis maps
|y| to the hyper-latents z and the hyper-synthesis maps quantised hyper-latents to the
latents' scale indexes (`integer_network.IntegerHyperSynthesis` is its integer twin). Every
block but the last of each transform (and the first two of the hyper-analysis and
hyper-synthesis) is FiLM-conditioned on the conditioning vector the model computes from
(1, lambda); `conditioned=False` builds the same transforms without FiLM.

Images enter and leave on the 0..255 scale; every transform returns float32 whatever the
dtype policy.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_compression as tfc

import yoto_tf

keras = tf.keras


class _Conditioned(keras.layers.Layer):
    """conv -> FiLM (optional) -> activation: one block of a transform."""

    def __init__(self, conv, film: bool, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.conv = conv
        self.film = yoto_tf.FiLM() if film else None
        self.activation = activation

    def call(self, x, conditioning):
        x = self.conv(x)
        if self.film is not None:
            x = self.film(x, conditioning)
        return self.activation(x) if self.activation is not None else x


def _conv(filters, kernel, down=1, up=1, use_bias=True):
    return tfc.SignalConv2D(
        filters,
        (kernel, kernel),
        corr=up == 1,
        strides_down=down,
        strides_up=up,
        padding="same_zeros",
        use_bias=use_bias,
    )


class _Transform(keras.layers.Layer):
    """Conditioned blocks applied in order: `call(x, conditioning)`.

    The blocks are the layer's checkpoint children "0", "1", ..., the names a plain list
    of blocks gets: a checkpoint of a model that holds its blocks in a list attribute
    named like the transform restores into this layer with every path unchanged.
    """

    def __init__(self, blocks, **kwargs):
        # No autocast: the transform scales its input in float32 before the first block,
        # which casts to the compute dtype itself, as a plain list of blocks did.
        super().__init__(autocast=False, **kwargs)
        self._num_blocks = len(blocks)
        for index, block in enumerate(blocks):
            setattr(self, str(index), block)

    @property
    def blocks(self) -> list[_Conditioned]:
        """The conditioned blocks, first to last."""
        return [getattr(self, str(index)) for index in range(self._num_blocks)]

    def _chain(self, x, conditioning):
        for block in self.blocks:
            x = block(x, conditioning)
        return tf.cast(x, tf.float32)


class AnalysisTransform(_Transform):
    """Images `[B, H, W, 3]` (0..255) to latents `[B, H/16, W/16, num_latent_filters]`."""

    def __init__(self, num_filters: int, num_latent_filters: int, conditioned: bool, **kwargs):
        blocks = [
            _Conditioned(_conv(num_filters, 5, down=2), conditioned, tfc.GDN()) for _ in range(3)
        ]
        blocks.append(
            _Conditioned(_conv(num_latent_filters, 5, down=2, use_bias=False), conditioned)
        )
        super().__init__(blocks, **kwargs)

    def call(self, images, conditioning):
        """float32 latents of float images on the 0..255 scale."""
        return self._chain(images / 255.0, conditioning)


class SynthesisTransform(_Transform):
    """Latents `[B, h, w, C]` to images `[B, 16h, 16w, 3]` on the 0..255 scale (unclipped).

    The last block is never conditioned: it only mixes the channels into RGB.
    """

    def __init__(self, num_filters: int, conditioned: bool, **kwargs):
        blocks = [
            _Conditioned(_conv(num_filters, 5, up=2), conditioned, tfc.GDN(inverse=True))
            for _ in range(3)
        ]
        blocks.append(_Conditioned(_conv(3, 5, up=2), False))
        super().__init__(blocks, **kwargs)

    def call(self, latents, conditioning):
        """float32 images on the 0..255 scale from (quantised) latents."""
        return self._chain(latents, conditioning) * 255.0


class HyperAnalysisTransform(_Transform):
    """Latents `[B, h, w, C]` to hyper-latents `[B, h/4, w/4, num_filters]`, from |y|.

    `signed`: from `[|y|, y]` (2C channels) instead. A scale hyperprior needs only the
    magnitudes; a mean-scale one predicts the latents' means, which the signs carry
    (Minnen, Ballé and Toderici 2018 feed y itself). Keeping |y| beside y lets a trained
    scale codec's hyper-analysis carry on unchanged, its weights on y starting at zero.
    """

    def __init__(self, num_filters: int, conditioned: bool, signed: bool = False, **kwargs):
        self.signed = bool(signed)
        super().__init__(
            [
                _Conditioned(_conv(num_filters, 3), conditioned, tf.nn.relu),
                _Conditioned(_conv(num_filters, 5, down=2), conditioned, tf.nn.relu),
                _Conditioned(_conv(num_filters, 5, down=2, use_bias=False), False),
            ],
            **kwargs,
        )

    def call(self, latents, conditioning):
        """float32 hyper-latents of the latents' magnitudes (and the latents, when signed)."""
        inputs = tf.abs(latents)
        if self.signed:
            inputs = tf.concat([inputs, latents], axis=-1)
        return self._chain(inputs, conditioning)


class HyperSynthesisTransform(_Transform):
    """Hyper-latents `[B, h, w, num_filters]` to raw scale indexes `[B, 4h, 4w, C]` (float).

    The float hyper-synthesis of `.yoto` version 1 files; the model clamps and floors its
    output into the scale table.
    """

    def __init__(self, num_filters: int, num_latent_filters: int, conditioned: bool, **kwargs):
        super().__init__(
            [
                _Conditioned(_conv(num_filters, 5, up=2), conditioned, tf.nn.relu),
                _Conditioned(_conv(num_filters, 5, up=2), conditioned, tf.nn.relu),
                _Conditioned(_conv(num_latent_filters, 3), False),
            ],
            **kwargs,
        )

    def call(self, hyper_latents, conditioning):
        """float32 raw scale indexes (not yet clamped to the table)."""
        return self._chain(hyper_latents, conditioning)
