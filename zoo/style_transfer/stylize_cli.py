"""`yoto-stylize`: stylize image files with chosen content and style weights.

    yoto-stylize --model runs/style --weights 1,1,0,0,0 photo.png brick.png
    yoto-stylize --model runs/serving/style_transfer/1 --weights 0.3,0.5,0.5,0,0 in.jpg out.png

--weights are content, style_1 .. style_4 (the model's styles, in its config's
order; the output line names them); the style weights' sum is the strength.
--model is a training dir or an exported SavedModel. The output is written
atomically; errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys


def run(argv=None) -> int:
    """Stylizes one file; returns the exit status (0, or 2 with a message on stderr)."""
    parser = argparse.ArgumentParser(prog="yoto-stylize", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="Training dir or SavedModel version dir.")
    parser.add_argument("--weights", required=True, help="content,style_1,style_2,style_3,style_4")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args(argv)

    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()

    from zoo import atomic
    from zoo.data import photos
    from zoo.style_transfer.stylizer import STYLE_TERMS, Stylizer, parse_weights

    try:
        weights = parse_weights(args.weights)
        image = photos.read_rgb8(args.input)
        stylizer = Stylizer.load(args.model)
        stylized = stylizer.stylize(image, weights)
        atomic.write_png(args.output, stylized)
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-stylize: error: {error}", file=sys.stderr)
        return 2
    # Name each style weight by its image where the model records it: "brick 1" not "1".
    names = ["content"] + [
        name or term for (name, _), term in zip(stylizer.styles, STYLE_TERMS, strict=True)
    ]
    named = ", ".join(f"{name} {weight:g}" for name, weight in zip(names, weights, strict=True))
    print(f"{args.output}: {image.shape[1]}x{image.shape[0]} at {named}")
    return 0


def main():
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
