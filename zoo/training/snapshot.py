"""Writes a weights-only snapshot of a training run (`python -m zoo.training.snapshot --help`).

    python -m zoo.training.snapshot --model_dir=runs/codec --output=releases/work/compression

A long run commits its snapshot before a session ends; `yoto-train --init_from=S`
continues it on a new machine (`zoo/loading/snapshots.py`).
"""

from __future__ import annotations

import sys

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Training directory whose latest checkpoint to snapshot.")
flags.DEFINE_string("output", None, "Snapshot folder to write (replaced atomically).")
flags.DEFINE_string("command", None, "The training command, recorded in the snapshot.")
flags.DEFINE_bool(
    "float16", True, "Store float32 weights as float16 where they fit (--nofloat16: as is)."
)
flags.mark_flags_as_required(["model_dir", "output"])


def main(argv):
    """Writes the snapshot; prints its task, step and the command that continues its run."""
    del argv
    from zoo import loading
    from zoo.loading import snapshots
    from zoo.training import train_lib

    try:
        metadata = train_lib.write_snapshot(
            FLAGS.model_dir, FLAGS.output, command=FLAGS.command, float16=FLAGS.float16
        )
    except (ValueError, FileNotFoundError, snapshots.SnapshotError) as error:
        print(f"zoo.training.snapshot: error: {error}", file=sys.stderr)
        return 2
    print(f"{FLAGS.output}: {metadata['task']} at step {metadata['step']}")
    print(f"continue its run with {loading.continue_command(metadata, FLAGS.output)}")
    return 0


if __name__ == "__main__":
    app.run(main)
