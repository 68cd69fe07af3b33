"""Examples per second: default vs MirroredStrategy, and float32 vs mixed precision, in one run.

    .venv/bin/python bench/bench_distribute.py [--task=beta_vae] [--rounds=7 --steps_per_round=10]

Four training setups of the same task and global batch, built in one process and timed
in interleaved rounds (so machine noise hits all alike): the default strategy in
float32, MirroredStrategy over two logical CPU devices (`--logical_cpus`), and the
default strategy under mixed_float16 and mixed_bfloat16. Each step runs Keras's own
train function on a fixed batch, so the input pipeline is not measured. Prints the
median examples per second of each and the ratios to the first.

On this CPU-only machine the numbers are a sanity check, not a speed claim: two logical
devices share the same cores, and CPUs have no fast float16 units (bfloat16 may use
AVX512-BF16 where the CPU has it). The speedups these switches exist for are on GPUs.
"""

from __future__ import annotations

import statistics
import time

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("task", "beta_vae", "Zoo task to time (its default config).")
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the task config's).")
flags.DEFINE_integer("rounds", 7, "Timed rounds per setup (the median is reported).")
flags.DEFINE_integer("steps_per_round", 10, "Train steps per timed round.")
flags.DEFINE_integer("logical_cpus", 2, "Logical CPU devices for the mirrored setup.")
FLAGS = flags.FLAGS

SETUPS = {
    "default, float32": ("default", "float32"),
    "mirrored, float32": ("mirrored", "float32"),
    "default, mixed_float16": ("default", "mixed_float16"),
    "default, mixed_bfloat16": ("default", "mixed_bfloat16"),
}


def build_step(task, config, strategy, precision, batch):
    """A function running one train step of a fresh model on `batch`, and its model."""
    import tensorflow as tf

    from zoo.training import distribute

    tf.keras.utils.set_random_seed(0)
    with distribute.precision_policy(precision), strategy.scope():
        model = task.build_model(config, seed=0)
        model.compile(optimizer=task.optimizer(config))
        train_function = model.make_train_function()
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    return lambda: train_function(iterator)


def main(argv):
    del argv
    import tensorflow as tf

    import zoo
    from zoo.training import distribute, train_lib

    distribute.split_host_cpu(FLAGS.logical_cpus)
    task = zoo.get_task(FLAGS.task)
    overrides = {} if FLAGS.batch_size is None else {"batch_size": FLAGS.batch_size}
    config = train_lib.make_config(FLAGS.task, overrides)
    batch = next(iter(task.train_dataset(config, seed=0)))
    steps = {}
    for name, (strategy_name, precision) in SETUPS.items():
        strategy = distribute.make_strategy(strategy_name)
        steps[name] = build_step(task, config, strategy, precision, batch)
        for _ in range(3):  # Trace and warm up.
            tf.nest.map_structure(lambda t: t.numpy(), steps[name]())
    times = {name: [] for name in steps}
    for _ in range(FLAGS.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(FLAGS.steps_per_round):
                logs = step()
            tf.nest.map_structure(lambda t: t.numpy(), logs)
            times[name].append((time.perf_counter() - start) / FLAGS.steps_per_round)
    rates = {name: config.batch_size / statistics.median(t) for name, t in times.items()}
    baseline = rates["default, float32"]
    print(f"{FLAGS.task}, global batch {config.batch_size}, {FLAGS.rounds} rounds:")
    for name, rate in rates.items():
        print(
            f"  {name:28s} {rate:9.1f} examples/s   ratio to default float32 {rate / baseline:.3f}"
        )


if __name__ == "__main__":
    app.run(main)
