"""A test double of TensorFlow Serving 2.14.1's ModelServer: gRPC and REST, over loopback.

    server = ModelServer(base / "models.config", enable_batching=True)
    GrpcClient(server.grpc_address, "vae"); RestClient(server.rest_url, "vae")
    server.stop()

It behaves the way the real server's sources say it does (`serving/TF_SERVING_2.14.1.md`
names the file and line of each behaviour; `serving/README.md` has the conformance
table), not the way this project's clients would like:

* Each version is loaded as a TF1 session bundle and run with `Session::Run` on the
  signature's feed and fetch tensor names, as `predict_util.cc` does: no shape check
  against the signature, dtype errors from the session (`Expects arg[i] ...`), and the
  graph's own errors with their status codes.
* Loading replays `assets.extra/tf_serving_warmup_requests`; a failed request fails the
  load (after `max_num_load_retries`). At construction every model in the config must
  become available, or the constructor raises `StartupError` (the real server exits).
  Without custom-op libraries a graph holding an unregistered op fails to load.
* Latest-version policy: a poller thread loads a new version (warmup included) before it
  serves, then unloads the old one; a version that is not loaded is NOT_FOUND.
* `--enable_batching` (and per-model `batching_params.pbtxt`): one queue per signature,
  the batching session's checks, concurrent requests merged along dimension 0, one
  failure failing the whole batch.
* gRPC: 2 GiB receive limit, messages cut at 1024 characters, typed-field outputs.
  REST: columnar `inputs` converted with the signature's dtypes, extra keys ignored,
  no-input signatures refused, a single output written without its name, codes mapped to
  HTTP statuses, `GET .../metadata` and the model status endpoint.

Only for tests and benchmarks; it does not ship.
"""

from __future__ import annotations

import base64
import collections
import json
import math
import pathlib
import re
import socket
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format, text_format
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_log_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.config import model_server_config_pb2

from export import layout, list_ops
from serving import rest_json
from tests import session_bundle

# model_servers/grpc_status_util.cc: longer gRPC messages are cut and marked.
GRPC_MESSAGE_LIMIT = 1024
# model_servers/server.cc: builder.SetMaxMessageSize(kint32max), the receive limit.
GRPC_MAX_RECEIVE_BYTES = 2**31 - 1
# servables/tensorflow/saved_model_warmup_util.h
MAX_WARMUP_RECORDS = 1000
# TF's SharedBatchScheduler::QueueOptions defaults, used when no parameters file is given.
DEFAULT_BATCHING = {
    "max_batch_size": 1000,
    "batch_timeout_micros": 0,
    "max_enqueued_batches": 10,
    "num_batch_threads": 2,
    "pad_variable_length_inputs": False,
}
# model_servers/http_server.cc ToHTTPStatusCode.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
_STATUS_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class ServingStatusError(Exception):
    """A failed call: the status code the real server answers with and its message."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self):
        return f"{self.code.name}: {self.message}"


class StartupError(RuntimeError):
    """The real ModelServer would print this and exit with status 255."""


def _status_from_tf(error: tf.errors.OpError) -> ServingStatusError:
    return ServingStatusError(_STATUS_BY_NUMBER[error.error_code], error.message)


def _load_bundle(path: pathlib.Path, custom_ops: bool) -> session_bundle.SessionBundle:
    """A version's session bundle, or the status that fails its load."""
    if not custom_ops:
        # tf.raw_ops lists stock TensorFlow's ops whatever this process has imported.
        op_types = list_ops.saved_model_op_types(path)
        missing = sorted(op for op in op_types if not hasattr(tf.raw_ops, op))
        if missing:
            # TF's op registry, when the graph is imported into a stock binary.
            raise ServingStatusError(
                grpc.StatusCode.NOT_FOUND,
                f"Op type not registered '{missing[0]}' in binary running on "
                f"{socket.gethostname()}. Make sure the Op and Kernel are registered in "
                "the binary running in this process.",
            )
    try:
        return session_bundle.SessionBundle(path)
    except tf.errors.OpError as error:
        raise _status_from_tf(error) from error


class _Task:
    def __init__(self, feeds: dict[str, np.ndarray], size: int, deadline: float | None):
        self.feeds = feeds
        self.size = size
        self.deadline = deadline  # time.monotonic() by which the caller wants an answer.
        self.enqueued = time.monotonic()
        self.done = threading.Event()
        self.outputs = None
        self.status = None

    def finish(self, status=None, outputs=None):
        self.status, self.outputs = status, outputs
        self.done.set()


