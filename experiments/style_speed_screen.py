"""How fast would a transform network of another shape stylize? A screen before training one.

    python experiments/style_speed_screen.py [--networks=lean,johnson,...] [--size=256]
        [--rounds=15] [--threads=2] [--bfloat16]

Builds each named network (untrained, random weights) out of the blocks the style
network uses (conv, instance norm as the one-image fused kernel, ReLU; nearest
upsampling; residual blocks), without FiLM, whose per-channel scale and shift the
instance norm already folds in at no cost. Times one image per call in interleaved
rounds (so machine noise hits every network alike) and prints the median milliseconds
and the parameter count. Only a screen: `bench/bench_stylize.py` measures the exported
signature against the peer, and only a training run says what a shape is worth.
Results: experiments/README.md, "A network of the peer's cost".
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

keras = tf.keras


def residual(kind: str, channels: int, blocks: int = 5) -> list[tuple]:
    """`blocks` residual blocks of two 3x3 convs ("conv" or "separable") at `channels`."""
    return [("save",), (kind, 3, channels), (kind, 3, channels, 1, "linear"), ("add",)] * blocks


def head(first_channels: int, first_stride: int = 1) -> list[tuple]:
    """The first block: a 9x9 conv from RGB."""
    return [("conv", 9, first_channels, first_stride)]


def tail(up1: int, up2: int, output_kernel: int) -> list[tuple]:
    """Two nearest-upsampling 3x3 blocks and the conv to RGB."""
    return [("up",), ("conv", 3, up1), ("up",), ("conv", 3, up2), ("output", output_kernel)]


# Each network: (block, kernel, channels, stride, "linear" for no ReLU) steps, in order.
NETWORKS = {
    # widths (32, 64, 128, 64, 32), the default.
    "johnson": [*head(32), ("conv", 3, 64, 2), ("conv", 3, 128, 2), *residual("conv", 128)]
    + tail(64, 32, 9),
    # widths (32, 32, 32, 8, 4), the peer's.
    "lean": [*head(32), ("conv", 3, 32, 2), ("conv", 3, 32, 2), *residual("conv", 32)]
    + tail(8, 4, 9),
    # widths (32, 32, 32, 32, 16).
    "mid": [*head(32), ("conv", 3, 32, 2), ("conv", 3, 32, 2), *residual("conv", 32)]
    + tail(32, 16, 9),
    # widths (16, 32, 48, 16, 8), a 3x3 output conv: the full-resolution work moved into
    # residual blocks at 48 channels.
    "r48o3": [*head(16), ("conv", 3, 32, 2), ("conv", 3, 48, 2), *residual("conv", 48)]
    + tail(16, 8, 3),
    "r64o3": [*head(16), ("conv", 3, 32, 2), ("conv", 3, 64, 2), *residual("conv", 64)]
    + tail(16, 8, 3),
    # Depthwise-separable residual blocks at 128 channels.
    "sep128": [*head(16), ("conv", 3, 32, 2), ("conv", 3, 128, 2), *residual("separable", 128)]
    + tail(16, 8, 9),
    # A strided first conv: nothing but the output conv at full resolution.
    "h48": [*head(32, 2), ("conv", 3, 48, 2), *residual("conv", 48)] + tail(32, 16, 3),
    "h64": [*head(32, 2), ("conv", 3, 64, 2), *residual("conv", 64)] + tail(32, 16, 3),
    # h48 cheaper at full resolution: the last upsampling block at 8 channels, or four
    # residual blocks, or no full-resolution block (a conv to 4 x 3 channels at half
    # resolution and depth-to-space, Shi et al.'s sub-pixel conv).
    "h48u8": [*head(32, 2), ("conv", 3, 48, 2), *residual("conv", 48)] + tail(32, 8, 3),
    "h48r4": [*head(32, 2), ("conv", 3, 48, 2), *residual("conv", 48, 4)] + tail(32, 16, 3),
    "h48s2d": [*head(32, 2), ("conv", 3, 48, 2), *residual("conv", 48)]
    + [("up",), ("conv", 3, 32), ("subpixel", 3)],
    # Residual blocks at an eighth of the resolution: four times the channels' square for
    # the same multiply-adds, and a third upsampling block.
    "q64": [*head(24, 2), ("conv", 3, 48, 2), ("conv", 3, 64, 2), *residual("conv", 64)]
    + [("up",), ("conv", 3, 48)]
    + tail(24, 16, 3),
    "q96": [*head(24, 2), ("conv", 3, 48, 2), ("conv", 3, 96, 2), *residual("conv", 96)]
    + [("up",), ("conv", 3, 48)]
    + tail(24, 16, 3),
    "q128": [*head(24, 2), ("conv", 3, 48, 2), ("conv", 3, 128, 2), *residual("conv", 128)]
    + [("up",), ("conv", 3, 48)]
    + tail(24, 16, 3),
}


def instance_norm(x: tf.Tensor) -> tf.Tensor:
    """One image's instance norm as the style network runs it: fused batch norm, training mode."""
    channels = x.shape[-1]
    normalised, *_ = tf.raw_ops.FusedBatchNormV3(
        x=x,
        scale=tf.ones([channels]),
        offset=tf.zeros([channels]),
        mean=tf.zeros([0]),
        variance=tf.zeros([0]),
        epsilon=1e-5,
        is_training=True,
    )
    return normalised


