"""`yoto-stylize`: stylize image files with chosen content and style weights.

    yoto-stylize --model runs/style --weights 1,1,0,0,0 photo.png brick.png
    yoto-stylize --model runs/serving/style_transfer/1 --weights 0.3,0.5,0.5,0,0 in.jpg out.png

--weights are content, style_1 .. style_4 (the model's styles, in its config's
order; the output line names them); the style weights' sum is the strength.
--model is a training dir or an exported SavedModel. The output is written
atomically; errors exit with status 2.
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "model",
        None,
        "Training dir or SavedModel version dir.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "weights",
        None,
        "content,style_1,style_2,style_3,style_4",
        flag_values=flag_values,
        required=True,
    )


COMMAND = flags_util.Command("Stylize one image file.", _define, ("input", "output"))


def run(argv=None) -> int:
    """Stylizes one file; returns the exit status (0, or 2 with a message on stderr)."""
    flag_values, files = flags_util.parse_command_line(
        "yoto-stylize", __doc__.split("\n\n")[0], COMMAND, argv
    )

    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()

    from zoo import atomic
    from zoo.data import photos
    from zoo.style_transfer.stylizer import STYLE_TERMS, Stylizer, parse_weights

    try:
        weights = parse_weights(flag_values.weights)
        image = photos.read_rgb8(files["input"])
        stylizer = Stylizer.load(flag_values.model)
        stylized = stylizer.stylize(image, weights)
        atomic.write_png(files["output"], stylized)
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-stylize: error: {error}", file=sys.stderr)
        return 2
    # Name each style weight by its image where the model records it: "brick 1" not "1".
    names = ["content"] + [
        name or term for (name, _), term in zip(stylizer.styles, STYLE_TERMS, strict=True)
    ]
    named = ", ".join(f"{name} {weight:g}" for name, weight in zip(names, weights, strict=True))
    print(f"{files['output']}: {image.shape[1]}x{image.shape[0]} at {named}")
    return 0


def main():
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
