"""More latent channels for a trained codec, keeping what it learned.

    python -m zoo.compression.widen_latents --snapshot=releases/work/compression \
        --num_latent_filters=192 --output=runs/widened_compression

A codec's latent channels (the paper's M) bound the detail its transforms can carry
however many bits lambda allows: at high lambda the reconstruction from unquantized
latents is barely better than from rounded ones. This writes a weights snapshot of the
same codec with `num_latent_filters` channels, the learned ones unchanged and the new
ones set up so that the widened codec reconstructs exactly as before:

- the analysis's last convolution gives the new channels a small random kernel (a tenth
  of a fresh initialisation), so they start out carrying a little of the image and
  training has a gradient to follow; their FiLM is the identity;
- the synthesis and the hyper-analysis read the new channels with zero weights, so
  reconstructions and side information are unchanged;
- the hyper-synthesis predicts the smallest scale for them, so their (almost always
  zero) symbols cost almost no bits.

The snapshot's run record is the original's with the new `num_latent_filters`, at the
original's step, so `yoto-train --init_from` with that config continues the run at its
step (the optimizer state restarts, as from any snapshot).
"""

from __future__ import annotations

import re
import sys

import numpy as np

from zoo.compression import widening

# Where the latent channels sit in each variable that depends on their number:
# (key pattern, axis holding the channels, how the new channels start).
_NEW_CHANNEL_START = "fresh/10"
_LATENT_AXES = (
    (r"^model/analysis/3/conv/_kernel_parameter/(real|imag)/", 1, _NEW_CHANNEL_START),
    (r"^model/analysis/3/film/heads/(kernel|bias)/", -1, "film identity"),
    (r"^model/hyper_analysis/0/conv/_kernel_parameter/(real|imag)/", 0, "zero"),
    (r"^model/synthesis/0/conv/_kernel_parameter/(real|imag)/", 0, "zero"),
    (r"^model/hyper_synthesis/convs/2/kernel/", 3, "zero"),
    (r"^model/hyper_synthesis/convs/2/bias/", 0, "zero"),
    (r"^model/hyper_synthesis/2/conv/_kernel_parameter/(real|imag)/", 1, "zero"),
    (r"^model/hyper_synthesis/2/conv/_bias_parameter/", 0, "zero"),
)


def _widened(key: str, old: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """`old` placed in the shape of `fresh` (the widened model's initial value of `key`)."""
    matches = [(axis, start) for pattern, axis, start in _LATENT_AXES if re.match(pattern, key)]
    if not matches:
        raise ValueError(
            f"{key}: shape {old.shape} -> {fresh.shape}, a variable that widening the latents "
            "should not change; is this a HyperpriorCodec snapshot?"
        )
    ((axis, start),) = matches
    if start == "film identity":
        return widening.film_identity(old, fresh)
    return widening.place(old, fresh / 10 if start == _NEW_CHANNEL_START else np.zeros_like(fresh))


def widen(snapshot_dir, num_latent_filters: int, output_dir, command: str | None = None):
    """Writes the snapshot at `snapshot_dir` widened to `num_latent_filters` to `output_dir`.

    Returns `(narrow_model, wide_model)`, both restored. Raises ValueError for a snapshot
    of another task or a width that is not larger.
    """
    from zoo.loading import snapshots

    metadata = snapshots.read_metadata(snapshot_dir)
    config = metadata.get("config", {})
    channels = config.get("num_latent_filters") or config.get("num_filters")
    if metadata.get("task") == "compression" and num_latent_filters <= channels:
        raise ValueError(
            f"--num_latent_filters={num_latent_filters} is not more than the snapshot's "
            f"{channels} latent channels; give a larger number."
        )
    return widening.widen_snapshot(
        snapshot_dir,
        output_dir,
        {"num_latent_filters": num_latent_filters},
        _widened,
        "latent channels",
        command=command,
    )


def run(argv=None) -> int:
    """The command line: widen a snapshot, print what was written and how to continue."""
    return widening.command_line(
        "zoo.compression.widen_latents",
        __doc__.split("\n\n")[0],
        "num_latent_filters",
        "latent channels",
        widen,
        argv,
    )


if __name__ == "__main__":
    sys.exit(run())
