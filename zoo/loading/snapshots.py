"""Weights-only snapshots of a model: what a long run commits so that a new machine continues it.

A snapshot is a folder with two files:

    snapshot.json   the run record (task, config, seed, precision), the step, the command,
                    and the sha256 of weights.npz
    weights.npz     every value of the model's TensorFlow checkpoint (no optimizer state),
                    floats stored as float16 where that is within 2**-11 of float32

It is read back by writing those values into a TensorFlow checkpoint of the same
object graph (the graph itself is one of the stored values) and restoring the
model from it, so a snapshot restores exactly what `tf.train.Checkpoint(model=m)`
would. float16 halves what each commit adds to the repository's history; the
rounding (relative 5e-4) is far below one training step's change of a weight.
Snapshots are written atomically: a reader sees the old folder or the new one.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import json
import os
import pathlib
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf

from zoo import atomic

SNAPSHOT_FILE = "snapshot.json"
WEIGHTS_FILE = "weights.npz"
_FLOAT16_LIMIT = 60000.0  # float16 overflows at 65504.


class SnapshotError(ValueError):
    """A snapshot folder is missing, corrupt or of another kind; the message says which."""


def checkpoint_values(model) -> dict[str, np.ndarray]:
    """Every key of `tf.train.Checkpoint(model=model)` and its value."""
    with tempfile.TemporaryDirectory() as scratch:
        prefix = tf.train.Checkpoint(model=model).write(os.path.join(scratch, "model"))
        reader = tf.train.load_checkpoint(prefix)
        return {key: reader.get_tensor(key) for key in reader.get_variable_to_dtype_map()}


def _storage(value: np.ndarray, float16: bool) -> np.ndarray:
    """float16 for a float32 array that fits it (if `float16`), else the array unchanged."""
    if not float16 or value.dtype != np.float32 or not np.all(np.abs(value) < _FLOAT16_LIMIT):
        return value
    return value.astype(np.float16)


def write(
    model,
    directory,
    record: dict,
    step: int,
    command: str | None = None,
    float16: bool = True,
    initialised_from: dict | None = None,
    trained_at: list[dict] | None = None,
) -> pathlib.Path:
    """Writes `model`'s weights and its run `record` at `step` to `directory`, atomically.

    `float16=False` keeps every float32 as is: a release whose PSNR float16 storage
    would move by 0.01 dB or more. `initialised_from`: the snapshot a fine-tuning run
    started from (its step, sha256, command and own origin), kept as provenance.
    `trained_at`: the run's stretches of training and their commits (`provenance.py`).
    """
    directory = pathlib.Path(directory)
    checkpoint = checkpoint_values(model)
    dtypes = {key: str(np.asarray(value).dtype) for key, value in checkpoint.items()}
    # Parts the model rebuilds from its config (style transfer's frozen VGG) are left out.
    rebuilt = tuple(f"model/{name}/" for name in getattr(model, "snapshot_rebuilt", ()))
    values = {
        key: _storage(np.asarray(value), float16)
        for key, value in checkpoint.items()
        if not key.startswith(rebuilt)
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **values)
    weights = buffer.getvalue()
    metadata = {
        **record,
        "step": int(step),
        "command": command,
        "dtypes": dtypes,
        "rebuilt": list(rebuilt),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    if initialised_from is not None:
        metadata["initialised_from"] = initialised_from
    if trained_at:
        metadata["trained_at"] = trained_at
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = atomic.staging_directory(directory.parent, f".{directory.name}-")
    try:
        atomic.write_bytes(staging / WEIGHTS_FILE, weights)
        atomic.write_text(staging / SNAPSHOT_FILE, json.dumps(metadata, indent=2, sort_keys=True))
        replace_directory(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def write_derived(model, directory, metadata: dict, config_changes: dict, command=None):
    """Writes `model`, made from the snapshot of `metadata` with `config_changes`, atomically.

    For tools that change a trained model's architecture (widening, a new entropy model, the
    style network's skip) and keep its weights: the record is the original's with the
    changed config fields, at the original's step, with the original's origin kept as
    provenance; `yoto-train --init_from` of it then fine-tunes from step 0.
    """
    record = {
        key: value
        for key, value in metadata.items()
        if key not in ("step", "command", "dtypes", "rebuilt", "weights_sha256")
    }
    record["config"] = {**record["config"], **config_changes}
    origin = record.pop("initialised_from", None)
    return write(
        model,
        pathlib.Path(directory),
        record,
        int(metadata["step"]),
        command=command,
        initialised_from=origin,
    )


def replace_directory(new: pathlib.Path, target: pathlib.Path) -> None:
    """Puts `new` at `target`, and the old `target` (if any) is removed.

    Where the kernel can exchange two paths in one step (Linux's renameat2 with
    RENAME_EXCHANGE), a reader sees the old folder or the new one at every moment, and a
    crash leaves one of them at `target`. Elsewhere the old folder is moved aside first,
    which leaves `target` missing for the moment between two renames.
    """
    if target.exists() and exchange_paths(new, target):
        atomic.sync_directory(target.parent)
        shutil.rmtree(new, ignore_errors=True)  # `new` now names the old folder.
        return
    old = None
    if target.exists():
        old = pathlib.Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-old-"))
        os.rmdir(old)
        os.replace(target, old)
    os.replace(new, target)
    atomic.sync_directory(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def exchange_paths(first: pathlib.Path, second: pathlib.Path) -> bool:
    """Swaps two existing paths atomically; False where the system cannot (nothing moved)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # glibc before 2.28.
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # Kernel or file system.
        return False
    raise OSError(error, os.strerror(error), str(second))


