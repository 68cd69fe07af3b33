"""Distribution strategies and precision policies for training (`--strategy`, `--precision`).

Every strategy trains with the global batch size of the task's config: Keras splits
each batch across replicas, and `LossConditionalModel.train_step` averages the loss
over the global batch. The weight sampler's `tf.random.Generator` is created inside
the strategy's scope, so each replica draws its own stream, derived from the seed and
the replica's index: a run on two GPUs of one machine and a run on two one-GPU
workers draw the same weights.

Multi-worker training reads the cluster from `TF_CONFIG`, as all of TensorFlow does:

    TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]},
                "task": {"type": "worker", "index": 0}}' yoto-train --strategy=multi_worker ...

Every worker runs the same command with its own index, and `--model_dir` must be on a
filesystem all workers see (GCS, NFS): worker 0, the chief, writes the checkpoints,
TensorBoard and config there; the others write their copies of each checkpoint to a
scratch directory that is removed at once (saving is collective, so all must take part).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pathlib

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def split_host_cpu(num_devices: int) -> None:
    """Splits the host CPU into `num_devices` logical devices, for MirroredStrategy without GPUs.

    Must run before TensorFlow creates its devices (before any op runs).
    """
    if num_devices < 1:
        raise ValueError(f"The number of logical CPU devices must be >= 1, got {num_devices}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    logical = [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
    try:
        tf.config.set_logical_device_configuration(cpu, logical)
    except RuntimeError as error:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != num_devices:
            raise ValueError(
                f"Cannot split the CPU into {num_devices} devices: TensorFlow already "
                f"initialised {existing}. Split it before running any op."
            ) from error


def make_strategy(name: str, tpu: str | None = None) -> tf.distribute.Strategy:
    """The `tf.distribute.Strategy` called `name` (one of `STRATEGIES`).

    "mirrored" replicates over every local GPU, or over every logical CPU device
    when there is no GPU (see `split_host_cpu`). "multi_worker" needs `TF_CONFIG`.
    "tpu" connects to the TPU named by `tpu` (or the one the environment names).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = tuple(d.name for d in gpus or tf.config.list_logical_devices("CPU"))
        return _mirrored(devices)
    if name == "multi_worker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as error:
            raise ValueError(
                f"--strategy=tpu found no TPU ({error}); pass --tpu=NAME_OR_ADDRESS on a TPU VM."
            ) from error
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


@functools.cache
def _mirrored(devices: tuple[str, ...]) -> tf.distribute.MirroredStrategy:
    # One strategy per device set and process: a second MirroredStrategy over the same
    # devices reuses the first one's collective keys, and its all-reduces then fail with
    # "Shape mismatch in the collective instance" (TF 2.14).
    return tf.distribute.MirroredStrategy(list(devices))


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "--strategy=multi_worker needs TF_CONFIG, for example "
            '\'{"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
            '"task": {"type": "worker", "index": 0}}\'.'
        )
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"TF_CONFIG is not a valid cluster spec ({error}): {raw}") from error
    if not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task index {index} is not one of the {len(workers)} workers.")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files (always, but for non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    # Without a "chief" job in the cluster, worker 0 is the chief.
    return task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().jobs


def scratch_dir(model_dir, strategy: tf.distribute.Strategy) -> pathlib.Path:
    """Where a non-chief worker writes its copy of each checkpoint (removed after saving)."""
    task_id = getattr(getattr(strategy, "cluster_resolver", None), "task_id", 0)
    return pathlib.Path(model_dir) / ".workers" / f"worker_{task_id}"


def any_replica(strategy: tf.distribute.Strategy, flag: bool) -> bool:
    """True on every worker when `flag` is true on any: workers must stop at the same step."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        value = strategy.experimental_distribute_values_from_function(
            lambda _: tf.constant(float(flag))
        )
        return bool(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None).numpy() > 0)
    return flag


@contextlib.contextmanager
def precision_policy(name: str):
    """Sets Keras's global dtype policy to `name` (one of `PRECISIONS`) for the block.

    Layers built inside compute in the policy's dtype with float32 variables; the
    conditioning MLP, FiLM's modulation, the entropy models and the loss terms
    keep float32 themselves. Under "mixed_float16", `compile` wraps the optimizer
    in a `LossScaleOptimizer`.
    """
    if name not in PRECISIONS:
        raise ValueError(f"Unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}.")
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)
