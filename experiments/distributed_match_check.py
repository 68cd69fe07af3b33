"""How closely two worker processes match one process on two logical CPUs, and one replica.

    .venv/bin/python experiments/distributed_match_check.py

For beta_vae and compression (runlocal configs, the settings of
tests/zoo/training/test_distribute.py), trains the same run three ways: MirroredStrategy
over two logical CPUs, two
MultiWorkerMirroredStrategy processes on loopback ports, and the default strategy (one
replica, so another weight stream). Prints, per loss term and logged step, the relative
difference of the two-worker and of the one-replica run from the mirrored run: the
numbers behind the test's tolerance.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests import test_distribute  # noqa: E402
from tests.tensorboard_scalars import read_scalars  # noqa: E402
from zoo.training import distribute, train_lib  # noqa: E402


def main():
    """Trains each task three ways and prints the relative differences."""
    distribute.split_host_cpu(2)
    options = dict(
        steps=test_distribute.STEPS,
        runlocal=True,
        log_every=test_distribute.LOG_EVERY,
        checkpoint_every=test_distribute.LOG_EVERY,
        verbose=0,
    )
    for task in ("beta_vae", "compression"):
        root = pathlib.Path(tempfile.mkdtemp())
        mirrored = distribute.make_strategy("mirrored")
        train_lib.train(task, root / "mirrored", strategy=mirrored, **options)
        train_lib.train(task, root / "one_replica", **options)
        test_distribute.run_two_workers(task, root / "workers")
        runs = {
            name: read_scalars(root / name / "train")
            for name in ("mirrored", "workers", "one_replica")
        }
        for tag, values in sorted(runs["mirrored"].items()):
            for step, value in sorted(values.items()):
                workers = abs(runs["workers"][tag][step] / value - 1)
                one = abs(runs["one_replica"][tag][step] / value - 1)
                print(
                    f"{task:12s} {tag:18s} step {step}: "
                    f"two workers {workers:.2e}, one replica {one:.2e}"
                )


if __name__ == "__main__":
    main()