class BatchScheduler:
    """TF's SharedBatchScheduler: one pool of batch threads for every model's queues.

    The real server makes one scheduler for all models (`bundle_factory_util.h`
    L57-68): `num_batch_threads` threads take closed batches from the queues in turn,
    so a busy model's queue waits for threads that another model holds, and its
    requests merge into larger batches than with a pool per queue.
    """

    def __init__(self, num_batch_threads: int):
        self._condition = threading.Condition()
        self._queues: list[BatchQueue] = []
        self._next = 0
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, daemon=True, name=f"batch_thread_{i}")
            for i in range(int(num_batch_threads))
        ]
        for thread in self._threads:
            thread.start()

    @property
    def num_threads(self) -> int:
        """Threads in the pool."""
        return len(self._threads)

    def _add(self, queue: BatchQueue):
        with self._condition:
            if self._stopped:
                # A queue that receives a request after the shutdown (its version left the
                # rotation when it unloaded, so stop() did not reach it) fails it too:
                # no thread is left to run it, and waiting would hang the request.
                queue.stop()
                return
            if queue not in self._queues:
                self._queues.append(queue)
            self._condition.notify_all()

    def _ready_batch(self):
        """`(queue, tasks)` of a batch to run now, or `(None, seconds to wait)`; lock held."""
        now = time.monotonic()
        wait = None
        count = len(self._queues)
        for offset in range(count):
            queue = self._queues[(self._next + offset) % count]
            tasks = queue._take_batch(now)  # noqa: SLF001  The queue's own lock is this one.
            if isinstance(tasks, list):
                self._next = (self._next + offset + 1) % count
                return queue, tasks
            if tasks is not None:
                wait = tasks if wait is None else min(wait, tasks)
        # A closed queue with nothing queued leaves the rotation.
        self._queues = [q for q in self._queues if not (q.closed and not q._tasks)]  # noqa: SLF001
        return None, wait

    def _work(self):
        while True:
            with self._condition:
                while True:
                    if self._stopped:
                        return
                    queue, tasks = self._ready_batch()
                    if queue is not None:
                        break
                    self._condition.wait(tasks)
            queue._process_batch(tasks)  # noqa: SLF001

    def stop(self):
        """Ends the threads; every queued request fails with UNAVAILABLE (shutdown)."""
        with self._condition:
            self._stopped = True
            queues, self._queues = self._queues, []
            self._condition.notify_all()
        for queue in queues:
            queue.stop()


class BatchQueue:
    """One signature's batching queue (batching/batching_session.cc, batching_util.h).

    Requests wait in the queue until a batch holds `max_batch_size` examples or its
    first request has waited `batch_timeout_micros`; a thread of the server's shared
    `BatchScheduler` then merges and runs it once, and every failure goes to every
    request in it. A request whose deadline passes in the queue fails with its batch
    RESOURCE_EXHAUSTED when every request of the batch is late (`batching_session.cc`
    L760-765); otherwise the batch runs with the latest deadline as its timeout.
    """

    def __init__(self, run, parameters: dict, scheduler: BatchScheduler):
        self._run = run
        # Fields a parameters file leaves unset (None) keep the server's defaults.
        given = {key: value for key, value in parameters.items() if value is not None}
        self.parameters = {**DEFAULT_BATCHING, **given}
        if self.parameters["pad_variable_length_inputs"]:
            raise NotImplementedError("The double does not pad variable-length inputs.")
        # With allowed_batch_sizes the largest of them is the batch limit, not max_batch_size.
        allowed = self.parameters.get("allowed_batch_sizes") or []
        self._batch_limit = max(allowed) if allowed else int(self.parameters["max_batch_size"])
        self._scheduler = scheduler
        self._condition = scheduler._condition  # noqa: SLF001  One lock for the scheduler.
        self._tasks = collections.deque()
        self.closed = False
        self._stopped = False
        self.batch_sizes = []  # Examples per processed batch, for tests.

    def submit(self, feeds: dict[str, np.ndarray], deadline: float | None = None) -> dict:
        """Runs one request's feeds in some batch; its own outputs, or the batch's failure."""
        size = self._task_size(feeds)
        limit = self._batch_limit
        if size > limit:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Task size {size} is larger than maximum input batch size {limit}",
            )
        task = _Task(feeds, size, deadline)
        with self._condition:
            if self._stopped:
                raise ServingStatusError(
                    grpc.StatusCode.UNAVAILABLE, "The server is shutting down its batch queues."
                )
            queued = sum(t.size for t in self._tasks) + size
            if math.ceil(queued / limit) > int(self.parameters["max_enqueued_batches"]):
                raise ServingStatusError(
                    grpc.StatusCode.UNAVAILABLE,
                    "The batch scheduling queue to which this task was submitted is full",
                )
            self._tasks.append(task)
            # A request that still holds an unloading version is served (see `close`).
            self._scheduler._add(self)  # noqa: SLF001
        task.done.wait()
        if task.status is not None:
            raise task.status
        return task.outputs

    @staticmethod
    def _task_size(feeds) -> int:
        # batching_util.h ComputeTensorBatchSize.
        if not feeds:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "Batching Run() must have at least one input tensor",
            )
        sizes = set()
        for value in feeds.values():
            if np.ndim(value) == 0:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "Batching Run() input tensors must have at least one dimension",
                )
            sizes.add(np.shape(value)[0])
        if len(sizes) > 1:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "Batching Run() input tensors must have equal 0th-dimension size",
            )
        return sizes.pop()

    def _take_batch(self, now: float):
        """The tasks of a closed batch, seconds until one closes, or None; lock held."""
        if not self._tasks:
            return None
        limit = self._batch_limit
        timeout = self.parameters["batch_timeout_micros"] / 1e6
        full = sum(t.size for t in self._tasks) >= limit
        waited = now - self._tasks[0].enqueued
        if not (full or self.closed or waited >= timeout):
            return timeout - waited
        batch, total = [], 0
        while self._tasks and total + self._tasks[0].size <= limit:
            total += self._tasks[0].size
            batch.append(self._tasks.popleft())
        return batch

    def _process_batch(self, batch: list[_Task]):
        self.batch_sizes.append(sum(t.size for t in batch))
        now = time.monotonic()
        deadlines = [t.deadline for t in batch]
        if all(d is not None and d <= now for d in deadlines):
            # batching_session.cc ProcessBatch L760-765.
            status = ServingStatusError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "Run() timeout exceeded while waiting in batching queue",
            )
            for task in batch:
                task.finish(status)
            return
        # The batch runs with the latest deadline of its requests (none if one has none).
        deadline = None if None in deadlines else max(deadlines)
        try:
            outputs = self._process(batch, deadline)
        except ServingStatusError as status:
            for task in batch:
                task.finish(status)
            return
        for task, task_outputs in zip(batch, outputs, strict=True):
            task.finish(outputs=task_outputs)

    def _process(self, batch: list[_Task], deadline: float | None) -> list[dict]:
        merged = {}
        for name in batch[0].feeds:
            parts = [np.asarray(task.feeds[name]) for task in batch]
            if len({p.dtype for p in parts}) > 1:
                # batching_session.cc MergeInputTensors: TF's concat refuses mixed dtypes.
                raise ServingStatusError(grpc.StatusCode.INTERNAL, "Tensor concat operation failed")
            if len({p.shape[1:] for p in parts}) > 1:
                # batching_session.cc MergeInputTensors, padding off.
                raise ServingStatusError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"Tensors with name '{name}' from different tasks have different shapes "
                    "and padding is turned off. Set pad_variable_length_inputs to true, or "
                    "ensure that all tensors with the same name have equal dimensions "
                    "starting with the first dim.",
                )
            merged[name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        total = sum(task.size for task in batch)
        padded = total
        allowed = sorted(self.parameters.get("allowed_batch_sizes") or [])
        if allowed:
            padded = next(size for size in allowed if size >= total)
            for name, value in merged.items():
                # Padded with copies of the last task's first row.
                filler = np.repeat(batch[-1].feeds[name][:1], padded - total, axis=0)
                merged[name] = np.concatenate([value, filler])
        outputs = self._run(merged, deadline)
        for value in outputs.values():
            # batching_session.cc SplitOutputTensors.
            if np.ndim(value) == 0:
                raise ServingStatusError(
                    grpc.StatusCode.FAILED_PRECONDITION, "Batched output tensor has 0 dimensions"
                )
            if np.shape(value)[0] != padded:
                raise ServingStatusError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "Batched output tensor's 0th dimension does not equal the sum of the 0th "
                    "dimension sizes of the input tensors",
                )
        split, start = [], 0
        for task in batch:
            split.append({k: v[start : start + task.size] for k, v in outputs.items()})
            start += task.size
        return split

    def close(self):
        """The version unloads: what is queued still runs, without waiting for a full batch.

        On the real server a request in flight holds the version (its servable handle)
        until it is answered, and TF's queue is closed only when empty
        (`CloseAndWaitUntilEmpty`), so unloading never fails a request.
        """
        with self._condition:
            self.closed = True
            self._condition.notify_all()

    def stop(self):
        """The server shuts down: queued requests fail with UNAVAILABLE, and later ones too."""
        with self._condition:
            self._stopped = True
            tasks, self._tasks = list(self._tasks), collections.deque()
        status = ServingStatusError(
            grpc.StatusCode.UNAVAILABLE, "The server is shutting down its batch queues."
        )
        for task in tasks:
            task.finish(status)


