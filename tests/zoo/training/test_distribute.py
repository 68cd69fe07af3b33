"""Training under tf.distribute: two logical CPUs in one process, and two worker processes."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.tensorboard_scalars import read_scalars
from zoo.training import distribute, train_lib

REPO = pathlib.Path(__file__).resolve().parents[3]
STEPS, LOG_EVERY = 8, 4
# Same global batch, seed and replica count: the same weights, noise and crops reach the
# same replicas, so the runs can differ only in how the gradient all-reduce orders its
# float32 sums, a rounding of ~1e-7 relative. Measured (experiments/distributed_match_check.py):
# at most 2.1e-7, 0 for most terms; one replica instead of two draws other weights, and its
# losses differ by 3.9e-4 to 0.66 relative. 1e-5 leaves room for rounding, none for a
# different stream.
MATCH_RTOL = 1e-5


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def train_command(task, model_dir, strategy, steps=STEPS):
    return [
        sys.executable,
        "-m",
        "zoo.training.train",
        f"--task={task}",
        f"--model_dir={model_dir}",
        "--runlocal",
        f"--steps={steps}",
        f"--log_every={LOG_EVERY}",
        f"--checkpoint_every={LOG_EVERY}",
        f"--strategy={strategy}",
    ]


def run_two_workers(task, model_dir, steps=STEPS, timeout=300):
    """Runs `zoo.training.train --strategy=multi_worker` as two processes on loopback ports."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), CUDA_VISIBLE_DEVICES="")
        processes.append(
            subprocess.Popen(
                train_command(task, model_dir, "multi_worker", steps),
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=timeout)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    return outputs


class StrategyTest(tf.test.TestCase):
    def test_each_replica_draws_its_own_weights_reproducibly_from_the_seed(self):
        strategy = distribute.make_strategy("mirrored")
        self.assertEqual(strategy.num_replicas_in_sync, 2)
        config = train_lib.make_config("beta_vae", runlocal=True)

        def per_replica_weights(seed):
            with strategy.scope():
                model = zoo.get_task("beta_vae").build_model(config, seed=seed)
            draw = tf.function(
                lambda: strategy.run(lambda: model.weight_sampler.sample(model.generator, 4))
            )
            return [value.numpy() for value in strategy.experimental_local_results(draw())]

        first, second = per_replica_weights(seed=3)
        self.assertEqual(first.shape, (4, 2))
        self.assertNotAllClose(first, second)  # Each replica has its own stream...
        self.assertNotAllClose(first[0], first[1])  # ...and each example its own weights.
        again = per_replica_weights(seed=3)
        self.assertAllEqual(again[0], first)  # Reproducible from the seed.
        self.assertAllEqual(again[1], second)
        self.assertNotAllClose(per_replica_weights(seed=4)[0], first)

    def test_multi_worker_needs_a_valid_tf_config(self):
        for value, message in [
            (None, "needs TF_CONFIG"),
            ("{not json", "not a valid cluster spec"),
            ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "index 3"),
        ]:
            env = {} if value is None else {"TF_CONFIG": value}
            with self.subTest(tf_config=value), TFConfigEnvironment(env):
                with self.assertRaisesRegex(ValueError, message):
                    distribute.make_strategy("multi_worker")
        with self.assertRaisesRegex(ValueError, "Unknown strategy 'ring'.*mirrored"):
            distribute.make_strategy("ring")

    def test_the_binary_refuses_multi_worker_without_tf_config_with_exit_code_2(self):
        env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        result = subprocess.run(
            train_command("beta_vae", self.get_temp_dir(), "multi_worker"),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        self.assertIn("needs TF_CONFIG", result.stderr)


class TFConfigEnvironment:
    """Sets (or, with no value, removes) TF_CONFIG for the block."""

    def __init__(self, values):
        self.values = values

    def __enter__(self):
        self.saved = os.environ.pop("TF_CONFIG", None)
        os.environ.update(self.values)

    def __exit__(self, *exc):
        os.environ.pop("TF_CONFIG", None)
        if self.saved is not None:
            os.environ["TF_CONFIG"] = self.saved


# The codec's run costs a minute more for the same all-reduce path; it runs in `make test-all`.
@pytest.mark.parametrize("task", ["beta_vae", pytest.param("compression", marks=pytest.mark.slow)])
def test_mirrored_training_on_two_cpus_matches_two_worker_processes(task, tmp_path):
    mirrored_dir, workers_dir = tmp_path / "mirrored", tmp_path / "workers"
    strategy = distribute.make_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2
    train_lib.train(
        task,
        mirrored_dir,
        steps=STEPS,
        runlocal=True,
        log_every=LOG_EVERY,
        checkpoint_every=LOG_EVERY,
        strategy=strategy,
        verbose=0,
    )
    run_two_workers(task, workers_dir)

    # The chief wrote the run; the other worker's scratch checkpoints are gone.
    assert tf.train.latest_checkpoint(str(workers_dir / "checkpoints")).endswith(f"-{STEPS}")
    assert not any((workers_dir / ".workers").glob("*/checkpoints/ckpt-*"))
    assert len(list((workers_dir / "train").glob("events.out.tfevents.*"))) == 1

    single, multi = read_scalars(mirrored_dir / "train"), read_scalars(workers_dir / "train")
    terms = {"loss/loss", *(f"loss/{name}" for name in zoo.get_task(task).TERM_NAMES)}
    assert terms <= set(single)
    for tag in sorted(terms):
        assert sorted(multi[tag]) == [LOG_EVERY, STEPS], tag
        for step, value in single[tag].items():
            assert np.isfinite(value)
            np.testing.assert_allclose(multi[tag][step], value, rtol=MATCH_RTOL, err_msg=tag)


@pytest.mark.slow
def test_a_multi_worker_run_resumes_from_the_chiefs_checkpoint(tmp_path):
    model_dir = tmp_path / "workers"
    run_two_workers("beta_vae", model_dir)
    # The same command with more steps: every worker restores the chief's checkpoint.
    outputs = run_two_workers("beta_vae", model_dir, steps=2 * STEPS)
    assert f"Resuming from step {STEPS} " in outputs[0]
    assert tf.train.latest_checkpoint(str(model_dir / "checkpoints")).endswith(f"-{2 * STEPS}")
