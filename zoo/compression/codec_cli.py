"""`yoto-codec`: compress images to .yoto files and back with a trained compression model.

    yoto-codec compress --model runs/codec --lmbda 0.01 photo.png photo.yoto
    yoto-codec compress --model runs/codec --target-bpp 0.5 photo.png photo.yoto
    yoto-codec compress --model runs/codec --lmbda 0.01 --refine-steps 100 photo.png photo.yoto
    yoto-codec decompress --model runs/codec photo.yoto back.png

--model is a training directory written by `yoto-train --task=compression`, or a
SavedModel version directory written by `yoto-export` (both give the same bytes).
--refine-steps optimises each image's latents at encode time (a training directory
only: it takes gradients through the model); any decoder reads the result. With
--target-bpp every bisection step refines again, so the search costs ~20 refinements.
Outputs are written to a temporary file and renamed, so an interrupted or
failed run never leaves a half-written file. Errors exit with status 2.
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _define_model(flag_values):
    flags.DEFINE_string(
        "model", None, "compression training directory", flag_values=flag_values, required=True
    )


def _define_compress(flag_values):
    _define_model(flag_values)
    flags.DEFINE_float(
        "lmbda", None, "rate-distortion trade-off in the trained range", flag_values=flag_values
    )
    flags.DEFINE_float(
        "target-bpp", None, "find lambda for this bits per pixel", flag_values=flag_values
    )
    flags.mark_flags_as_mutual_exclusive(
        ["lmbda", "target-bpp"], required=True, flag_values=flag_values
    )
    flags.DEFINE_integer(
        "refine-steps",
        0,
        "optimise the image's latents this many steps before coding (slower encoding, "
        "a better rate-distortion trade-off; 0: off)",
        flag_values=flag_values,
    )


COMMANDS = {
    "compress": flags_util.Command(
        "image file -> .yoto file", _define_compress, ("input", "output")
    ),
    "decompress": flags_util.Command(".yoto file -> PNG file", _define_model, ("input", "output")),
}


def _compress(flag_values, files) -> str:
    from zoo.compression import codec_files, latent_refinement

    refine_steps = latent_refinement.check_steps(flag_values["refine-steps"].value)
    return codec_files.compress_file(
        lambda: codec_files.load_codec(flag_values.model, refine_steps),
        files["input"],
        files["output"],
        lmbda=flag_values.lmbda,
        target_bpp=flag_values["target-bpp"].value,
    )


def _decompress(flag_values, files) -> str:
    from zoo.compression import codec_files

    return codec_files.decompress_file(
        lambda: codec_files.load_codec(flag_values.model), files["input"], files["output"]
    )


def run(argv=None) -> int:
    """Console-script entry point; returns the exit status (a bad command line exits 2)."""
    command, flag_values, files = flags_util.parse_subcommand(
        "yoto-codec", __doc__.split("\n")[0], COMMANDS, argv
    )
    try:
        print({"compress": _compress, "decompress": _decompress}[command](flag_values, files))
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-codec: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run())
