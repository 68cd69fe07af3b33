"""The TF Serving test double against the real server's rules, on a tiny SavedModel.

Each test pins one behaviour of TensorFlow Serving 2.14.1 that the double reproduces
(`serving/README.md` has the table with the source lines): binary outputs over REST,
deadlines in the session and in batch queues, the shared batch scheduler, version
labels, status messages, a corrupt warmup file, the REST JSON conversions. The tiny
model loads in a second, so these run in the fast suite.
"""

import json
import pathlib
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from export import layout
from serving import client as serving_client
from tests import serving_double
from tests.concurrency import concurrently, wait_for

# Failed loads are not retried for a minute, and new versions are seen quickly.
QUICK = {"max_num_load_retries": 0, "file_system_poll_wait_seconds": 0.05}
# Binary that is no UTF-8: 0xff and 0x80 never start a UTF-8 character.
BLOB = b'\xff\x00\x80"ok\\'
# Iterations of the `slow` signature's 300x300 matmul loop: about a second here, far
# longer than the deadlines below (and cancelled at them).
SLOW = np.int32([100_000])


class Tiny(tf.Module):
    """Signatures for each rule: float, int32, int64 and half inputs, strings out, a slow loop."""

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="x")])
    def echo(self, x):
        """`y = 2 x`."""
        return {"y": x * 2}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32, name="n")])
    def text(self, n):
        """A binary string per row, under a name without `_bytes`."""
        return {"raw": tf.fill(tf.shape(n), tf.constant(BLOB))}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32, name="n")])
    def blob(self, n):
        """The same strings, named so that REST base64-encodes them."""
        return {"raw_bytes": tf.fill(tf.shape(n), tf.constant(BLOB))}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int64, name="k")])
    def count(self, k):
        """`k + 1`."""
        return {"next": k + 1}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float16, name="h")])
    def half(self, h):
        """`h` as float32."""
        return {"y": tf.cast(h, tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32, name="n")])
    def slow(self, n):
        """`n[0]` matrix products in a loop: a request that takes as long as asked."""
        m = tf.ones([300, 300]) / 300.0
        _, product = tf.while_loop(
            lambda i, a: i < n[0], lambda i, a: (i + 1, tf.matmul(a, m)), [0, m]
        )
        return {"y": tf.fill(tf.shape(n), tf.reduce_sum(product))}

    def signatures(self) -> dict:
        """Every signature, `echo` also as `serving_default`."""
        names = ("echo", "text", "blob", "count", "half", "slow")
        signatures = {name: getattr(self, name).get_concrete_function() for name in names}
        return {"serving_default": signatures["echo"], **signatures}


_SAVED = {}


def tiny_version() -> pathlib.Path:
    """One saved `Tiny` version directory for the module (saving takes a few seconds)."""
    if "dir" not in _SAVED:
        directory = pathlib.Path(tempfile.mkdtemp()) / "tiny"
        module = Tiny()
        tf.saved_model.save(module, str(directory), signatures=module.signatures())
        _SAVED["dir"] = directory
    return _SAVED["dir"]


def base_with(*names, labels: dict | None = None) -> pathlib.Path:
    """A models config (`models_custom_ops.config`: the tiny model vouches for no ops) of
    copies of the tiny model, version 1 each; `labels` maps a model to its version labels.
    """
    base = pathlib.Path(tempfile.mkdtemp())
    for name in names:
        shutil.copytree(tiny_version(), base / name / "1")
    layout.write_models_config(base)
    config = base / layout.CUSTOM_OPS_MODELS_CONFIG
    for name, model_labels in (labels or {}).items():
        entries = "".join(
            f' version_labels {{ key: "{k}" value: {v} }}' for k, v in model_labels.items()
        )
        text = config.read_text()
        marker = f'name: "{name}"'
        config.write_text(text.replace(marker, marker + entries, 1))
    return config


def rest(url: str, path: str, body: dict | None = None):
    """`(HTTP status, raw reply bytes)`, with no client in the way."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def grpc_predict(address: str, model: str, signature: str, inputs: dict, **spec):
    """A raw PredictRequest: `(status code, details or response)`."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    for key, value in spec.items():
        setattr(request.model_spec, key, value)
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            return grpc.StatusCode.OK, stub.Predict(request, timeout=60)
        except grpc.RpcError as error:
            return error.code(), error.details()