def _timeout_in_ms(deadline: float | None) -> int | None:
    """A deadline as `RunOptions.timeout_in_ms` (at least 1 ms: 0 would mean none)."""
    if deadline is None:
        return None
    return max(1, int((deadline - time.monotonic()) * 1000))


class LoadedVersion:
    """A version that became available: its bundle and, under batching, its queues."""

    def __init__(
        self,
        bundle: session_bundle.SessionBundle,
        batching: dict | None,
        scheduler: BatchScheduler | None = None,
    ):
        self.bundle = bundle
        self.batching = batching
        self._scheduler = scheduler
        self._queues = {}
        self._lock = threading.Lock()

    def run(
        self,
        signature_def,
        feeds: dict[str, np.ndarray],
        output_aliases: list[str],
        deadline: float | None = None,
    ):
        """Runs a signature's tensors; feeds are keyed by tensor name, outputs by alias.

        `deadline` (`time.monotonic()`) becomes the session's `RunOptions` timeout, as the
        server sets it from the gRPC deadline or the REST limit.
        """
        fetches = [signature_def.outputs[alias].name for alias in output_aliases]

        def run_session(batch_feeds, batch_deadline):
            try:
                values = self.bundle.run_tensors(
                    batch_feeds, fetches, timeout_in_ms=_timeout_in_ms(batch_deadline)
                )
            except tf.errors.OpError as error:
                raise _status_from_tf(error) from error
            return dict(zip(output_aliases, values, strict=True))

        if self.batching is None:
            return run_session(feeds, deadline)
        # batching_session.cc: one queue per (input tensor names, output tensor names).
        key = (tuple(sorted(feeds)), tuple(sorted(fetches)))
        with self._lock:
            if key not in self._queues:
                self._queues[key] = BatchQueue(run_session, self.batching, self._scheduler)
            queue = self._queues[key]
        return queue.submit(feeds, deadline)

    def queues(self) -> list[BatchQueue]:
        """The batching queues created so far."""
        with self._lock:
            return list(self._queues.values())

    def unload(self):
        """Closes the batch queues; requests in flight are still answered."""
        for queue in self.queues():
            queue.close()


