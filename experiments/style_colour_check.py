"""Whether a style network keeps a photograph's colours where the content weight asks it to.

    python experiments/style_colour_check.py --models=label=DIR,... [--size=256]
        [--content_weights=10,1,0.1] [--style=1]

For each held-out photograph (coffee, china; centre crops of `--size`) and content weight,
with one style (`--style`, 1-4) at weight 1 and the others off, prints each network's
mean-colour error (the distance between the output's and the photograph's per-channel
means, in levels of 0..255), its contrast (the output's per-channel standard deviation
over the photograph's, averaged over R, G, B), and its content and style terms under its
own objective. A network that casts colours has a large error at content weight 10,
where the objective wants the photograph back. DIR: a training dir, weights snapshot or
`pretrained:NAME`. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from zoo import loading
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer.style_eval_lib import colour_statistics


def main() -> None:
    """Prints one row per network, photograph and content weight."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True, help="label=DIR,label=DIR,...")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--content_weights", default="10,1,0.1")
    parser.add_argument("--style", type=int, default=1, choices=range(1, 5))
    args = parser.parse_args()

    photos = style_data.evaluation_images(size=args.size).astype(np.float32)
    names = ("coffee", "china")
    contents = [float(value) for value in args.content_weights.split(",")]
    print("model photo content_w | colour error, contrast | content, style term")
    for entry in args.models.split(","):
        label, path = entry.split("=", 1)
        model, config, _ = loading.restore_model(path)
        for name, photo in zip(names, photos, strict=True):
            batch = tf.constant(photo[np.newaxis])
            for content in contents:
                styles = [1.0 if index == args.style - 1 else 0.0 for index in range(4)]
                weights = tf.constant([[content, *styles, config.tv_weight]], tf.float32)
                output = model(batch, weights, training=False)
                terms = model.objective_terms(output, batch)
                style_term = float(terms[style_config.STYLE_TERMS[args.style - 1]][0])
                error, contrast = colour_statistics(output[0].numpy(), photo)
                print(
                    f"{label} {name} {content:g} | {error:.1f}, {contrast:.2f} | "
                    f"{float(terms['content'][0]):.3f}, {style_term:.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
