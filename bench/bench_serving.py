"""Serving overhead: 8 concurrent gRPC clients on loopback against the same calls in process.

    .venv/bin/python bench/bench_serving.py [--task=beta_vae|compression] [--requests=400]

Exports an untrained default-config model (speed does not depend on training),
serves it with the TF Serving test double (`tests/serving_double.py`, gRPC on
127.0.0.1 only), and has --clients threads each send the same request until
--requests are done or --seconds have passed. Then the same number of threads
call the loaded SavedModel's signature directly. Prints requests per second and
p50/p99 latency of both, and the ratios (the cost of gRPC, protos and the
server). The double is Python, not the C++ ModelServer: its overhead is an upper
bound on what TF Serving adds, not a measurement of it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from absl import app, flags

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # For tests.serving_double.

from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

flags.DEFINE_enum("task", "beta_vae", ["beta_vae", "compression"], "Model to serve.")
flags.DEFINE_integer("clients", 8, "Concurrent client threads.")
flags.DEFINE_integer("requests", 400, "Requests per measurement (all clients together).")
flags.DEFINE_float("seconds", 60.0, "Time limit per measurement.")
flags.DEFINE_integer("batch", 8, "Examples per request.")
FLAGS = flags.FLAGS


def _load(clients, call):
    """Runs `call(worker_index)` from `clients` threads until the request or time budget ends."""
    latencies, lock = [], threading.Lock()
    deadline = time.monotonic() + FLAGS.seconds

    def worker(index):
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) >= FLAGS.requests:
                    return
                latencies.append(None)  # Reserve a slot.
                slot = len(latencies) - 1
            start = time.perf_counter()
            call(index)
            latencies[slot] = time.perf_counter() - start

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    done = sorted(t for t in latencies if t is not None)
    return {
        "requests": len(done),
        "rps": len(done) / elapsed,
        "p50_ms": 1000 * statistics.median(done),
        "p99_ms": 1000 * done[min(len(done) - 1, int(0.99 * len(done)))],
    }


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from export import export_lib
    from serving import client as serving_client
    from tests import serving_double
    from zoo.beta_vae import config as vae_config
    from zoo.beta_vae import data as vae_data
    from zoo.beta_vae import model as beta_vae
    from zoo.compression import config as compression_config
    from zoo.compression import model as compression
    from zoo.data import photos

    tf.keras.utils.set_random_seed(0)
    base = Path(tempfile.mkdtemp())
    if FLAGS.task == "beta_vae":
        model = beta_vae.build_model(vae_config.Config())
        export_lib.export_model("beta_vae", model, base, "model")
        signature = "reconstruct"
        inputs = {
            "images": vae_data.evaluation_images(FLAGS.batch),
            "beta": np.geomspace(0.125, 512, FLAGS.batch).astype(np.float32),
        }
    else:
        model = compression.build_model(compression_config.Config())
        export_lib.export_model("compression", model, base, "model", stock=True)
        signature = "analyze"
        photo = photos.load_bundled("coffee")[:256, :256]
        inputs = {
            "images": np.repeat(photo[np.newaxis], FLAGS.batch, axis=0),
            "lmbda": np.geomspace(0.0018, 0.18, FLAGS.batch).astype(np.float32),
        }

    loaded = tf.saved_model.load(str(base / "model" / "1"))
    function = loaded.signatures[signature]
    tensors = {key: tf.constant(value) for key, value in inputs.items()}
    server = serving_double.ModelServer(
        base / "models.config", grpc_max_workers=FLAGS.clients, max_num_load_retries=0
    )
    clients = [
        serving_client.GrpcClient(server.grpc_address, "model") for _ in range(FLAGS.clients)
    ]

    def over_grpc(index):
        clients[index].predict(signature, inputs)

    def in_process(index):
        del index
        {key: value.numpy() for key, value in function(**tensors).items()}

    for call in (over_grpc, in_process):  # Warm up both paths.
        call(0)
    results = {"in process": _load(FLAGS.clients, in_process)}
    results["gRPC"] = _load(FLAGS.clients, over_grpc)
    for client in clients:
        client.close()
    server.stop()
    print(
        f"{FLAGS.task} {signature}, batch {FLAGS.batch}, {FLAGS.clients} concurrent clients, "
        "loopback"
    )
    for name, result in results.items():
        print(
            f"{name:11s} {result['requests']:5d} requests  {result['rps']:8.1f} req/s  "
            f"p50 {result['p50_ms']:8.2f} ms  p99 {result['p99_ms']:8.2f} ms"
        )
    grpc, local_result = results["gRPC"], results["in process"]
    print(
        f"ratio gRPC / in process: throughput {grpc['rps'] / local_result['rps']:.3f}, "
        f"p50 latency {grpc['p50_ms'] / local_result['p50_ms']:.3f}"
    )


if __name__ == "__main__":
    app.run(main)
