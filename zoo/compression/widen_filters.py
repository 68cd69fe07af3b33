"""More filters in a trained codec's analysis and synthesis transforms, keeping what it learned.

    python -m zoo.compression.widen_filters --snapshot=releases/work/compression \
        --num_filters=96 --output=runs/widened_compression

The hidden width of the analysis and synthesis transforms (the paper's N) bounds how
well a codec reconstructs at high lambda, long after its latents stop being the limit
(experiments/README.md). Training a wider codec from scratch throws away what a long
run has learned; this writes a weights snapshot of the same codec with `num_filters`
hidden channels in both transforms, the learned ones unchanged and the new ones set up
so that the widened codec computes exactly what the narrow one did:

- each new hidden channel is produced from every input by a small random kernel (a tenth
  of a fresh initialisation) with zero bias and identity FiLM, so it carries a little of
  the image and training has a gradient to follow;
- every learned channel reads the new ones with zero weights: the convolutions after
  them, and the GDN's cross terms, which also stay zero from the learned channels into
  the new ones (a new channel's GDN is a fresh one's: beta 1, gamma 0.1 on itself);
- the hyper transforms are not widened (`num_hyper_filters` keeps their width), so side
  information, the entropy model and the integer hyper-synthesis stay the same.

The snapshot's run record is the original's with the new `num_filters` (and
`num_hyper_filters` at the old width), at the original's step, so `yoto-train
--init_from` with that config continues the run at its step.
"""

from __future__ import annotations

import re
import sys

import numpy as np

from zoo.compression import widening

# The transforms' hidden blocks, whose outputs are widened, and the blocks that read them.
_HIDDEN = r"^model/(analysis/[012]|synthesis/[012])/"
_READS_HIDDEN = r"^model/(analysis/[123]|synthesis/[123])/"
_KERNEL = r"conv/_kernel_parameter/(real|imag)/"
_GDN = r"activation/_(beta|gamma)_parameter/variable/"
_BIAS = r"conv/_bias_parameter/"


def _widened(key: str, old: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """The widened codec's starting value of `key` (learned `old`, initial `fresh`)."""
    if re.match(_HIDDEN + widening.FILM_HEADS.lstrip("/"), key):
        return widening.film_identity(old, fresh)
    if re.match(_HIDDEN + _GDN, key):
        # A fresh GDN's beta is 1 and its gamma 0.1 * identity: off the diagonal its stored
        # (reparameterised) entries are exactly those of zero.
        return widening.place(old, fresh)
    if re.match(_HIDDEN + _BIAS, key):
        return widening.place(old, np.zeros_like(fresh))
    if re.match(r"^model/(analysis|synthesis)/[0-3]/" + _KERNEL, key):
        # Stored as [in channels, out channels, spectral rows, spectral columns].
        outputs_widened = re.match(_HIDDEN, key) is not None
        inputs_widened = re.match(_READS_HIDDEN, key) is not None
        wide = fresh / 10 if outputs_widened else np.zeros_like(fresh)
        if inputs_widened and outputs_widened:
            wide[old.shape[0] :, : old.shape[1]] = 0  # Learned channels ignore new ones.
        return widening.place(old, wide)
    raise ValueError(
        f"{key}: shape {old.shape} -> {fresh.shape}, a variable that widening the filters "
        "should not change; is this a HyperpriorCodec snapshot?"
    )


def widen(snapshot_dir, num_filters: int, output_dir, command: str | None = None):
    """Writes the snapshot at `snapshot_dir` with `num_filters` hidden filters to `output_dir`.

    Returns `(narrow_model, wide_model)`, both restored. Raises ValueError for a snapshot
    of another task or a width that is not larger.
    """
    from zoo.loading import snapshots

    metadata = snapshots.read_metadata(snapshot_dir)
    config = metadata.get("config", {})
    if metadata.get("task") == "compression" and num_filters <= config["num_filters"]:
        raise ValueError(
            f"--num_filters={num_filters} is not more than the snapshot's "
            f"{config['num_filters']} filters; give a larger number."
        )
    changes = {
        "num_filters": num_filters,
        # What the narrow codec's defaults meant, spelled out now that num_filters changes.
        "num_latent_filters": config.get("num_latent_filters") or config.get("num_filters"),
        "num_hyper_filters": config.get("num_hyper_filters") or config.get("num_filters"),
    }
    return widening.widen_snapshot(
        snapshot_dir, output_dir, changes, _widened, "filters", command=command
    )


def run(argv=None) -> int:
    """The command line: widen a snapshot, print what was written and how to continue."""
    return widening.command_line(
        "zoo.compression.widen_filters",
        __doc__.split("\n\n")[0],
        "num_filters",
        "hidden filters",
        widen,
        argv,
    )


if __name__ == "__main__":
    sys.exit(run())
