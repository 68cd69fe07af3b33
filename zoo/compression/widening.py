"""Rewrites a trained codec's weights snapshot at a larger width, keeping what it learned.

The machinery the widening tools share (`widen_latents.py`, `widen_filters.py`): restore
the snapshot, build the codec of the wider config, give every variable whose shape
changed the value the tool chooses (learned entries kept, new ones set up so that the
wider codec computes what the narrow one did), and write a snapshot at the original's
step. `yoto-train --init_from` with the wider config then continues the run at that step
(the optimizer state restarts, as from any snapshot).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from absl import flags

# Each tool's rule: (variable key, learned value, the wider codec's fresh initial value)
# -> the value the wider codec starts from.
WidenFn = Callable[[str, np.ndarray, np.ndarray], np.ndarray]

# How a FiLM head lays out its output: [gamma (C), beta (C)] along the last axis.
FILM_HEADS = r"/film/heads/(kernel|bias)/"


def film_identity(old: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """A FiLM head with more channels: the learned ones kept, the new ones the identity.

    FiLM's scale is `1 + 0.1 * gamma` and its shift `0.1 * beta`, so zero heads are the
    identity.
    """
    channels, wide_channels = old.shape[-1] // 2, fresh.shape[-1] // 2
    wide = np.zeros_like(fresh)
    gamma, beta = np.split(old, 2, axis=-1)
    wide[..., :channels] = gamma
    wide[..., wide_channels : wide_channels + channels] = beta
    return wide


def place(old: np.ndarray, base: np.ndarray) -> np.ndarray:
    """`base` with `old` written over its leading entries along every axis."""
    wide = np.array(base, dtype=base.dtype, copy=True)
    wide[tuple(slice(0, size) for size in old.shape)] = old
    return wide


def widen_snapshot(
    snapshot_dir,
    output_dir,
    config_changes: dict,
    widen_fn: WidenFn,
    what: str,
    command: str | None = None,
):
    """Writes the snapshot at `snapshot_dir` with `config_changes` to `output_dir`.

    `widen_fn` gives each variable whose shape changed its starting value. Returns
    `(narrow_model, wide_model)`, both restored. Raises ValueError for a snapshot of
    another task. `what`: what is widened, for error messages ("latent channels").
    """
    from zoo import loading
    from zoo.compression import model as compression
    from zoo.loading import snapshots

    metadata = snapshots.read_metadata(snapshot_dir)
    if metadata.get("task") != "compression":
        raise ValueError(
            f"{snapshot_dir} holds a {metadata.get('task')} model; only a compression "
            f"snapshot has {what} to widen."
        )
    narrow, config, _ = loading.restore_snapshot(snapshot_dir)
    wide_config = dataclasses.replace(config, **config_changes)
    wide = compression.build_model(wide_config, seed=int(metadata.get("seed", 0)))
    old_values = snapshots.checkpoint_values(narrow)
    fresh_values = snapshots.checkpoint_values(wide)
    if set(old_values) != set(fresh_values):
        raise ValueError(
            f"{snapshot_dir}: the widened model's variables differ by name from the "
            f"snapshot's: {sorted(set(old_values) ^ set(fresh_values))[:3]}"
        )
    values = {}
    for key, fresh in fresh_values.items():
        old, fresh = np.asarray(old_values[key]), np.asarray(fresh)
        if old.dtype == object:
            values[key] = fresh  # The object graph is the new model's.
        elif old.shape == fresh.shape:
            values[key] = old
        else:
            values[key] = widen_fn(key, old, fresh)
    dtypes = {key: str(np.asarray(value).dtype) for key, value in fresh_values.items()}
    snapshots.load_values(wide, values, dtypes, f"the widened {snapshot_dir}", "compression")
    snapshots.write_derived(wide, output_dir, metadata, config_changes, command)
    return narrow, wide


def command_line(module: str, description: str, width_flag: str, what: str, widen, argv) -> int:
    """A widening tool's command line: widen `--snapshot` to `--<width_flag>`, say what next.

    `module`: the tool's `python -m` name; `what`: the width's name in its help and report
    (e.g. "hidden filters"); `widen(snapshot, width, output, command=...)`: the tool.
    Returns the exit status: 2 with a message naming the input for a bad snapshot or width.
    """

    def define(flag_values):
        flags.DEFINE_string(
            "snapshot",
            None,
            "A compression weights snapshot.",
            flag_values=flag_values,
            required=True,
        )
        flags.DEFINE_integer(
            width_flag, None, f"The new {what}.", flag_values=flag_values, required=True
        )
        flags.DEFINE_string(
            "output",
            None,
            "Where the widened snapshot goes.",
            flag_values=flag_values,
            required=True,
        )

    from zoo.loading import snapshot_tools

    return snapshot_tools.run(
        module,
        description,
        define,
        lambda args, command: widen(
            args.snapshot, args[width_flag].value, args.output, command=command
        ),
        lambda args, metadata: f"{args[width_flag].value} {what}, step {metadata['step']}",
        "continue its run with",
        argv,
    )