class ServerTestCase(tf.test.TestCase):
    """Starts a server per test and stops it afterwards."""

    def serve(self, config, **options) -> serving_double.ModelServer:
        """A ModelServer on `config` that stops when the test ends."""
        server = serving_double.ModelServer(config, **QUICK, **options)
        self.addCleanup(server.stop)
        return server


class BinaryOutputsOverRestTest(ServerTestCase):
    """json_tensor.cc L861: only string outputs named `*_bytes` are base64-encoded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = serving_double.ModelServer(base_with("m"), **QUICK)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def test_a_string_output_without_bytes_in_its_name_is_written_raw_and_breaks_the_json(self):
        body = {"signature_name": "text", "inputs": {"n": [0]}}
        status, raw = rest(self.server.rest_url, "/v1/models/m:predict", body)
        self.assertEqual(status, 200)
        self.assertIn(b'"\xff\\u0000\x80\\"ok\\\\"', raw)  # Raw bytes; JSON escapes only.
        with self.assertRaises(UnicodeDecodeError):
            json.loads(raw)
        client = serving_client.RestClient(self.server.rest_url, "m", retries=0)
        with self.assertRaisesRegex(serving_client.ServingError, "_bytes") as raised:
            client.predict("text", {"n": np.int32([0])})
        self.assertEqual(raised.exception.code, "DATA_LOSS")

    def test_a_bytes_output_comes_back_as_base64_and_both_clients_give_the_same_bytes(self):
        status, raw = rest(
            self.server.rest_url, "/v1/models/m:predict", {"signature_name": "blob", "inputs": [0]}
        )
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw), {"outputs": [{"b64": "/wCAIm9rXA=="}]})
        for client in (
            serving_client.RestClient(self.server.rest_url, "m"),
            serving_client.GrpcClient(self.server.grpc_address, "m"),
        ):
            with self.subTest(type(client).__name__):
                outputs = client.predict("blob", {"n": np.int32([0, 1])})
                self.assertEqual(outputs["raw_bytes"].tolist(), [BLOB, BLOB])

    def test_odd_replies_are_serving_errors(self):
        signatures = {"blob": {"inputs": {"n": "DT_INT32"}, "outputs": {"raw_bytes": "DT_STRING"}}}
        odd = [{"outputs": [{"b64": b64}]} for b64 in ("abc", "%%%%", 5)]
        for reply in [*odd, {"predictions": []}, [1]]:
            with self.subTest(reply=reply):
                client = serving_client.RestClient(self.server.rest_url, "m")
                # A server (or a proxy) that answers this: no real reply is needed.
                client._request = lambda url, data, reply=reply: reply  # noqa: SLF001
                client._signatures = signatures  # noqa: SLF001
                with self.assertRaises(serving_client.ServingError) as raised:
                    client.predict("blob", {"n": np.int32([0])})
                self.assertEqual(raised.exception.code, "DATA_LOSS")


class RestJsonConversionTest(ServerTestCase):
    """json_tensor.cc AddValueToTensor: rapidjson's type names and integer tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = serving_double.ModelServer(base_with("m"), **QUICK)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def predict(self, signature, inputs):
        status, raw = rest(
            self.server.rest_url,
            "/v1/models/m:predict",
            {"signature_name": signature, "inputs": inputs},
        )
        return status, json.loads(raw)

    def test_type_errors_name_the_json_types_as_rapidjson_does(self):
        cases = {
            ("echo", "x", True): "JSON Value: true Type: True is not of expected type: float",
            ("echo", "x", False): "JSON Value: false Type: False is not of expected type: float",
            ("echo", "x", None): "JSON Value: null Type: Null is not of expected type: float",
            ("echo", "x", "1"): 'JSON Value: "1" Type: String is not of expected type: float',
            ("count", "k", 1.5): "JSON Value: 1.5 Type: Number is not of expected type: int64",
        }
        for (signature, name, leaf), message in cases.items():
            with self.subTest(leaf=leaf):
                status, reply = self.predict(signature, {name: [leaf]})
                self.assertEqual(status, 400)
                self.assertEqual(reply["error"], message)

    def test_integers_outside_the_rapidjson_range_of_the_dtype_are_type_errors(self):
        status, reply = self.predict("blob", {"n": [2**31]})
        self.assertEqual(status, 400)
        self.assertEqual(
            reply["error"], f"JSON Value: {2**31} Type: Number is not of expected type: int32"
        )
        self.assertEqual(self.predict("blob", {"n": [2**31 - 1]})[0], 200)
        self.assertEqual(self.predict("count", {"k": [2**62]}), (200, {"outputs": [2**62 + 1]}))

    def test_an_integer_beyond_int64_is_a_clean_error_and_a_number_for_a_float(self):
        status, reply = self.predict("count", {"k": [10**30]})
        self.assertEqual(status, 400)
        self.assertIn("is not of expected type: int64", reply["error"])
        # For a float input it is a number like any other (2e30 fits a float32).
        status, reply = self.predict("echo", {"x": [10**30]})
        self.assertEqual(status, 200)
        self.assertAllClose(reply["outputs"], [2e30], rtol=1e-6)

    def test_half_precision_inputs_are_unimplemented_over_rest(self):
        status, reply = self.predict("half", {"h": [1.5]})
        self.assertEqual(status, 501)
        self.assertEqual(reply["error"], "Conversion of JSON Value: 1.5 to type: half")
        code, _ = grpc_predict(self.server.grpc_address, "m", "half", {"h": np.float16([1.5])})
        self.assertEqual(code, grpc.StatusCode.OK)

    def test_an_unknown_model_has_no_versions_to_report(self):
        status, raw = rest(self.server.rest_url, "/v1/models/nope")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(raw), {"error": "Could not find any versions of model nope"})
        status, raw = rest(self.server.rest_url, "/v1/models/nope:predict", {"inputs": [1.0]})
        self.assertEqual(json.loads(raw)["error"], "Servable not found for request: Latest(nope)")


