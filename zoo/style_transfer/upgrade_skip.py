"""A trained style network's snapshot, given the photograph's skip at zero strength.

    python -m zoo.style_transfer.upgrade_skip --snapshot=releases/work/style_transfer \
        --output=runs/skip_style_transfer

A network whose first block normalises each image cannot see the photograph's mean colour,
so it paints a learned average colour over every photograph (experiments/README.md, "What
the style objective asks for"). `input_skip` with `conditioned_skip` adds the photograph's
logits to the output's before the sigmoid, scaled per image by a gain that the loss weights
choose. Training such a network from scratch throws away what a long run learned; this
writes a snapshot of the same network with the skip added, every learned variable kept and
the gain's linear head started at 0 everywhere (kernel 0, bias -1, so gain = 1 + head = 0):
the upgraded network stylises exactly as the original, and fine-tuning turns the
photograph up where the weights ask for it (the gain's gradient is the photograph's logits
times the output's gradient, which is not zero, so the start is no saddle).

The snapshot's run record is the original's with the new config fields at the original's
step; `yoto-train --init_from` with it starts a fine-tuning run at step 0.
"""

from __future__ import annotations

import dataclasses
import sys

from absl import flags

# Where the gain head's variables sit in a checkpoint's object graph.
_GAIN_PREFIX = "model/skip_gain/"


def upgrade(snapshot_dir, output_dir, command: str | None = None):
    """Writes `snapshot_dir`'s style network with a conditioned skip at zero gain.

    Returns `(original_model, upgraded_model)`, both restored. Raises ValueError for a
    snapshot of another task, an unconditioned network (the gain reads the weights), or one
    that already has the skip.
    """
    import numpy as np

    from zoo import loading
    from zoo.loading import snapshots
    from zoo.style_transfer import model as style_transfer

    metadata = snapshots.read_metadata(snapshot_dir)
    if metadata.get("task") != "style_transfer":
        raise ValueError(
            f"{snapshot_dir} holds a {metadata.get('task')} model; only a style_transfer "
            "snapshot can be given the photograph's skip."
        )
    original, config, _ = loading.restore_snapshot(snapshot_dir)
    if config.input_skip:
        raise ValueError(f"{snapshot_dir} already has input_skip=True; nothing to upgrade.")
    if not config.conditioned:
        raise ValueError(
            f"{snapshot_dir} is an unconditioned network; the skip's gain reads the loss "
            "weights, so it needs conditioned=True."
        )
    changes = {"input_skip": True, "conditioned_skip": True}
    upgraded_config = dataclasses.replace(config, **changes)
    upgraded = style_transfer.build_model(upgraded_config, seed=int(metadata.get("seed", 0)))
    old_values = snapshots.checkpoint_values(original)
    fresh_values = snapshots.checkpoint_values(upgraded)
    values = {}
    for key, fresh in fresh_values.items():
        fresh = np.asarray(fresh)
        old = old_values.get(key)
        if fresh.dtype.kind in "OS":
            values[key] = fresh  # The object graph: the upgraded model's.
        elif old is None:
            if not key.startswith(_GAIN_PREFIX):
                raise ValueError(f"{key}: a new variable the skip upgrade does not know")
            # kernel 0 and bias -1: the gain 1 + head is 0 for every weight vector.
            values[key] = np.full_like(fresh, -1.0 if "bias" in key else 0.0)
        elif np.asarray(old).shape != fresh.shape:
            raise ValueError(f"{key}: shape {np.asarray(old).shape} -> {fresh.shape}")
        else:
            values[key] = np.asarray(old)
    dropped = sorted(set(old_values) - set(fresh_values))
    if dropped:
        raise ValueError(f"{snapshot_dir}: the upgraded network has no place for {dropped[:3]}")
    dtypes = {key: str(np.asarray(value).dtype) for key, value in fresh_values.items()}
    snapshots.load_values(
        upgraded, values, dtypes, f"the upgraded {snapshot_dir}", "style_transfer"
    )
    snapshots.write_derived(upgraded, output_dir, metadata, changes, command)
    return original, upgraded


def _define(flag_values):
    flags.DEFINE_string(
        "snapshot",
        None,
        "A style_transfer weights snapshot without the skip.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "output",
        None,
        "Where the upgraded snapshot goes.",
        flag_values=flag_values,
        required=True,
    )


def run(argv=None) -> int:
    """Upgrades `--snapshot`, says what was written and how to fine-tune it; the exit status."""
    description = __doc__.split("\n\n")[0]
    from zoo.loading import snapshot_tools

    return snapshot_tools.run(
        "zoo.style_transfer.upgrade_skip",
        description,
        _define,
        lambda args, command: upgrade(args.snapshot, args.output, command=command),
        lambda args, metadata: "input_skip and conditioned_skip at zero gain",
        "fine-tune it with",
        argv,
    )


if __name__ == "__main__":
    sys.exit(run())
