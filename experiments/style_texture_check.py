"""What the loss network can express: Gatys texture synthesis of each style, no transform net.

Optimises the pixels of a noise image so its Gram matrices match one style image's,
with exactly the style term the style-transfer task trains on (same loss network,
layers and normalisation). If the syntheses of two styles look alike, no transform
network trained on that loss can make those styles look different; if they look
distinct, a network whose outputs look alike is under-trained.

    .venv/bin/python experiments/style_texture_check.py OUT.png [--steps 400] [--size 128]
        [--vgg_weights FILE]

Prints each style's distance (1 = an unstyled photograph's) before and after, and
writes a picture: style images on top, their syntheses below.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from zoo.style_transfer import config as style_config  # noqa: E402
from zoo.style_transfer import data as style_data  # noqa: E402
from zoo.style_transfer import model as style_transfer  # noqa: E402
from zoo.style_transfer import vgg


def synthesize(loss_network, grams, layer_factors, style_index, size, steps, seed):
    """Pixels `[size, size, 3]` on 0..255 whose style distance to one style is minimised."""
    generator = np.random.default_rng(seed)
    pixels = tf.Variable(generator.uniform(96.0, 160.0, [1, size, size, 3]).astype(np.float32))
    optimizer = tf.keras.optimizers.Adam(learning_rate=2.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            features = style_transfer.loss_features(loss_network, pixels)
            loss = style_transfer.style_terms(features, grams, layer_factors)[0, style_index]
        optimizer.apply_gradients([(tape.gradient(loss, pixels), pixels)])
        pixels.assign(tf.clip_by_value(pixels, 0.0, 255.0))
        return loss

    first = last = float(step())
    for _ in range(steps - 1):
        last = float(step())
    return pixels[0].numpy().astype(np.uint8), first, last


def main():
    """Synthesises every style and writes the comparison picture."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", type=pathlib.Path)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--vgg_weights", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    config = style_config.Config(vgg_weights=args.vgg_weights)
    network = vgg.loss_network(
        (style_config.CONTENT_LAYER, *style_config.STYLE_LAYERS), config.vgg_weights
    )
    grams = style_transfer.style_grams(config, network)
    _, layer_factors = style_transfer.term_scales(config, network, grams)
    styles = style_data.load_style_images(config)
    names = [name for name, _ in style_data.style_files(config)]

    figure, axes = plt.subplots(2, len(styles), figsize=(2.4 * len(styles), 5))
    for index, (name, image) in enumerate(zip(names, styles, strict=True)):
        synthesis, first, last = synthesize(
            network, grams, layer_factors, index, args.size, args.steps, args.seed
        )
        print(f"{name}: style distance {first:.3f} (noise) -> {last:.4f} after {args.steps} steps")
        # The style image's crop at the synthesis's size and scale, for comparison.
        axes[0, index].imshow(image[: args.size, : args.size])
        axes[0, index].set_title(name, fontsize=9)
        axes[1, index].imshow(synthesis)
        for axis in axes[:, index]:
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_ylabel("style image", fontsize=9)
    axes[1, 0].set_ylabel("synthesis", fontsize=9)
    figure.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=100)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
