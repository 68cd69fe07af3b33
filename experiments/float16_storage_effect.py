"""What float16 weight storage does to a codec's PSNR, and which part of the codec it comes from.

    python experiments/float16_storage_effect.py [--model=runs/long/compression] [--max_side=384]

The codec of --model (a training dir: float32 weights) against copies with one part's
float32 weights rounded to float16 as `zoo/loading/snapshots.py` stores them, on centre
crops of the validation split at the 8 evaluation lambdas (`reconstruct`: what a file
decodes to). Prints the signed mean PSNR change per lambda and the largest change, per
part and for all parts at once. Results: experiments/README.md ("float16 storage").
"""

import argparse

import numpy as np

from yoto_tf import metrics
from zoo import loading
from zoo.compression import codec, codec_eval_lib
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data

PARTS = ("analysis", "synthesis", "conditioning", "hyper_analysis", "hyper_synthesis", "hyperprior")


def rounded(variable) -> np.ndarray:
    """The variable's value as a snapshot stores it (float16 where it fits), read back."""
    value = variable.numpy()
    if value.dtype != np.float32 or not np.all(np.abs(value) < 60000):
        return value
    return value.astype(np.float16).astype(np.float32)


def main() -> None:
    """Prints the PSNR change of rounding each part's weights, and all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/long/compression", help="float32 training dir")
    parser.add_argument("--max_side", type=int, default=384, help="centre crop side")
    args = parser.parse_args()
    images = [
        codec_eval_lib.centre_crop(image, args.max_side)
        for subset in compression_data.validation_set().values()
        for image in subset.values()
    ]
    grid = compression_config.EVALUATION_GRID
    full = codec.Codec(loading.restore_model(args.model)[0])
    reference = np.array(
        [[metrics.psnr(i, full.reconstruct(i, lmbda)) for lmbda in grid] for i in images]
    )
    print(f"{len(images)} validation crops of <= {args.max_side} px, lambdas {list(grid)}")
    for group in ("all", *PARTS):
        model = loading.restore_model(args.model)[0]
        for part in PARTS if group == "all" else (group,):
            for variable in getattr(model, part).variables:
                variable.assign(rounded(variable))
        stored = codec.Codec(model)
        psnr = np.array(
            [[metrics.psnr(i, stored.reconstruct(i, lmbda)) for lmbda in grid] for i in images]
        )
        change = psnr - reference
        print(
            f"{group:15s} signed mean change per lambda (dB): "
            + ", ".join(f"{value:+.4f}" for value in change.mean(axis=0))
            + f" | largest |change| {np.abs(change).max():.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
