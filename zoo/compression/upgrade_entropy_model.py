"""A trained scale-hyperprior codec's snapshot, given a mean-scale or context entropy model.

    python -m zoo.compression.upgrade_entropy_model --snapshot=releases/work/compression \
        --entropy_model=channel_context --output=runs/context_compression

Training a codec from scratch throws away what a long run's transforms learned. This
writes a weights snapshot of the same codec with `--entropy_model` (`mean_scale` or
`channel_context`, with `--context_slices` and `--context_filters`): every learned
variable is kept. The new parts (the hyper-analysis's weights on the signed latents,
the hyper-synthesis's mean head and the slice context networks' outputs) start small
and random (`--new_parts=small`, the default: the codec codes nearly as before, and
training has a gradient to follow) or at zero (`--new_parts=zero`: it codes exactly as
before, but a zero mean head and zero weights on y hold each other at zero).

The snapshot's run record is the original's with the new config fields, at the
original's step; since the config differs, `yoto-train --init_from` with it starts a
fine-tuning run at step 0 (the optimizer state restarts, as from any snapshot).
"""

from __future__ import annotations

import dataclasses
import re
import sys

from absl import flags

from zoo.compression import widening

# The hyper-analysis's first kernel, stored as [in channels, out channels, ...]: the
# upgraded codec's reads [|y|, y].
_SIGNED_INPUT = r"^model/hyper_analysis/0/conv/_kernel_parameter/(real|imag)/"

NEW_PARTS = ("zero", "small")


def _small_random_heads(model, seed: int) -> None:
    """The mean head and the context outputs at a tenth of a Glorot-uniform initialisation."""
    import numpy as np

    rng = np.random.default_rng(seed)
    heads = [model.hyper_synthesis.mean_conv] + [c.convs[-1] for c in model.slice_contexts]
    for layer in heads:
        shape = layer.kernel.shape
        fan_in, fan_out = shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]
        limit = np.sqrt(6.0 / (fan_in + fan_out)) / 10
        layer.kernel.assign(rng.uniform(-limit, limit, shape).astype(np.float32))


def upgrade(
    snapshot_dir,
    output_dir,
    entropy_model: str,
    context_slices: int = 4,
    context_filters: int = 96,
    command: str | None = None,
    new_parts: str = "zero",
):
    """Writes `snapshot_dir`'s codec with `entropy_model` to `output_dir`.

    `new_parts`: "zero" starts every new weight that feeds the coding at zero (the codec
    codes exactly as before); "small" at a tenth of a fresh initialisation instead (it codes
    nearly as before). Zero weights on y in the hyper-analysis and a zero mean head are a
    saddle: neither gets a gradient while the other is zero, and a measured fine-tuning
    from "zero" left both where they started (experiments/README.md).

    Returns `(original_model, upgraded_model)`, both restored. Raises ValueError for a
    snapshot of another task, one that already has means, or a float hyper-synthesis.
    """
    if new_parts not in NEW_PARTS:
        raise ValueError(f"new_parts must be one of {NEW_PARTS}, got {new_parts!r}.")
    import numpy as np

    from zoo import loading
    from zoo.compression import model as compression
    from zoo.loading import snapshots

    metadata = snapshots.read_metadata(snapshot_dir)
    if metadata.get("task") != "compression":
        raise ValueError(
            f"{snapshot_dir} holds a {metadata.get('task')} model; only a compression "
            "snapshot has an entropy model to upgrade."
        )
    original, config, _ = loading.restore_snapshot(snapshot_dir)
    if config.entropy_model != "scale":
        raise ValueError(
            f"{snapshot_dir} already codes with entropy_model={config.entropy_model!r}; "
            "upgrade a scale-hyperprior snapshot."
        )
    if not config.integer_entropy_parameters:
        raise ValueError(
            f"{snapshot_dir} has a float hyper-synthesis; means and context need the "
            "integer one (integer_entropy_parameters=True)."
        )
    changes = {
        "entropy_model": entropy_model,
        "context_slices": int(context_slices),
        "context_filters": int(context_filters),
    }
    upgraded_config = dataclasses.replace(config, **changes)
    upgraded = compression.build_model(upgraded_config, seed=int(metadata.get("seed", 0)))
    old_values = snapshots.checkpoint_values(original)
    fresh_values = snapshots.checkpoint_values(upgraded)
    values = {}
    for key, fresh in fresh_values.items():
        fresh = np.asarray(fresh)
        old = old_values.get(key)
        if old is None or fresh.dtype.kind in "OS":
            values[key] = fresh  # A new part, or the object graph: the upgraded model's.
        elif re.match(_SIGNED_INPUT, key):
            # The hyper-analysis's first conv now also reads y: its weights on y start at 0,
            # or at a tenth of a fresh initialisation.
            start = fresh / 10 if new_parts == "small" else np.zeros_like(fresh)
            values[key] = widening.place(np.asarray(old), start)
        elif np.asarray(old).shape != fresh.shape:
            raise ValueError(f"{key}: shape {np.asarray(old).shape} -> {fresh.shape}")
        else:
            values[key] = np.asarray(old)
    dropped = sorted(set(old_values) - set(fresh_values))
    if dropped:
        raise ValueError(f"{snapshot_dir}: the upgraded codec has no place for {dropped[:3]}")
    dtypes = {key: str(np.asarray(value).dtype) for key, value in fresh_values.items()}
    snapshots.load_values(upgraded, values, dtypes, f"the upgraded {snapshot_dir}", "compression")
    if new_parts == "small":
        _small_random_heads(upgraded, seed=int(metadata.get("seed", 0)))
    snapshots.write_derived(upgraded, output_dir, metadata, changes, command)
    return original, upgraded


def _define(flag_values):
    flags.DEFINE_string(
        "snapshot",
        None,
        "A compression weights snapshot (scale hyperprior).",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_enum(
        "entropy_model",
        "channel_context",
        ["mean_scale", "channel_context"],
        "The new coding.",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "context_slices", 4, "Slices of a channel_context model's latents.", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "context_filters", 96, "Width of each slice's context network.", flag_values=flag_values
    )
    flags.DEFINE_string(
        "output", None, "Where the upgraded snapshot goes.", flag_values=flag_values, required=True
    )
    flags.DEFINE_enum(
        "new_parts",
        "small",
        list(NEW_PARTS),
        "How the new weights start: zero (codes exactly as before) or small random (training "
        "has a gradient to follow).",
        flag_values=flag_values,
    )


def run(argv=None) -> int:
    """Upgrades `--snapshot` to `--entropy_model`, says what was written; the exit status."""
    from zoo.loading import snapshot_tools

    def derive(args, command):
        upgrade(
            args.snapshot,
            args.output,
            args.entropy_model,
            args.context_slices,
            args.context_filters,
            command=command,
            new_parts=args.new_parts,
        )

    return snapshot_tools.run(
        "zoo.compression.upgrade_entropy_model",
        __doc__.split("\n\n")[0],
        _define,
        derive,
        lambda args, metadata: f"entropy_model={args.entropy_model}",
        "fine-tune it with",
        argv,
    )


if __name__ == "__main__":
    sys.exit(run())