class VersionLabelsTest(ServerTestCase):
    """server_core.h L157: version labels are allowed; they come from the model config."""

    def test_a_configured_label_serves_its_version_and_an_unknown_one_is_refused(self):
        server = self.serve(base_with("m", labels={"m": {"stable": 1}}))
        inputs = {"x": np.float32([1.0])}
        for client in (
            serving_client.GrpcClient(server.grpc_address, "m", version="stable"),
            serving_client.RestClient(server.rest_url, "m", version="stable"),
        ):
            with self.subTest(type(client).__name__):
                self.assertAllEqual(client.predict("echo", inputs)["y"], [2.0])
        code, message = grpc_predict(
            server.grpc_address, "m", "echo", inputs, version_label="canary"
        )
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(message, "Unrecognized servable version label: canary")
        status, raw = rest(server.rest_url, "/v1/models/m/labels/stable")
        self.assertEqual(
            (status, json.loads(raw)["model_version_status"][0]["version"]), (200, "1")
        )

    def test_a_server_that_disallows_labels_refuses_them(self):
        server = self.serve(base_with("m", labels={"m": {"stable": 1}}), allow_version_labels=False)
        code, message = grpc_predict(
            server.grpc_address, "m", "echo", {"x": np.float32([1.0])}, version_label="stable"
        )
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("'version_label' set, but it is not currently allowed", message)


class CorruptWarmupTest(ServerTestCase):
    """saved_model_warmup_util.cc: a warmup file that is no TFRecord fails the load, DATA_LOSS."""

    @staticmethod
    def corrupt_warmup(version_dir: pathlib.Path):
        (version_dir / "assets.extra").mkdir(exist_ok=True)
        (version_dir / "assets.extra" / layout.WARMUP_FILE).write_bytes(b"not a record " * 8)

    def test_it_fails_the_startup(self):
        config = base_with("m")
        self.corrupt_warmup(config.parent / "m" / "1")
        with self.assertRaisesRegex(
            serving_double.StartupError,
            "(?s)DATA_LOSS: .*Please verify your warmup data is in TFRecord format",
        ):
            serving_double.ModelServer(config, **QUICK)

    def test_a_new_version_with_one_fails_and_the_poller_goes_on_to_the_next(self):
        config = base_with("m")
        server = self.serve(config)
        model_dir = config.parent / "m"
        shutil.copytree(model_dir / "1", model_dir / ".2")
        self.corrupt_warmup(model_dir / ".2")
        (model_dir / ".2").rename(model_dir / "2")
        wait_for(lambda: len(server.model("m").status()) == 2)
        failed = {s["version"]: s for s in server.model("m").status()}["2"]
        self.assertEqual((failed["state"], failed["status"]["error_code"]), ("END", "DATA_LOSS"))
        shutil.copytree(model_dir / "1", model_dir / ".3")
        (model_dir / ".3").rename(model_dir / "3")
        wait_for(lambda: server.model("m").version(None)[0] == 3)