class ServedModel:
    """One `model_config_list` entry: its versions under `base_path`, latest-version policy."""

    def __init__(self, name: str, base_path: pathlib.Path, server: ModelServer):
        self.name = name
        self.base_path = base_path
        self._server = server
        self._available: dict[int, LoadedVersion] = {}
        self._failed: dict[int, ServingStatusError] = {}
        self._ended: set[int] = set()
        self._lock = threading.Lock()

    def aspired_version(self) -> int | None:
        """The highest numeric version directory (file_system_storage_path_source.cc)."""
        versions = layout.existing_versions(self.base_path)
        return versions[-1] if versions else None

    def poll(self):
        """Loads the aspired version if new, then unloads the others (availability first)."""
        version = self.aspired_version()
        if version is None or version in self._available or version in self._failed:
            return
        try:
            loaded = self._server.load_version(self.name, self.base_path / str(version))
        except ServingStatusError as status:
            with self._lock:
                self._failed[version] = status
            return
        except Exception as error:  # noqa: BLE001  A failed load never stops the poller.
            with self._lock:
                self._failed[version] = ServingStatusError(grpc.StatusCode.UNKNOWN, repr(error))
            return
        with self._lock:
            old = [v for v in self._available if v != version]
            self._available[version] = loaded
            for stale in old:
                self._available.pop(stale).unload()
                self._ended.add(stale)

    def version(self, version: int | str | None) -> tuple[int, LoadedVersion]:
        """The requested version (the newest by default; a string is a label), or NOT_FOUND."""
        if isinstance(version, str):
            version = self._server.version_for_label(self.name, version)
        with self._lock:
            if version is None:
                if not self._available:
                    raise ServingStatusError(
                        grpc.StatusCode.NOT_FOUND,
                        f"Servable not found for request: Latest({self.name})",
                    )
                version = max(self._available)
            if version not in self._available:
                raise ServingStatusError(
                    grpc.StatusCode.NOT_FOUND,
                    f"Servable not found for request: Specific({self.name}, {version})",
                )
            return version, self._available[version]

    def failure(self, version: int) -> ServingStatusError | None:
        """Why a version failed to load, if it did."""
        return self._failed.get(version)

    def status(self) -> list[dict]:
        """model_servers/get_model_status_impl.cc: each version's state, unloaded ones as END."""
        with self._lock:
            states = [(v, "AVAILABLE", None) for v in self._available]
            states += [(v, "END", None) for v in self._ended]
            states += [(v, "END", s) for v, s in self._failed.items()]
        return [
            {
                "version": str(version),
                "state": state,
                "status": {
                    "error_code": "OK" if error is None else error.code.name,
                    "error_message": "" if error is None else error.message,
                },
            }
            for version, state, error in sorted(states, reverse=True)
        ]


