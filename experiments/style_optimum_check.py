"""What the style objective asks for: per-image optimisation (Gatys et al.) against a network.

    python experiments/style_optimum_check.py OUT.png --model=DIR [--photo=coffee]
        [--size=256] [--steps=300] [--content_weights=0.1,1,10] [--style_weight=1]

For each of the model's four styles and each content weight, optimises the pixels of one
held-out photograph (starting from the photograph itself) under exactly the model's
training objective at that weight vector: its loss network, Gram targets, term scales and
tv weight (`StyleTransferNet.objective_terms`), the one style on and the other three off.
The result is the best any transform network can do on that photograph at that weight
vector. If it looks like the painting, a network whose outputs do not is under-trained; if
it is itself a colour cast, the objective (its weight ranges or scales) asks for a colour
cast and no amount of training changes that.

Prints, per style and weight vector, the content and style terms and the weighted total of
the network's output and of the optimum, and writes a picture: per style, a row of the
network's outputs and a row of the optima, one column per content weight. DIR: a training
dir, weights snapshot or `pretrained:NAME`. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo import loading  # noqa: E402
from zoo.data import photos  # noqa: E402
from zoo.style_transfer import config as style_config  # noqa: E402
from zoo.style_transfer import data as style_data  # noqa: E402


def centre_crop(name: str, size: int) -> np.ndarray:
    """A `[size, size, 3]` uint8 centre crop of a bundled photograph."""
    image = photos.load_bundled(name)
    if min(image.shape[:2]) < size:
        raise ValueError(
            f"{name} is {image.shape[1]}x{image.shape[0]}, smaller than --size {size}."
        )
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def weight_vector(content: float, style_index: int, style_weight: float, tv: float) -> tf.Tensor:
    """`[1, 6]` weights: content, the one style on, the others off, tv."""
    styles = [0.0] * style_config.NUM_STYLES
    styles[style_index] = style_weight
    return tf.constant([[content, *styles, tv]], tf.float32)


def weighted_total(terms: dict, weights: tf.Tensor) -> float:
    """The objective: the sum of the terms times their weights (tv included)."""
    return float(
        sum(
            weights[0, index] * float(np.mean(terms[name]))
            for index, name in enumerate(style_config.TERM_NAMES)
        )
    )


def optimise(model, photo: tf.Tensor, weights: tf.Tensor, steps: int, learning_rate: float):
    """Pixels on 0..255 that minimise the model's objective at `weights`, from `photo`."""
    pixels = tf.Variable(photo)
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = model.objective_terms(pixels, photo)
            loss = tf.add_n(
                [weights[0, i] * terms[name][0] for i, name in enumerate(style_config.TERM_NAMES)]
            )
        optimizer.apply_gradients([(tape.gradient(loss, pixels), pixels)])
        pixels.assign(tf.clip_by_value(pixels, 0.0, 255.0))
        return loss

    # The objective at each quarter of the steps: whether the optimisation has settled.
    trace = []
    for index in range(steps):
        loss = step()
        if (index + 1) % max(1, steps // 4) == 0:
            trace.append(float(loss))
    return tf.identity(pixels), trace


def main() -> None:
    """Optimises each style at each content weight, prints the terms, writes the picture."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", type=pathlib.Path)
    parser.add_argument("--model", required=True)
    parser.add_argument("--photo", default="coffee")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--learning_rate", type=float, default=4.0)
    parser.add_argument("--content_weights", default="0.1,1,10")
    parser.add_argument("--style_weight", type=float, default=1.0)
    args = parser.parse_args()

    model, config, _ = loading.restore_model(args.model)
    tv = config.tv_weight
    names = [name for name, _ in style_data.style_files(config)]
    contents = [float(value) for value in args.content_weights.split(",")]
    photo = tf.constant(centre_crop(args.photo, args.size)[np.newaxis], tf.float32)

    figure, axes = plt.subplots(
        2 * len(names),
        len(contents),
        figsize=(2.2 * len(contents), 4.4 * len(names)),
        squeeze=False,
    )
    print("style content_w | network: content style total | optimum: content style total")
    for style_index, name in enumerate(names):
        for column, content in enumerate(contents):
            weights = weight_vector(content, style_index, args.style_weight, tv)
            output = model(photo, weights, training=False)
            optimum, trace = optimise(model, photo, weights, args.steps, args.learning_rate)
            rows = []
            for image in (output, optimum):
                terms = model.objective_terms(image, photo)
                style_term = float(np.mean(terms[style_config.STYLE_TERMS[style_index]]))
                rows.append(
                    f"{float(np.mean(terms['content'])):.3f} {style_term:.4f} "
                    f"{weighted_total(terms, weights):.4f}"
                )
            settling = " ".join(f"{value:.4f}" for value in trace)
            print(
                f"{name} {content:g} | {rows[0]} | {rows[1]} | by quarters {settling}", flush=True
            )
            for row, image in enumerate((output, optimum)):
                axis = axes[2 * style_index + row, column]
                axis.imshow(np.asarray(image[0]).round().clip(0, 255).astype(np.uint8))
                axis.set_xticks([])
                axis.set_yticks([])
                if style_index == 0 and row == 0:
                    axis.set_title(f"content {content:g}", fontsize=9)
            axes[2 * style_index, 0].set_ylabel(f"{name}\nnetwork", fontsize=8)
            axes[2 * style_index + 1, 0].set_ylabel("optimum", fontsize=8)
    figure.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
