"""Writes a weights-only snapshot of a training run (`python -m zoo.training.snapshot --help`).

    python -m zoo.training.snapshot --model_dir=runs/codec --output=releases/work/compression

A long run commits its snapshot before a session ends; `yoto-train --init_from=S`
continues it on a new machine (`zoo/loading/snapshots.py`).
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "model_dir",
        None,
        "Training directory whose latest checkpoint to snapshot.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "output",
        None,
        "Snapshot folder to write (replaced atomically).",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "command", None, "The training command, recorded in the snapshot.", flag_values=flag_values
    )
    flags.DEFINE_bool(
        "float16",
        True,
        "Store float32 weights as float16 where they fit (--nofloat16: as is).",
        flag_values=flag_values,
    )


COMMAND = flags_util.Command("Write a weights-only snapshot of a training run.", _define)


def run(argv=None) -> int:
    """Writes the snapshot; prints its task, step and the command that continues its run.

    Returns the exit status: 0, or 2 with a message on stderr for a run it cannot read.
    """
    args, _ = flags_util.parse_command_line(
        "python -m zoo.training.snapshot", __doc__.strip(), COMMAND, argv
    )
    flags_util.import_tensorflow_quietly()
    from zoo import loading
    from zoo.loading import snapshots
    from zoo.training import train_lib

    try:
        metadata = train_lib.write_snapshot(
            args.model_dir, args.output, command=args.command, float16=args.float16
        )
    except (ValueError, FileNotFoundError, snapshots.SnapshotError) as error:
        print(f"zoo.training.snapshot: error: {error}", file=sys.stderr)
        return 2
    print(f"{args.output}: {metadata['task']} at step {metadata['step']}")
    print(f"continue its run with {loading.continue_command(metadata, args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