class ScreenedNetwork(tf.Module):
    """One network of `NETWORKS`, images on 0..255 in and out."""

    def __init__(self, steps: list[tuple], dtype: tf.DType):
        super().__init__()
        self.steps, self.dtype = steps, dtype
        self.layers = [self._layer(step) for step in steps]

    @staticmethod
    def _layer(step: tuple):
        kind = step[0]
        stride = step[3] if len(step) > 3 else 1
        if kind == "conv":
            return keras.layers.Conv2D(step[2], step[1], stride, padding="same", use_bias=False)
        if kind == "separable":
            return keras.layers.SeparableConv2D(step[2], step[1], padding="same", use_bias=False)
        if kind == "output":
            return keras.layers.Conv2D(3, step[1], padding="same")
        if kind == "subpixel":
            return keras.layers.Conv2D(12, step[1], padding="same")
        return None

    @tf.function
    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        """The network's output for float images `[B, H, W, 3]` on 0..255."""
        x = tf.cast(images / 127.5 - 1.0, self.dtype)
        saved = None
        for step, layer in zip(self.steps, self.layers, strict=True):
            kind = step[0]
            if kind in ("conv", "separable"):
                x = instance_norm(layer(x))
                if step[-1] != "linear":
                    x = tf.nn.relu(x)
            elif kind == "up":
                x = tf.image.resize(x, tf.shape(x)[1:3] * 2, "nearest")
            elif kind == "save":
                saved = x
            elif kind == "add":
                x = x + saved
            elif kind == "output":
                x = 255.0 * tf.sigmoid(tf.cast(layer(x), tf.float32))
            elif kind == "subpixel":
                x = 255.0 * tf.sigmoid(tf.nn.depth_to_space(tf.cast(layer(x), tf.float32), 2))
        return x


def main() -> None:
    """Prints each network's median milliseconds per image and its parameter count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated names")
    parser.add_argument("--size", type=int, default=256, help="square image side")
    parser.add_argument("--rounds", type=int, default=15, help="timed calls per network")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads")
    parser.add_argument("--bfloat16", action="store_true", help="convs and norms in bfloat16")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.random.set_seed(0)
    if args.bfloat16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    dtype = tf.bfloat16 if args.bfloat16 else tf.float32
    names = args.networks.split(",")
    unknown = sorted(set(names) - set(NETWORKS))
    if unknown:
        parser.error(f"unknown networks {unknown}; known: {', '.join(NETWORKS)}")
    networks = {name: ScreenedNetwork(NETWORKS[name], dtype) for name in names}
    images = tf.random.uniform([1, args.size, args.size, 3], 0, 255)
    for network in networks.values():
        network(images)  # Traces, and the first call's one-off costs.
    times = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, network in networks.items():
            start = time.perf_counter()
            network(images).numpy()
            times[name].append(time.perf_counter() - start)
    for name, network in networks.items():
        parameters = sum(int(np.prod(v.shape)) for v in network.trainable_variables)
        milliseconds = 1e3 * statistics.median(times[name])
        print(f"{name:8s} {milliseconds:7.2f} ms  {parameters:9d} parameters")


if __name__ == "__main__":
    main()