class ModelServer:
    """The double of `tensorflow_model_server --model_config_file=...` with its defaults.

    Options mirror the real flags: `enable_batching`, `batching_parameters` (the global
    `--batching_parameters_file` as a dict), `enable_per_model_batching_parameters`
    (each version's `batching_params.pbtxt`; a version without one is not batched),
    `enable_model_warmup`, `max_num_load_retries` and `load_retry_interval_seconds`
    (the real defaults: 5 and 60 s), `file_system_poll_wait_seconds`,
    `rest_api_timeout_in_ms` (30 s: a REST request's deadline), `allow_version_labels`
    (on, as `server_core.h` L157 has it; labels come from the config's `version_labels`).
    `custom_ops` stands for a server built with tensorflow-compression's ops linked in.
    """

    def __init__(
        self,
        model_config_file,
        enable_batching: bool = False,
        batching_parameters: dict | None = None,
        enable_per_model_batching_parameters: bool = False,
        enable_model_warmup: bool = True,
        max_num_load_retries: int = 5,
        load_retry_interval_seconds: float = 60.0,
        file_system_poll_wait_seconds: float = 1.0,
        custom_ops: bool = False,
        grpc_max_workers: int = 16,
        rest_api_timeout_in_ms: int = 30_000,
        allow_version_labels: bool = True,
    ):
        if batching_parameters is not None and not enable_batching:
            raise StartupError(
                "server_options.batching_parameters_file is set without setting "
                "server_options.enable_batching to true."
            )
        self.enable_batching = enable_batching
        self.batching_parameters = dict(batching_parameters or {})
        self.enable_per_model_batching_parameters = enable_per_model_batching_parameters
        self.enable_model_warmup = enable_model_warmup
        self.max_num_load_retries = max_num_load_retries
        self.load_retry_interval_seconds = load_retry_interval_seconds
        self.custom_ops = custom_ops
        self.rest_api_timeout_in_ms = rest_api_timeout_in_ms
        self.allow_version_labels = allow_version_labels
        config = _read_config(model_config_file)
        self.models = {name: ServedModel(name, path, self) for name, path, _ in config}
        self.version_labels = {name: labels for name, _, labels in config}
        # bundle_factory_util.h L57-68: one batch scheduler (thread pool) for every model.
        self.scheduler = None
        if enable_batching:
            threads = {**DEFAULT_BATCHING, **self.batching_parameters}["num_batch_threads"]
            self.scheduler = BatchScheduler(threads)
        # server_core.cc: every configured model's latest version, before any port opens.
        failures = []
        for model in self.models.values():
            version = model.aspired_version()
            if version is None:
                # The real server logs this on every poll and never finishes starting.
                raise StartupError(
                    f"No versions of servable {model.name} found under base path "
                    f"{model.base_path}. Did you forget to name your leaf directory as a "
                    "number (eg. '/1/')? The real server would wait for it forever."
                )
            model.poll()
            if (status := model.failure(version)) is not None:
                failures.append(f"{{name: {model.name} version: {version}}} due to error: {status}")
        if failures:
            if self.scheduler is not None:
                self.scheduler.stop()
            raise StartupError(
                f"Failed to start server. Error: {len(failures)} servable(s) did not become "
                f"available: {{{', '.join(failures)}, }}"
            )
        self._stop = threading.Event()
        self._poller = threading.Thread(
            target=self._poll_forever, args=(file_system_poll_wait_seconds,), daemon=True
        )
        self._poller.start()
        self._grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=grpc_max_workers),
            options=[
                ("grpc.max_receive_message_length", GRPC_MAX_RECEIVE_BYTES),
                ("grpc.max_send_message_length", -1),
            ],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(self), self._grpc
        )
        port = self._grpc.add_insecure_port("127.0.0.1:0")
        self.grpc_address = f"127.0.0.1:{port}"
        self._grpc.start()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _rest_handler(self))
        self.rest_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._http_thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._http_thread.start()

    def _poll_forever(self, interval: float):
        while not self._stop.wait(interval):
            for model in self.models.values():
                model.poll()

    def load_version(self, name: str, path: pathlib.Path) -> LoadedVersion:
        """Loads a version and replays its warmup, retrying as `LoaderHarness::Load` does."""
        for attempt in range(self.max_num_load_retries + 1):
            try:
                return self._load_once(name, path)
            except ServingStatusError:
                if attempt == self.max_num_load_retries:
                    raise
                time.sleep(self.load_retry_interval_seconds)
        raise AssertionError("unreachable")

    def _load_once(self, name: str, path: pathlib.Path) -> LoadedVersion:
        try:
            bundle = _load_bundle(path, self.custom_ops)
        except ServingStatusError:
            raise
        except Exception as error:  # noqa: BLE001  Any load failure is the version's status.
            raise ServingStatusError(
                grpc.StatusCode.DATA_LOSS, f"Failed to load {path}: {error}"
            ) from error
        loaded = LoadedVersion(bundle, self._batching_for(path), self.scheduler)
        if self.enable_model_warmup:
            try:
                self._warm_up(name, int(path.name), loaded, path)
            except ServingStatusError:
                loaded.unload()
                bundle.close()
                raise
        return loaded

    def _batching_for(self, path: pathlib.Path) -> dict | None:
        if not self.enable_batching:
            return None
        if not self.enable_per_model_batching_parameters:
            return self.batching_parameters
        # bundle_factory_util.cc: without the version's own file the model is not batched.
        own = path / layout.BATCHING_PARAMS_FILE
        if not own.is_file():
            return None
        parameters = layout.read_batching_parameters(own)
        for key in ("num_batch_threads", "thread_pool_name"):
            if key in self.batching_parameters:
                parameters[key] = self.batching_parameters[key]
        return parameters

    def _warm_up(self, name: str, version: int, loaded: LoadedVersion, path: pathlib.Path):
        # servables/tensorflow/saved_model_warmup_util.cc RunSavedModelWarmup.
        records = path / "assets.extra" / layout.WARMUP_FILE
        if not records.is_file():
            return
        count = 0
        for record in _warmup_records(records):
            log = prediction_log_pb2.PredictionLog()
            try:
                log.ParseFromString(record)
            except Exception as error:  # noqa: BLE001  Any parse failure is one status.
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Failed to parse warmup record: {record!r} from {records}",
                ) from error
            kind = log.WhichOneof("log_type")
            if kind == "predict_log":
                request = log.predict_log.request
                inputs = {key: _parse_tensor(key, proto) for key, proto in request.inputs.items()}
                self.predict_on(
                    loaded, version, request.model_spec.signature_name, inputs, rest=False
                )
            elif kind is not None:
                raise ServingStatusError(
                    grpc.StatusCode.UNIMPLEMENTED, f"Unsupported log_type for warmup: {kind}"
                )
            count += 1
            if count > MAX_WARMUP_RECORDS:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Number of warmup records exceeds the maximum ({MAX_WARMUP_RECORDS}) "
                    f"at {records}",
                )

    def version_for_label(self, name: str, label: str) -> int:
        """server_core.cc: a label's version, or why a request may not name it."""
        if not self.allow_version_labels:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "ModelSpec has 'version_label' set, but it is not currently allowed by the server.",
            )
        version = self.version_labels.get(name, {}).get(label)
        if version is None:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Unrecognized servable version label: {label}"
            )
        return version

    def model(self, name: str) -> ServedModel:
        """A configured model, or NOT_FOUND as for an unknown servable."""
        if not name:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT, "ModelSpec has no name specified."
            )
        if name not in self.models:
            raise ServingStatusError(
                grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({name})"
            )
        return self.models[name]

    def predict(
        self,
        name: str,
        version: int | None,
        signature_name: str,
        inputs: dict[str, np.ndarray],
        output_filter=(),
        deadline: float | None = None,
    ) -> tuple[int, str, dict[str, np.ndarray]]:
        """gRPC Predict (`predict_util.cc`): `(version, signature name, outputs by alias)`.

        `deadline` (`time.monotonic()`) is the call's gRPC deadline, which the server
        passes on as the session's timeout (`--enforce_session_run_timeout`, on).
        """
        version, loaded = self.model(name).version(version)
        signature_name = signature_name or "serving_default"
        outputs = self.predict_on(
            loaded,
            version,
            signature_name,
            inputs,
            rest=False,
            output_filter=output_filter,
            deadline=deadline,
        )
        return version, signature_name, outputs

    def predict_on(
        self,
        loaded,
        version,
        signature_name,
        inputs,
        rest: bool,
        output_filter=(),
        deadline: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Checks a request against the signature as the real server does, then runs it."""
        del version
        signature_name = signature_name or "serving_default"
        signature = loaded.bundle.meta_graph.signature_def.get(signature_name)
        if signature is None:
            if rest:  # http_rest_api_handler.cc GetInfoMap.
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f'Serving signature name: "{signature_name}" not found in signature def',
                )
            raise ServingStatusError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature key "{signature_name}" not found.',
            )
        expected = set(signature.inputs)
        sent = set(inputs)
        if len(sent) != len(expected):
            # predict_util.cc VerifyRequestInputsSize.
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input size does not match signature: {len(sent)}!={len(expected)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(sorted(sent - expected))}}}. "
                f"Missing but required: {{{','.join(sorted(expected - sent))}}}.",
            )
        for alias in sorted(expected):
            if alias not in inputs:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Signature input alias: {alias}(feed name: {signature.inputs[alias].name}) "
                    "not found in request and no default value provided. Inputs expected to be "
                    f"in the request {{{','.join(sorted(sent))}}}, or default input alias set: ",
                )
        outputs = list(output_filter) or sorted(signature.outputs)
        for alias in outputs:
            if alias not in signature.outputs:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"output tensor alias not found in signature: {alias} Outputs expected to "
                    f"be in the set {{{','.join(sorted(signature.outputs))}}}.",
                )
        feeds = {signature.inputs[alias].name: value for alias, value in inputs.items()}
        return loaded.run(signature, feeds, outputs, deadline)

    def stop(self):
        """Closes both ports and the poller; queued requests fail with UNAVAILABLE."""
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.stop()
        self._grpc.stop(grace=None)
        self._http.shutdown()
        self._http.server_close()


def _read_config(path) -> list[tuple[str, pathlib.Path, dict[str, int]]]:
    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse(pathlib.Path(path).read_text(), config)
    return [
        (model.name, pathlib.Path(model.base_path), dict(model.version_labels))
        for model in config.model_config_list.config
    ]


def _warmup_records(path: pathlib.Path):
    """The warmup file's records; a corrupt file is DATA_LOSS (saved_model_warmup_util.cc)."""
    try:
        yield from tf.data.TFRecordDataset(str(path)).as_numpy_iterator()
    except tf.errors.DataLossError as error:
        raise ServingStatusError(
            grpc.StatusCode.DATA_LOSS,
            f"{error.message}. Please verify your warmup data is in TFRecord format.",
        ) from error


def _parse_tensor(alias: str, proto) -> np.ndarray:
    try:
        return tf.make_ndarray(proto)
    except (ValueError, TypeError) as error:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, f"tensor parsing error: {alias}"
        ) from error