class BatchingRulesTest(ServerTestCase):
    """batching_session.cc and TF's shared batch scheduler, on a batching server."""

    # Two one-example requests fill a batch; one alone waits up to 2 s for a partner.
    WAITING = {"max_batch_size": 2, "batch_timeout_micros": 2_000_000, "num_batch_threads": 1}

    def test_a_mixed_dtype_batch_fails_internal_in_the_concat(self):
        server = self.serve(base_with("m"), enable_batching=True, batching_parameters=self.WAITING)
        results = concurrently(
            lambda: grpc_predict(server.grpc_address, "m", "echo", {"x": np.float32([1.0])}),
            lambda: grpc_predict(server.grpc_address, "m", "echo", {"x": np.float64([1.0])}),
        )
        self.assertEqual(
            results, [(grpc.StatusCode.INTERNAL, "Tensor concat operation failed")] * 2
        )

    def test_every_model_shares_one_pool_of_batch_threads(self):
        server = self.serve(
            base_with("a", "b"),
            enable_batching=True,
            batching_parameters={"max_batch_size": 4, "num_batch_threads": 1},
        )
        a = serving_client.GrpcClient(server.grpc_address, "a")
        b = serving_client.GrpcClient(server.grpc_address, "b")
        a.signatures(), b.signatures()
        # b's request needs the only thread, which a's slow batch holds: it ends after a's.
        finished = {}

        def a_started():
            return any(q.batch_sizes for q in server.model("a").version(None)[1].queues())

        def call(name, client, signature, inputs, after=lambda: True):
            wait_for(after)
            outputs = client.predict(signature, inputs)
            finished[name] = time.monotonic()
            return outputs

        results = concurrently(
            lambda: call("a", a, "slow", {"n": np.int32([2000])}),
            lambda: call("b", b, "echo", {"x": np.float32([1.0])}, after=a_started),
        )
        self.assertAllEqual(results[1]["y"], [2.0])
        self.assertGreater(finished["b"], finished["a"])
        queues = [q for m in "ab" for q in server.model(m).version(None)[1].queues()]
        self.assertLen(queues, 2)
        self.assertEqual({q._scheduler for q in queues}, {server.scheduler})  # noqa: SLF001
        names = [t.name for t in threading.enumerate() if t.name.startswith("batch_thread_")]
        self.assertLen(names, 1)

    def test_stopping_the_server_fails_queued_requests_and_unloading_serves_them(self):
        server = serving_double.ModelServer(
            base_with("m"), enable_batching=True, batching_parameters=self.WAITING, **QUICK
        )
        version, loaded = server.model("m").version(None)
        predict = lambda: server.predict("m", None, "echo", {"x": np.float32([1.0])})  # noqa: E731
        closing = threading.Timer(0.3, loaded.unload)
        closing.start()
        started = time.monotonic()
        self.assertAllEqual(predict()[2]["y"], [2.0])  # Served at the close, not after 2 s.
        self.assertLess(time.monotonic() - started, 1.9)
        closing.join()
        stopping = threading.Timer(0.3, server.stop)
        stopping.start()
        with self.assertRaisesRegex(serving_double.ServingStatusError, "shutting down"):
            server.predict("m", None, "count", {"k": np.int64([1])})
        stopping.join()
        self.assertEqual(version, 1)


