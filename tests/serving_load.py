"""A bounded load test of exported servables through the TF Serving test double.

    report = run_load(base, plans, seconds=20, clients_per_model=2, swap_model="vae")

Concurrent clients (gRPC and REST, alternating) call every planned servable for a
fixed time; a share of their requests is bad on purpose. Every valid request must
succeed and every bad one must be refused; a version swap in the middle (a copy of the
swapped model's version as the next version, written atomically) must lose nothing.
`bench/load_serving.py` runs it with and without per-model batching and prints the
table; `tests/serving/test_serving.py` runs a short version.

Bad requests are ones the server refuses before a batch queue (an unknown signature, an
extra input over raw gRPC) for every model, plus an out-of-range loss weight for models
that are not batched: a bad value inside a batch fails every request batched with it on
the real server too (batching_session.cc ProcessBatch), so it would not be a valid
request's failure to count.
"""

from __future__ import annotations

import dataclasses
import pathlib
import random
import shutil
import statistics
import threading
import time
from collections.abc import Callable

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving import client as serving_client


@dataclasses.dataclass
class Plan:
    """What the clients of one served model send.

    `valid(rng)` gives `(signature, inputs)` of a request that must succeed;
    `out_of_range(rng)` one whose values the graph refuses (None for batched models).
    """

    model: str
    valid: Callable[[random.Random], tuple[str, dict]]
    out_of_range: Callable[[random.Random], tuple[str, dict]] | None = None


@dataclasses.dataclass
class _Tally:
    latencies: list = dataclasses.field(default_factory=list)
    valid_failures: list = dataclasses.field(default_factory=list)
    bad_refused: int = 0
    bad_accepted: list = dataclasses.field(default_factory=list)


def _raw_extra_input(address: str, model: str, signature: str, inputs: dict) -> None:
    """A PredictRequest with one input too many; raises ServingError with the server's code."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    for key, value in {**inputs, "extra_input": np.float32([0.0])}.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            stub.Predict(request, timeout=30)
        except grpc.RpcError as error:
            raise serving_client.ServingError(error.code().name, error.details()) from error


def _client_loop(server, plan: Plan, index: int, seed: int, bad_share, stop, tally, lock):
    rng = random.Random(seed)
    kind = "grpc" if index % 2 == 0 else "rest"
    if kind == "grpc":
        client = serving_client.GrpcClient(server.grpc_address, plan.model)
    else:
        client = serving_client.RestClient(server.rest_url, plan.model)
    bad_kinds = ["unknown_signature", "extra_input"]
    if plan.out_of_range is not None:
        bad_kinds.append("out_of_range")
    while not stop.is_set():
        signature, inputs = plan.valid(rng)
        if rng.random() >= bad_share:
            started = time.perf_counter()
            try:
                client.predict(signature, inputs)
            except serving_client.ServingError as error:
                with lock:
                    tally.valid_failures.append(f"{plan.model} {kind} {signature}: {error}")
                continue
            with lock:
                tally.latencies.append((plan.model, time.perf_counter() - started))
            continue
        bad = rng.choice(bad_kinds)
        try:
            if bad == "unknown_signature":
                client.predict("no_such_signature", inputs)
            elif bad == "extra_input":
                _raw_extra_input(server.grpc_address, plan.model, signature, inputs)
            else:
                client.predict(*plan.out_of_range(rng))
        except serving_client.ServingError as error:
            expected = {"INVALID_ARGUMENT", "FAILED_PRECONDITION", "HTTP 400"}
            with lock:
                if error.code in expected:
                    tally.bad_refused += 1
                else:
                    tally.valid_failures.append(f"{plan.model} {kind} bad {bad}: {error}")
            continue
        with lock:
            tally.bad_accepted.append(f"{plan.model} {kind} {bad}")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def swap_version(base: pathlib.Path, model: str) -> int:
    """Writes a copy of `model`'s newest version as the next one (a temp dir, then a rename)."""
    versions = sorted(int(p.name) for p in (base / model).iterdir() if p.name.isdigit())
    new = versions[-1] + 1
    staging = base / model / f".{new}.tmp"
    shutil.copytree(base / model / str(versions[-1]), staging)
    staging.rename(base / model / str(new))
    return new