def typed_field_proto(value: np.ndarray) -> tensor_pb2.TensorProto:
    """A TensorProto with typed value fields, as `Tensor::AsProtoField` writes (no tensor_content).

    uint8, int8, int16 and int32 go to `int_val` (varints: negative numbers take 10 bytes).
    """
    value = np.asarray(value)
    proto = tensor_pb2.TensorProto()
    if value.dtype.kind in "OSU":
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(
            v if isinstance(v, bytes) else str(v).encode() for v in value.reshape(-1)
        )
    else:
        proto.dtype = tf.as_dtype(value.dtype).as_datatype_enum
        flat = value.reshape(-1)
        field = {
            "float32": proto.float_val,
            "float64": proto.double_val,
            "int64": proto.int64_val,
            "uint64": proto.uint64_val,
            "uint32": proto.uint32_val,
            "bool": proto.bool_val,
            "float16": proto.half_val,
        }.get(value.dtype.name, proto.int_val)
        if value.dtype == np.float16:
            flat = flat.view(np.uint16)
        field.extend(flat.tolist())
    for size in value.shape:
        proto.tensor_shape.dim.add().size = size
    return proto


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, server: ModelServer):
        self.server = server

    @staticmethod
    def _abort(context, status: ServingStatusError):
        message = status.message
        if len(message) > GRPC_MESSAGE_LIMIT:
            message = message[:GRPC_MESSAGE_LIMIT] + "...TRUNCATED"
        context.abort(status.code, message)

    def Predict(self, request, context):  # noqa: N802  The gRPC method's name.
        spec = request.model_spec
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining
        try:
            version = _requested_version(spec)
            inputs = {key: _parse_tensor(key, proto) for key, proto in request.inputs.items()}
            version, signature_name, outputs = self.server.predict(
                spec.name, version, spec.signature_name, inputs, request.output_filter, deadline
            )
        except ServingStatusError as status:
            self._abort(context, status)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = signature_name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(typed_field_proto(value))
        return response

    def GetModelMetadata(self, request, context):  # noqa: N802  The gRPC method's name.
        try:
            if list(request.metadata_field) != ["signature_def"]:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "Metadata field signature_def must be requested",
                )
            version = _requested_version(request.model_spec)
            version, loaded = self.server.model(request.model_spec.name).version(version)
        except ServingStatusError as status:
            self._abort(context, status)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].Pack(_signature_map(loaded))
        return response


def _requested_version(spec) -> int | str | None:
    """A ModelSpec's version: a number, a label (string) or None for the newest."""
    choice = spec.WhichOneof("version_choice")
    if choice == "version_label":
        return spec.version_label
    return spec.version.value if choice == "version" else None


