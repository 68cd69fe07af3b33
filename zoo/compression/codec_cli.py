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

import argparse
import pathlib
import sys

import numpy as np

from zoo import atomic


def _load_codec(model_dir, refine_steps: int = 0):
    from zoo import loading
    from zoo.compression import codec

    if loading.is_saved_model(model_dir):
        if refine_steps:
            raise ValueError(
                f"--refine-steps needs the model's training directory, not the SavedModel "
                f"{model_dir}: refinement takes gradients through the model."
            )
        return codec.Codec.from_saved_model(model_dir)
    model, _, task_name = loading.restore_model(model_dir)
    if task_name != "compression":
        raise ValueError(f"{model_dir} holds a {task_name} model, not a compression model.")
    return codec.Codec(model, refine_steps=refine_steps)


def _compress(args) -> str:
    from zoo.compression import latent_refinement
    from zoo.data import photos

    refine_steps = latent_refinement.check_steps(args.refine_steps)
    image = photos.read_rgb8(args.input)
    codec = _load_codec(args.model, refine_steps)
    if args.target_bpp is not None:
        if not (args.target_bpp > 0 and np.isfinite(args.target_bpp)):
            raise ValueError(f"--target-bpp must be a positive number, got {args.target_bpp}.")
        lmbda = codec.lmbda_for_target_bpp(image, args.target_bpp)
    else:
        lmbda = args.lmbda
    data = codec.encode(image, lmbda)
    atomic.write_bytes(args.output, data)
    bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
    return f"{args.output}: {len(data)} bytes, {bpp:.4f} bpp at lambda {lmbda:.5g}"


def _decompress(args) -> str:
    from zoo.compression import codec_format

    path = pathlib.Path(args.input)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    data = path.read_bytes()
    codec_format.unpack(data)  # A corrupt or foreign file fails before the model loads.
    codec = _load_codec(args.model)
    image = codec.decode(data)
    atomic.write_png(args.output, image)
    return f"{args.output}: {image.shape[1]}x{image.shape[0]} PNG"


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    main = argparse.ArgumentParser(prog="yoto-codec", description=__doc__.split("\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    compress = commands.add_parser("compress", help="image file -> .yoto file")
    compress.add_argument("--model", required=True, help="compression training directory")
    rate = compress.add_mutually_exclusive_group(required=True)
    rate.add_argument("--lmbda", type=float, help="rate-distortion trade-off in the trained range")
    rate.add_argument("--target-bpp", type=float, help="find lambda for this bits per pixel")
    compress.add_argument(
        "--refine-steps",
        type=int,
        default=0,
        help="optimise the image's latents this many steps before coding (slower encoding, "
        "a better rate-distortion trade-off; 0: off)",
    )
    compress.add_argument("input")
    compress.add_argument("output")
    compress.set_defaults(run=_compress)
    decompress = commands.add_parser("decompress", help=".yoto file -> PNG file")
    decompress.add_argument("--model", required=True, help="compression training directory")
    decompress.add_argument("input")
    decompress.add_argument("output")
    decompress.set_defaults(run=_decompress)
    return main


def run(argv=None) -> int:
    """Console-script entry point; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        print(args.run(args))
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-codec: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run())
