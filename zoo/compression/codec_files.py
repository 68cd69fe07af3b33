"""Image files to `.yoto` files and back, with any coder: what `yoto-codec` and `yoto-serving` run.

A coder is anything with `encode(image, lmbda) -> bytes` and `decode(bytes) -> image`:
the in-process `codec.Codec` (`yoto-codec`), or the client of a served stock-op codec
(`serving.codec_client.StockCodecClient`, `yoto-serving`). The coder comes from a
function, called only once the input has been read, so that a missing or corrupt input
fails before a model loads. Outputs are written atomically.
"""

from __future__ import annotations

import math
import pathlib

from zoo import atomic
from zoo.compression import codec_format
from zoo.data import photos


def load_codec(model_dir, refine_steps: int = 0):
    """The `codec.Codec` of a compression training dir, snapshot or exported SavedModel.

    `refine_steps` > 0 (latent refinement at encode time) needs the model itself, not a
    SavedModel. Raises ValueError for another task's model or a refining SavedModel.
    """
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


def compress_file(
    make_coder, source, destination, lmbda: float | None = None, target_bpp: float | None = None
) -> str:
    """Codes the image file `source` into the `.yoto` file `destination`; returns a report line.

    `make_coder()` gives the coder. The rate is `lmbda`, or with `target_bpp` the lambda
    whose file has about that many bits per pixel (the coder's `lmbda_for_target_bpp`).
    """
    if target_bpp is not None and not (target_bpp > 0 and math.isfinite(target_bpp)):
        raise ValueError(f"--target-bpp must be a positive number, got {target_bpp}.")
    image = photos.read_rgb8(source)
    coder = make_coder()
    if target_bpp is not None:
        lmbda = coder.lmbda_for_target_bpp(image, target_bpp)
    data = coder.encode(image, lmbda)
    atomic.write_bytes(destination, data)
    bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
    return f"{destination}: {len(data)} bytes, {bpp:.4f} bpp at lambda {lmbda:.5g}"


def decompress_file(make_coder, source, destination) -> str:
    """Decodes the `.yoto` file `source` into the PNG file `destination`; returns a report line."""
    path = pathlib.Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    data = path.read_bytes()
    codec_format.unpack(data)  # A corrupt or foreign file fails before the model loads.
    image = make_coder().decode(data)
    atomic.write_png(destination, image)
    return f"{destination}: {image.shape[1]}x{image.shape[0]} PNG"