def _signature_map(loaded: LoadedVersion):
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, value in loaded.bundle.meta_graph.signature_def.items():
        signature_map.signature_def[key].CopyFrom(value)
    return signature_map


# http_rest_api_util.cc: /v1/models/NAME[/versions/N|/labels/L][:predict|/metadata].
_REST_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<what>:predict|/metadata)?$",
    re.IGNORECASE,
)


def _rest_handler(server: ModelServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # Keep test output clean.
            del args

        def _reply(self, status: int, body: dict):
            data = json_bytes(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _fail(self, status: ServingStatusError):
            # util/json_tensor.cc MakeJsonFromStatus.
            self._reply(HTTP_STATUS.get(status.code, 500), {"error": status.message})

        def _route(self, method: str):
            match = _REST_PATH.match(self.path)
            if match is None:
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT, f"Malformed request: {method} {self.path}"
                )
            version = int(match["version"]) if match["version"] else match["label"]
            return match["name"], version, (match["what"] or "").lower()

        def _answer(self, method: str, answer):
            try:
                self._reply(200, answer())
            except ServingStatusError as status:
                self._fail(status)
            except Exception as error:  # noqa: BLE001  The real server answers every request.
                self._fail(
                    ServingStatusError(
                        grpc.StatusCode.INTERNAL, f"{method} {self.path}: {type(error).__name__}"
                    )
                )

        def do_POST(self):  # noqa: N802  The http.server hook's name.
            def answer():
                # --rest_api_timeout_in_ms becomes the session's RunOptions timeout.
                deadline = time.monotonic() + server.rest_api_timeout_in_ms / 1000
                name, version, what = self._route("POST")
                if what != ":predict":
                    raise ServingStatusError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Malformed request: POST {self.path}",
                    )
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                return _rest_predict(server, name, version, body, deadline)

            self._answer("POST", answer)

        def do_GET(self):  # noqa: N802  The http.server hook's name.
            def answer():
                name, version, what = self._route("GET")
                if what == "/metadata":
                    version, loaded = server.model(name).version(version)
                    return _rest_metadata(name, version, loaded)
                if what != "":
                    raise ServingStatusError(
                        grpc.StatusCode.INVALID_ARGUMENT, f"Malformed request: GET {self.path}"
                    )
                # get_model_status_impl.cc: the manager's states, not the servable lookup.
                if name not in server.models:
                    raise ServingStatusError(
                        grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {name}"
                    )
                statuses = server.models[name].status()
                if isinstance(version, str):
                    version = server.version_for_label(name, version)
                if version is not None:
                    statuses = [s for s in statuses if s["version"] == str(version)]
                    if not statuses:
                        raise ServingStatusError(
                            grpc.StatusCode.NOT_FOUND,
                            f"Could not find version {version} of model {name}",
                        )
                return {"model_version_status": statuses}

            self._answer("GET", answer)

    return Handler


def _rest_metadata(name: str, version: int, loaded: LoadedVersion) -> dict:
    # http_rest_api_util.cc ToJsonString: snake_case names, int64 as strings.
    metadata = json_format.MessageToDict(
        _signature_map(loaded),
        preserving_proto_field_name=True,
        including_default_value_fields=True,
    )
    spec = {"name": name, "signature_name": "", "version": str(version)}
    return {"model_spec": spec, "metadata": {"signature_def": metadata}}


