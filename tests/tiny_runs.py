"""Tiny training runs that several test files read, trained once per process.

`yoto-train --runlocal` runs of a few steps cost seconds to tens of seconds each on a
loaded 2-core machine, and the codec CLI, codec evaluation and release-check tests each
trained the same ones. A run here is shared: a test may read it, restore it and write
beside it (in its own temporary folder), never into it.
"""

import functools
import pathlib
import tempfile

from zoo.training import train_lib


@functools.cache
def run_dir(task: str, steps: int, fixed_beta: float | None = None) -> pathlib.Path:
    """The training dir of a runlocal `task` run of `steps` steps (beta_vae: at `fixed_beta`)."""
    overrides = {} if fixed_beta is None else {"fixed_beta": fixed_beta}
    fixed = "" if fixed_beta is None else f"_fixed_{fixed_beta:g}"
    model_dir = pathlib.Path(tempfile.mkdtemp()) / f"{task}_{steps}{fixed}"
    train_lib.train(
        task, model_dir, steps=steps, runlocal=True, verbose=0, config_overrides=overrides
    )
    return model_dir


@functools.cache
def snapshot_dir(task: str, steps: int) -> pathlib.Path:
    """A weights snapshot of `run_dir(task, steps)`."""
    snapshot = pathlib.Path(tempfile.mkdtemp()) / f"{task}_{steps}_snapshot"
    train_lib.write_snapshot(run_dir(task, steps), snapshot)
    return snapshot