def is_snapshot(directory) -> bool:
    """True for a folder holding a weights snapshot (its `snapshot.json`)."""
    return (pathlib.Path(directory) / SNAPSHOT_FILE).is_file()


def read_metadata(directory) -> dict:
    """The snapshot's `snapshot.json`, after checking its weights against their sha256."""
    directory = pathlib.Path(directory)
    metadata_path, weights_path = directory / SNAPSHOT_FILE, directory / WEIGHTS_FILE
    if not metadata_path.is_file() or not weights_path.is_file():
        raise SnapshotError(
            f"{directory} is not a weights snapshot: it needs {SNAPSHOT_FILE} and {WEIGHTS_FILE}."
        )
    try:
        metadata = json.loads(metadata_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SnapshotError(f"{metadata_path} is not valid JSON: {error}") from error
    digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    if digest != metadata.get("weights_sha256"):
        raise SnapshotError(
            f"{weights_path} does not match the sha256 in {metadata_path} (file {digest[:12]}, "
            f"expected {str(metadata.get('weights_sha256'))[:12]}): the weights are corrupt, "
            "truncated or were replaced; restore them from the repository."
        )
    return metadata


def restore(model, directory) -> dict:
    """Loads a snapshot's weights into `model` (built, same architecture); returns its metadata.

    Raises SnapshotError when the snapshot is corrupt or its variables do not match the
    model's (another task or architecture).
    """
    metadata = read_metadata(directory)
    with np.load(pathlib.Path(directory) / WEIGHTS_FILE) as stored:
        values = {key: stored[key] for key in stored.files}
    dtypes = metadata["dtypes"]
    missing = set(dtypes) - set(values)
    if missing:
        # Left out as rebuilt from the config: this model, just built, holds them.
        built = checkpoint_values(model)
        unknown = sorted(missing - set(built))
        if unknown:
            raise SnapshotError(
                f"{directory} leaves out values this model does not rebuild: {unknown[:3]}"
            )
        values.update({key: built[key] for key in missing})
    load_values(model, values, dtypes, f"{directory}", metadata.get("task"))
    return metadata


def load_values(model, values: dict, dtypes: dict, source: str, task=None) -> None:
    """Writes checkpoint `values` (by key, cast to `dtypes`) into `model`'s variables.

    Every variable of the model must get a value; `source` and `task` name the values in
    the SnapshotError otherwise.
    """
    with tempfile.TemporaryDirectory() as scratch:
        prefix = os.path.join(scratch, "snapshot")
        keys = sorted(values)
        tensors = [tf.constant(np.asarray(values[key]).astype(dtypes[key])) for key in keys]
        tf.raw_ops.SaveV2(
            prefix=prefix, tensor_names=keys, shape_and_slices=[""] * len(keys), tensors=tensors
        )
        try:
            status = tf.train.Checkpoint(model=model).read(prefix)
            status.assert_existing_objects_matched()
        except AssertionError as error:
            raise SnapshotError(
                f"{source} holds weights of another model (task {task!r}): "
                f"{str(error).splitlines()[0]}"
            ) from error
        except ValueError as error:
            raise SnapshotError(
                f"{source} does not fit this model (task {task!r}): {str(error).splitlines()[0]}"
            ) from error