def _rest_predict(
    server: ModelServer, name: str, version: int | str | None, body: bytes, deadline: float
) -> dict:
    """util/json_tensor.cc FillPredictRequestFromJson and MakeJsonFromTensors, columnar."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, f"JSON Parse error: {error}"
        ) from error
    if not isinstance(document, dict):
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, f"JSON Value: {body.decode()} Is not object"
        )
    signature_name = document.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, "'signature_name' key must be a string value."
        )
    version, loaded = server.model(name).version(version)
    resolved = signature_name or "serving_default"
    signature = loaded.bundle.meta_graph.signature_def.get(resolved)
    if signature is None:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f'Serving signature name: "{resolved}" not found in signature def',
        )
    if not signature.inputs:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Failed to get input map for signature: {signature_name or 'DEFAULT'}",
        )
    if "inputs" in document and "instances" in document:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"JSON Value: {body.decode()} Not formatted correctly expecting only one of "
            "'inputs' or 'instances' keys to exist ",
        )
    if "instances" in document:
        raise ServingStatusError(
            grpc.StatusCode.UNIMPLEMENTED,
            "The double speaks the columnar format ('inputs') only; the row format "
            "('instances') is not reproduced.",
        )
    if "inputs" not in document:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, "Missing 'inputs' or 'instances' key"
        )
    given = document["inputs"]
    if not isinstance(given, dict):
        if len(signature.inputs) > 1:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map",
            )
        given = {next(iter(signature.inputs)): given}
    inputs = {}
    for alias, info in signature.inputs.items():  # Extra keys are never looked at.
        if alias not in given:
            raise ServingStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Missing named input: {alias} in 'inputs' object.",
            )
        inputs[alias] = _json_to_array(given[alias], info.dtype)
    outputs = server.predict_on(
        loaded, version, signature_name, inputs, rest=True, deadline=deadline
    )
    named = {alias: _array_to_json(alias, value) for alias, value in outputs.items()}
    if not named:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, "Cannot convert empty tensor map to JSON"
        )
    # One output is written without its name.
    return {"outputs": next(iter(named.values())) if len(named) == 1 else named}


# json_tensor.cc AddValueToTensor: rapidjson's test for each integer dtype (IsInt is
# int32's range, so int8, int16 and uint8 accept any int32 and wrap it, as C++ casts do).
_JSON_INTEGER_RANGES = {
    "int8": (-(2**31), 2**31 - 1),
    "int16": (-(2**31), 2**31 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (-(2**31), 2**31 - 1),
    "uint16": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_JSON_FLOATS = {"float", "double"}


def _json_type(leaf) -> str:
    """rapidjson's type names, as json_tensor.cc's error messages print them."""
    if leaf is None:
        return "Null"
    if isinstance(leaf, bool):
        return "True" if leaf else "False"
    return {dict: "Object", list: "Array", str: "String"}.get(type(leaf), "Number")


def _json_to_array(value, dtype_enum: int) -> np.ndarray:
    """AddValueToTensor: every leaf converted to the signature's dtype, or a JSON type error."""
    dtype = tf.dtypes.as_dtype(dtype_enum)
    # TF's DataTypeString: "float", "half", "uint8", ...
    type_name = types_pb2.DataType.Name(dtype_enum)[3:].lower()
    supported = {"string", "bool", *_JSON_FLOATS, *_JSON_INTEGER_RANGES}

    def type_error(leaf):
        return ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"JSON Value: {json.dumps(leaf)} Type: {_json_type(leaf)} is not of expected "
            f"type: {type_name}",
        )

    def convert(leaf):
        if isinstance(leaf, list):
            return [convert(item) for item in leaf]
        if type_name not in supported:
            raise ServingStatusError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"Conversion of JSON Value: {json.dumps(leaf)} to type: {type_name}",
            )
        if dtype == tf.string:
            if isinstance(leaf, dict) and set(leaf) == {"b64"} and isinstance(leaf["b64"], str):
                try:
                    return base64.b64decode(leaf["b64"], validate=True)
                except ValueError as error:
                    raise ServingStatusError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"Unable to base64 decode: {leaf['b64'][:100]}",
                    ) from error
            if isinstance(leaf, str):
                return leaf.encode()
            raise type_error(leaf)
        if dtype == tf.bool:
            if isinstance(leaf, bool):
                return leaf
            raise type_error(leaf)
        if isinstance(leaf, bool) or not isinstance(leaf, int | float):
            raise type_error(leaf)
        if type_name in _JSON_FLOATS:
            try:
                return float(leaf)
            except OverflowError as error:  # rapidjson refuses it while parsing.
                raise ServingStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "JSON Parse error: Number too big to be stored in double",
                ) from error
        low, high = _JSON_INTEGER_RANGES[type_name]
        # A fraction, or an integer beyond the dtype's rapidjson test (beyond int64 it
        # is a double to rapidjson), is a type error.
        if not isinstance(leaf, int) or not low <= leaf <= high:
            raise type_error(leaf)
        return leaf

    converted = convert(value)
    try:
        if dtype == tf.string:
            array = np.array(converted, dtype=object)
        elif dtype == tf.bool:
            array = np.array(converted, dtype=bool)
        elif type_name in _JSON_FLOATS:
            array = np.array(converted, dtype=np.float64).astype(dtype.as_numpy_dtype)
        else:
            # 300 for uint8 wraps, as the C++ cast does (uint64 beyond int64 included).
            array = np.array(converted, dtype=object)
            wide = np.uint64 if type_name == "uint64" else np.int64
            array = array.astype(wide).astype(dtype.as_numpy_dtype)
    except ValueError as error:
        raise ServingStatusError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Expecting a rectangular tensor: {error}"
        ) from error
    return array


def _array_to_json(alias: str, value: np.ndarray):
    value = np.asarray(value)
    if value.dtype.kind in "OS" and not alias.endswith("_bytes"):  # IsNamedTensorBytes.
        # json_tensor.cc L861: only `*_bytes` strings are base64-encoded; the others go to
        # rapidjson's Writer as they are, which does not validate UTF-8 (`json_bytes`).
        return np.vectorize(
            lambda b: b if isinstance(b, bytes) else str(b).encode(), otypes=[object]
        )(value).tolist()
    return rest_json.encode_tensor(value, bytes_as_base64=True)


# rapidjson's Writer escapes '"', '\\' and the control characters, nothing else.
_JSON_ESCAPES = {
    ord('"'): b'\\"',
    ord("\\"): b"\\\\",
    8: b"\\b",
    9: b"\\t",
    10: b"\\n",
    12: b"\\f",
    13: b"\\r",
}


def _json_string(raw: bytes) -> bytes:
    out = bytearray(b'"')
    for byte in raw:
        if byte in _JSON_ESCAPES:
            out += _JSON_ESCAPES[byte]
        elif byte < 0x20:
            out += b"\\u%04X" % byte
        else:
            out.append(byte)  # Bytes of 0x80 and above are copied: no UTF-8 check.
    out += b'"'
    return bytes(out)


def json_bytes(value) -> bytes:
    """`value` as the real server's JSON writer writes it: `bytes` leaves go out raw.

    Numbers, NaN and Infinity as `json.dumps` writes them (bare literals, as
    json_tensor.cc's `WriteDecimal` allows); strings and bytes through `_json_string`.
    """
    if isinstance(value, dict):
        items = (_json_string(str(k).encode()) + b":" + json_bytes(v) for k, v in value.items())
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(json_bytes(item) for item in value) + b"]"
    if isinstance(value, bytes):
        return _json_string(value)
    if isinstance(value, str):
        return _json_string(value.encode())
    return json.dumps(value).encode()