def run_load(
    server,
    base: pathlib.Path,
    plans: list[Plan],
    seconds: float,
    clients_per_model: int = 2,
    bad_share: float = 0.1,
    seed: int = 0,
    swap_model: str | None = None,
    swap_timeout: float = 300.0,
) -> dict:
    """Runs the clients for `seconds`; a report of what they saw.

    With `swap_model`, the model gets a new version after `seconds / 2`; the clients go
    on while it loads and for `seconds / 2` after it serves (`swap`: the version and its
    load time in seconds, or None if it did not serve within `swap_timeout`). Report keys:
    `requests` (valid ones answered), `rps`, `p50_ms`, `p99_ms`, `per_model` (the same per
    model), `valid_failures`, `bad_refused`, `bad_accepted`, `batch_sizes` (examples per
    batch, batched models), `swap`, `seconds` (the whole run).
    """
    tally, lock, stop = _Tally(), threading.Lock(), threading.Event()
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(server, plan, i, seed * 1000 + n * 10 + i, bad_share, stop, tally, lock),
            daemon=True,
        )
        for n, plan in enumerate(plans)
        for i in range(clients_per_model)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    swap = None
    if swap_model is None:
        time.sleep(seconds)
    else:
        # Half the time on the old version; then the new one loads (its warmup included)
        # while the clients go on, and serves for the other half.
        time.sleep(seconds / 2)
        swapped = time.monotonic()
        version = swap_version(base, swap_model)
        while time.monotonic() - swapped < swap_timeout:
            if server.model(swap_model).version(None)[0] == version:
                swap = {"version": version, "load_s": time.monotonic() - swapped}
                break
            time.sleep(0.05)
        time.sleep(seconds / 2)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    all_latencies = [t for _, t in tally.latencies]
    per_model = {}
    for plan in plans:
        times = [t for model, t in tally.latencies if model == plan.model]
        per_model[plan.model] = {
            "requests": len(times),
            "rps": len(times) / elapsed,
            "p50_ms": 1000 * statistics.median(times) if times else float("nan"),
            "p99_ms": 1000 * _percentile(times, 0.99) if times else float("nan"),
        }
    batch_sizes = []
    for plan in plans:
        for _, loaded in _loaded_versions(server, plan.model):
            for queue in loaded.queues():
                batch_sizes.extend(queue.batch_sizes)
    return {
        "seconds": elapsed,
        "requests": len(all_latencies),
        "rps": len(all_latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(all_latencies) if all_latencies else float("nan"),
        "p99_ms": 1000 * _percentile(all_latencies, 0.99) if all_latencies else float("nan"),
        "per_model": per_model,
        "valid_failures": tally.valid_failures,
        "bad_refused": tally.bad_refused,
        "bad_accepted": tally.bad_accepted,
        "batch_sizes": batch_sizes,
        "swap": swap,
    }


def _loaded_versions(server, model: str):
    served = server.model(model)
    with served._lock:  # noqa: SLF001  The double's own state, read for the report.
        return list(served._available.items())  # noqa: SLF001


def format_report(results: dict[str, dict]) -> str:
    """A markdown table of `run_load` reports by mode, with the batching ratio if both ran."""
    lines = [
        "| mode | model | valid requests | req/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for mode, report in results.items():
        for model, row in report["per_model"].items():
            lines.append(
                f"| {mode} | {model} | {row['requests']} | {row['rps']:.1f} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} |"
            )
        lines.append(
            f"| {mode} | **all** | {report['requests']} | {report['rps']:.1f} | "
            f"{report['p50_ms']:.1f} | {report['p99_ms']:.1f} |"
        )
    for mode, report in results.items():
        sizes = report["batch_sizes"]
        batches = "no batches"
        if sizes:
            batches = f"{np.mean(sizes):.2f} examples per batch over {len(sizes)} batches"
        lines.append(
            f"\n{mode}: {len(report['valid_failures'])} failed valid requests, "
            f"{report['bad_refused']} bad requests refused, {len(report['bad_accepted'])} "
            f"accepted; {batches} (the newest version's queues); version swap: {report['swap']}"
        )
    if {"batching", "no batching"} <= set(results):
        on, off = results["batching"], results["no batching"]
        lines.append(
            f"\nbatching / no batching: throughput {on['rps'] / off['rps']:.3f}, "
            f"p50 {on['p50_ms'] / off['p50_ms']:.3f}, p99 {on['p99_ms'] / off['p99_ms']:.3f}"
        )
    return "\n".join(lines)


def _log_uniform(rng: random.Random, low: float, high: float, count: int) -> np.ndarray:
    return np.exp([rng.uniform(np.log(low), np.log(high)) for _ in range(count)]).astype(np.float32)


def zoo_plans(names: dict[str, str]) -> list[Plan]:
    """Plans for the zoo's servables, by served name: `{"vae": "beta_vae", ...}`.

    Task names: `beta_vae` (reconstruct, 1 to 4 MNIST digits, batched by its export),
    `compression_stock` (analyze or reconstruct, 64x64), `compression` (the full codec's
    compress, 64x64) and `style_transfer` (stylize, 32x32); weights drawn log-uniformly
    inside the trained ranges (those of the runlocal and default configs).
    """
    from zoo.beta_vae import data as vae_data

    digits = vae_data.evaluation_images(16)

    def images(rng, count, size):
        pixels = np.random.default_rng(rng.randrange(2**32))
        return pixels.integers(0, 256, [count, size, size, 3], dtype=np.uint8)

    def vae(rng):
        count = rng.randint(1, 4)
        start = rng.randrange(len(digits) - count)
        beta = _log_uniform(rng, 0.125, 512, count)
        return "reconstruct", {"images": digits[start : start + count], "beta": beta}

    def codec(signature):
        def valid(rng):
            count = rng.randint(1, 2)
            lmbda = _log_uniform(rng, 0.0018, 0.18, count)
            name = signature or rng.choice(["analyze", "reconstruct"])
            return name, {"images": images(rng, count, 64), "lmbda": lmbda}

        return valid

    def codec_out_of_range(rng):
        return "reconstruct", {"images": images(rng, 1, 64), "lmbda": np.float32([1.0])}

    def full_codec_out_of_range(rng):
        return "compress", {"images": images(rng, 1, 64), "lmbda": np.float32([1.0])}

    def style(rng):
        count = rng.randint(1, 2)
        weights = np.zeros([count, 5], np.float32)
        weights[:, 0] = 1.0
        weights[:, 1 + rng.randrange(4)] = 1.0
        return "stylize", {"images": images(rng, count, 32), "loss_weights": weights}

    def style_out_of_range(rng):
        weights = np.float32([[1.0, np.nan, 0.0, 0.0, 0.0]])
        return "stylize", {"images": images(rng, 1, 32), "loss_weights": weights}

    plans = {
        "beta_vae": lambda name: Plan(name, vae),
        "compression_stock": lambda name: Plan(name, codec(None), codec_out_of_range),
        "compression": lambda name: Plan(name, codec("compress"), full_codec_out_of_range),
        "style_transfer": lambda name: Plan(name, style, style_out_of_range),
    }
    return [plans[task](name) for name, task in names.items()]