class DeadlinesTest(ServerTestCase):
    """The REST limit (--rest_api_timeout_in_ms) and gRPC deadlines, in the session and queue."""

    def test_a_rest_request_over_the_limit_is_504_and_the_client_names_model_and_deadline(self):
        server = self.serve(base_with("m"), rest_api_timeout_in_ms=200)
        started = time.monotonic()
        status, raw = rest(
            server.rest_url,
            "/v1/models/m:predict",
            {"signature_name": "slow", "inputs": SLOW.tolist()},
        )
        self.assertEqual(status, 504)
        self.assertIn("Timed out", json.loads(raw)["error"])
        self.assertLess(time.monotonic() - started, 5.0)  # Cancelled, not run to its end.
        client = serving_client.RestClient(server.rest_url, "m", retries=0)
        with self.assertRaises(serving_client.ServingError) as raised:
            client.predict("slow", {"n": SLOW})
        self.assertEqual(raised.exception.code, "DEADLINE_EXCEEDED")

    def test_a_grpc_deadline_cancels_the_run_and_the_client_names_model_and_deadline(self):
        server = self.serve(base_with("m"))
        # Long enough for the metadata and echo calls on a loaded 2-core machine (0.5 s was
        # not), far shorter than the slow request (SLOW runs for minutes).
        client = serving_client.GrpcClient(server.grpc_address, "m", timeout_seconds=3)
        client.signatures()
        with self.assertRaisesRegex(
            serving_client.ServingError, r"model 'm' gave no answer within the 3 s deadline"
        ) as raised:
            client.predict("slow", {"n": SLOW})
        self.assertEqual(raised.exception.code, "DEADLINE_EXCEEDED")
        self.assertAllEqual(client.predict("echo", {"x": np.float32([1.0])})["y"], [2.0])

    def test_waiting_too_long_in_a_batch_queue_is_resource_exhausted_429(self):
        server = self.serve(
            base_with("m"),
            enable_batching=True,
            batching_parameters={"max_batch_size": 2, "batch_timeout_micros": 1_000_000},
            rest_api_timeout_in_ms=100,
        )
        status, raw = rest(
            server.rest_url, "/v1/models/m:predict", {"signature_name": "echo", "inputs": [1.0]}
        )
        self.assertEqual(status, 429)
        self.assertEqual(
            json.loads(raw)["error"], "Run() timeout exceeded while waiting in batching queue"
        )
        # gRPC: the deadline the call carried passed in the queue.
        with self.assertRaises(serving_double.ServingStatusError) as raised:
            server.predict(
                "m", None, "echo", {"x": np.float32([1.0])}, deadline=time.monotonic() + 0.1
            )
        self.assertEqual(raised.exception.code, grpc.StatusCode.RESOURCE_EXHAUSTED)


class RetryTest(tf.test.TestCase):
    """The clients' retries: bounded, with backoff, within the deadline."""

    def test_unavailable_and_resource_exhausted_are_retried_with_growing_pauses(self):
        retrying = serving_client._Retrying(
            "m", timeout_seconds=30, retries=3, backoff_seconds=0.01
        )  # noqa: SLF001
        failures = iter(
            [
                serving_client.ServingError("UNAVAILABLE", "restarting"),
                serving_client.ServingError("RESOURCE_EXHAUSTED", "queue"),
            ]
        )
        calls = []

        def flaky(remaining):
            calls.append((time.monotonic(), remaining))
            if (error := next(failures, None)) is not None:
                raise error
            return "ok"

        self.assertEqual(retrying.call(flaky), "ok")
        self.assertLen(calls, 3)
        pauses = [b[0] - a[0] for a, b in zip(calls[:-1], calls[1:], strict=True)]
        self.assertGreaterEqual(pauses[0], 0.01)
        self.assertGreaterEqual(pauses[1], 0.02)
        self.assertLess(calls[2][1], calls[0][1])  # Each try gets what is left of the deadline.

    def test_other_errors_are_not_retried_and_retries_are_bounded(self):
        retrying = serving_client._Retrying("m", timeout_seconds=30, retries=2, backoff_seconds=0)  # noqa: SLF001
        for code, tries in (("INVALID_ARGUMENT", 1), ("HTTP 400", 1), ("UNAVAILABLE", 3)):
            calls = []

            def failing(remaining, code=code, calls=calls):
                del remaining
                calls.append(1)
                raise serving_client.ServingError(code, "no")

            with self.subTest(code):
                with self.assertRaises(serving_client.ServingError) as raised:
                    retrying.call(failing)
                self.assertEqual((raised.exception.code, len(calls)), (code, tries))

    def test_retries_stop_at_the_deadline_with_an_error_naming_model_and_deadline(self):
        retrying = serving_client._Retrying(
            "vae", timeout_seconds=0.3, retries=50, backoff_seconds=0.05
        )  # noqa: SLF001

        def busy(remaining):
            del remaining
            raise serving_client.ServingError("RESOURCE_EXHAUSTED", "queue full")

        started = time.monotonic()
        with self.assertRaisesRegex(
            serving_client.ServingError,
            r"model 'vae' gave no answer within the 0\.3 s deadline.*queue full",
        ) as raised:
            retrying.call(busy)
        self.assertEqual(raised.exception.code, "DEADLINE_EXCEEDED")
        self.assertLess(time.monotonic() - started, 1.0)  # Not 50 retries' pauses.

    def test_a_deadline_must_be_positive(self):
        with self.assertRaisesRegex(ValueError, "timeout_seconds must be > 0"):
            serving_client.GrpcClient("127.0.0.1:1", "m", timeout_seconds=0)
