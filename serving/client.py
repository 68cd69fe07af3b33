"""Clients for exported yoto_tf models on TF Serving: gRPC and REST, one interface.

    client = GrpcClient("localhost:8500", "beta_vae")
    outputs = client.predict("reconstruct", {"images": images, "beta": np.full([8], 4.0)})

Both clients send a whole batch in one request (the loss weight is a per-example
input, so one request can mix trade-offs), put a deadline on every call
(`timeout_seconds`, 30 s by default, retries included), retry UNAVAILABLE and
RESOURCE_EXHAUSTED (HTTP 503 and 429: a restarting or overloaded server, a full or
slow batch queue) with exponential backoff, since every call is idempotent, and
raise `ServingError` with the server's message (for a bad request, INVALID_ARGUMENT
naming the input; when the deadline passes, DEADLINE_EXCEEDED naming the model and
the deadline).
`predict` has the signature that `serving.codec_client.StockCodecClient` takes.

Before sending, each client checks the inputs against the signature's metadata
(read once per client): the real ModelServer ignores extra REST keys, and its
dtype errors name no input (`Expects arg[1] to be float but double is provided`),
so those are caught here with the input's name. Numbers are converted to the
signature's dtype when nothing is lost (Python floats to float32, small ints to uint8).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

import numpy as np

from serving import rest_json


class ServingError(Exception):
    """A failed call: `code` is the gRPC status name (or HTTP status), `message` the reason."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# TensorFlow's DataType names (as GetModelMetadata reports them) -> numpy dtypes.
_NUMPY_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_DOUBLE": np.float64,
    "DT_HALF": np.float16,
    "DT_INT8": np.int8,
    "DT_INT16": np.int16,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_UINT8": np.uint8,
    "DT_UINT16": np.uint16,
    "DT_UINT32": np.uint32,
    "DT_UINT64": np.uint64,
    "DT_BOOL": np.bool_,
    "DT_STRING": object,
}


def conform_inputs(
    signature_name: str, inputs: Mapping[str, np.ndarray], expected: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """`inputs` as the signature's dtypes; INVALID_ARGUMENT naming what does not fit.

    `expected` maps each input name to its DataType name (`"DT_FLOAT"`). Missing and
    unknown names are refused; numbers are converted when no value changes; every
    input needs the same leading (batch) dimension, as in every yoto_tf signature.
    """
    missing = sorted(set(expected) - set(inputs))
    unknown = sorted(set(inputs) - set(expected))
    if missing or unknown:
        raise ServingError(
            "INVALID_ARGUMENT",
            f"signature {signature_name!r} takes the inputs {sorted(expected)}: "
            f"missing {missing}, unknown {unknown}",
        )
    conformed = {name: _conform(name, inputs[name], expected[name]) for name in expected}
    # Every input of a yoto_tf signature holds one row per example; a batching server
    # refuses anything else without naming the input.
    for name, value in conformed.items():
        if value.ndim == 0:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"input {name} needs the batch dimension first (one row per example); got a scalar",
            )
    counts = {name: value.shape[0] for name, value in conformed.items()}
    if len(set(counts.values())) > 1:
        described = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        raise ServingError(
            "INVALID_ARGUMENT",
            f"every input needs one row per example, the same number in each; got {described}",
        )
    return conformed


def _conform(name: str, value, dtype_name: str) -> np.ndarray:
    value = np.asarray(value)
    target = _NUMPY_DTYPES.get(dtype_name)
    if target is None:
        return value
    if target is object:
        if value.dtype.kind in "OSU":
            return value
        raise ServingError("INVALID_ARGUMENT", f"input {name} must be strings ({dtype_name})")
    target = np.dtype(target)
    if value.dtype == target:
        return value
    if value.dtype.kind not in "biuf":
        raise ServingError(
            "INVALID_ARGUMENT", f"input {name} must be numbers ({dtype_name}), got {value.dtype}"
        )
    if target.kind in "iu":
        info = np.iinfo(target)
        fits = value.dtype.kind in "biu" and (
            value.size == 0 or (value.min() >= info.min and value.max() <= info.max)
        )
        if not fits:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"input {name} must be integers in [{info.min}, {info.max}] ({dtype_name}); "
                f"got {value.dtype}",
            )
    elif target.kind == "b" and value.dtype.kind != "b":
        raise ServingError("INVALID_ARGUMENT", f"input {name} must be booleans ({dtype_name})")
    return value.astype(target)


# Codes worth another try: the server (or its batch queue) is overloaded or restarting.
# Every call of these clients is idempotent (Predict, GetModelMetadata), so a retry is safe.
RETRYABLE_CODES = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED"})
DEFAULT_TIMEOUT_SECONDS = 30.0  # The real server's own REST limit (--rest_api_timeout_in_ms).
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 2.0


class _Retrying:
    """Runs a call within a deadline, retrying RETRYABLE_CODES with exponential backoff.

    `timeout_seconds` bounds each call with its retries and waits together; when it
    passes, DEADLINE_EXCEEDED names the model and the deadline. Backoff doubles from
    `backoff_seconds` up to MAX_BACKOFF_SECONDS, and never sleeps past the deadline.
    """

    def __init__(
        self,
        model_name: str,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    ):
        if retries < 0 or backoff_seconds < 0:
            raise ValueError(
                f"retries ({retries}) and backoff_seconds ({backoff_seconds}) must be >= 0."
            )
        if not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be > 0 (a deadline); got {timeout_seconds}.")
        self.model_name = model_name
        self.timeout_seconds = float(timeout_seconds)
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    def deadline_error(self, detail: str) -> ServingError:
        """DEADLINE_EXCEEDED naming the model and the deadline, with what was seen last."""
        return ServingError(
            "DEADLINE_EXCEEDED",
            f"model {self.model_name!r} gave no answer within the {self.timeout_seconds:g} s "
            f"deadline (timeout_seconds); raise it for slow requests. Last: {detail}",
        )

    def call(self, function):
        """`function(remaining_seconds)`'s result, retried; a ServingError when it fails.

        `function` raises `deadline_error` itself when its own wait for an answer ran out.
        """
        deadline = time.monotonic() + self.timeout_seconds
        for attempt in range(self.retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.deadline_error("the deadline passed between retries")
            try:
                return function(remaining)
            except ServingError as error:
                if error.code not in RETRYABLE_CODES or attempt == self.retries:
                    raise
                pause = min(self.backoff_seconds * 2**attempt, MAX_BACKOFF_SECONDS)
                if time.monotonic() + pause >= deadline:
                    raise self.deadline_error(f"{error.code}: {error.message}") from error
                time.sleep(pause)
        raise AssertionError("unreachable")


class GrpcClient:
    """PredictionService over gRPC (`tensorflow_serving.apis`), for one served model.

    `version` is a version number, a version label (a string, from the server's
    `version_labels`) or None for the newest. Every call carries a gRPC deadline of
    `timeout_seconds` (retries included: see `_Retrying`).
    """

    def __init__(
        self,
        target: str,
        model_name: str,
        version: int | str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
        max_message_bytes: int = 2**31 - 1,
    ):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self._grpc = grpc
        options = [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
        ]
        self._channel = grpc.insecure_channel(target, options=options)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self.model_name = model_name
        self.version = version
        self.timeout_seconds = timeout_seconds
        self._retrying = _Retrying(model_name, timeout_seconds, retries, backoff_seconds)
        self._signatures = None

    def _model_spec(self, spec, signature_name: str = ""):
        spec.name = self.model_name
        if signature_name:
            spec.signature_name = signature_name
        if isinstance(self.version, str):
            spec.version_label = self.version
        elif self.version is not None:
            spec.version.value = self.version

    def _call(self, method, request):
        def attempt(remaining_seconds):
            try:
                return method(request, timeout=remaining_seconds)
            except self._grpc.RpcError as error:
                if error.code() == self._grpc.StatusCode.DEADLINE_EXCEEDED:
                    # The deadline this client set passed (the server's own answer to a
                    # deadline passing in its batch queue, RESOURCE_EXHAUSTED, comes too late).
                    raise self._retrying.deadline_error(error.details() or "") from error
                raise ServingError(error.code().name, error.details() or "") from error

        return self._retrying.call(attempt)

    def predict(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> dict:
        """Calls `signature_name` with named numpy inputs; returns named numpy outputs."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        inputs = _checked_inputs(self, signature_name, inputs)
        request = predict_pb2.PredictRequest()
        self._model_spec(request.model_spec, signature_name)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
        response = self._call(self._stub.Predict, request)
        return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}

    def signatures(self) -> dict:
        """GetModelMetadata: signature name -> {"inputs": {name: dtype}, "outputs": {...}}.

        Read once per client: a signature's tensors do not change within a version.
        """
        if self._signatures is None:
            self._signatures = self._read_signatures()
        return self._signatures

    def _read_signatures(self) -> dict:
        from tensorflow.core.framework import types_pb2
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._model_spec(request.model_spec)
        request.metadata_field.append("signature_def")
        response = self._call(self._stub.GetModelMetadata, request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)

        def described(tensors):
            return {name: types_pb2.DataType.Name(info.dtype) for name, info in tensors.items()}

        return {
            name: {"inputs": described(sig.inputs), "outputs": described(sig.outputs)}
            for name, sig in signature_map.signature_def.items()
            if not name.startswith("__")  # __saved_model_init_op is no signature to call.
        }

    def close(self):
        """Closes the channel."""
        self._channel.close()


def _checked_inputs(client, signature_name: str, inputs) -> dict:
    """The inputs conformed to the signature, when the server lists it (else sent as they are)."""
    signature = client.signatures().get(signature_name or "serving_default")
    if signature is None:
        return {name: np.asarray(value) for name, value in inputs.items()}
    return conform_inputs(signature_name or "serving_default", inputs, signature["inputs"])


def _typed(value: np.ndarray, dtype_name: str | None) -> np.ndarray:
    target = _NUMPY_DTYPES.get(dtype_name)
    if target is object:
        # A string output the server wrote as text (its name has no `_bytes`): as bytes,
        # the same values gRPC gives.
        return (
            np.vectorize(
                lambda item: item.encode() if isinstance(item, str) else item, otypes=[object]
            )(value)
            if value.size
            else value.astype(object)
        )
    if target is None or value.dtype.kind in "OSU":
        return value
    return value.astype(target)


# HTTP statuses (model_servers/http_server.cc ToHTTPStatusCode) that have one gRPC code.
_CODES_BY_HTTP_STATUS = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class RestClient:
    """TF Serving's REST API: `POST /v1/models/NAME[/versions/V]:predict` and `GET .../metadata`.

    The server writes a signature's only output without its name (`"outputs": value`,
    TF Serving's util/json_tensor.cc); the client names it from the signature's metadata.
    `version` is a number, a label (string) or None, as for `GrpcClient`. Every call has
    a deadline of `timeout_seconds`, retries included; the server applies its own limit
    too (`--rest_api_timeout_in_ms`, 30 s by default: HTTP 504), since REST carries none.
    """

    def __init__(
        self,
        base_url: str,
        model_name: str,
        version: int | str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retries: int = DEFAULT_RETRIES,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    ):
        path = f"/v1/models/{model_name}"
        if isinstance(version, str):
            path += f"/labels/{version}"
        elif version is not None:
            path += f"/versions/{version}"
        self.model_name = model_name
        self.model_url = base_url.rstrip("/") + path
        self.url = self.model_url + ":predict"
        self.timeout_seconds = timeout_seconds
        self._retrying = _Retrying(model_name, timeout_seconds, retries, backoff_seconds)
        self._signatures = None

    def predict(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> dict:
        """Calls `signature_name` (columnar "inputs" JSON); returns named numpy outputs.

        Bytes inputs go as {"b64": ...}; outputs whose alias ends in `_bytes` come back
        base64-encoded and are decoded here. A reply that is no JSON (the raw bytes of a
        string output named without `_bytes`) is a ServingError saying so.
        """
        inputs = _checked_inputs(self, signature_name, inputs)
        body = {"signature_name": signature_name, "inputs": {}}
        for name, value in inputs.items():
            body["inputs"][name] = rest_json.encode_tensor(value)
        reply = self._request(self.url, json.dumps(body).encode())
        if not isinstance(reply, dict) or "outputs" not in reply:
            raise ServingError(
                "DATA_LOSS",
                f"model {self.model_name!r}: the REST reply has no 'outputs': {str(reply)[:200]}",
            )
        outputs = reply["outputs"]
        expected = self.signatures().get(signature_name or "serving_default", {})
        expected = expected.get("outputs", {})
        if not isinstance(outputs, dict):
            (only,) = expected
            outputs = {only: outputs}
        try:
            # JSON numbers carry no dtype: each output gets its signature's.
            return {
                name: _typed(rest_json.decode_tensor(value), expected.get(name))
                for name, value in outputs.items()
            }
        except (ValueError, TypeError) as error:  # binascii.Error is a ValueError.
            raise ServingError(
                "DATA_LOSS",
                f"model {self.model_name!r}, signature {signature_name!r}: an output of the "
                f"REST reply does not decode ({error})",
            ) from error

    def signatures(self) -> dict:
        """`GET .../metadata`: signature name -> {"inputs": {name: dtype}, "outputs": {...}}.

        Read once per client: a signature's outputs do not change within a version.
        """
        if self._signatures is None:
            reply = self._request(self.model_url + "/metadata", None)
            defs = reply["metadata"]["signature_def"]["signature_def"]

            def described(tensors):
                return {name: info["dtype"] for name, info in tensors.items()}

            self._signatures = {
                name: {
                    "inputs": described(sig.get("inputs", {})),
                    "outputs": described(sig.get("outputs", {})),
                }
                for name, sig in defs.items()
                if not name.startswith("__")  # __saved_model_init_op is no signature to call.
            }
        return self._signatures

    def _request(self, url: str, data: bytes | None) -> dict:
        """POSTs `data` (or GETs when None) with retries; the JSON reply or a ServingError."""

        def attempt(remaining_seconds):
            headers = {"Content-Type": "application/json"} if data is not None else {}
            request = urllib.request.Request(url, data=data, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=remaining_seconds) as reply:
                    raw = reply.read()
            except urllib.error.HTTPError as error:
                try:
                    message = json.loads(error.read()).get("error", "")
                except (ValueError, AttributeError):
                    message = str(error.reason)
                code = _CODES_BY_HTTP_STATUS.get(error.code, f"HTTP {error.code}")
                raise ServingError(code, message) from error
            except TimeoutError as error:
                raise self._retrying.deadline_error(str(error) or "timed out") from error
            except urllib.error.URLError as error:
                if isinstance(error.reason, TimeoutError):
                    raise self._retrying.deadline_error(str(error.reason)) from error
                raise ServingError("UNAVAILABLE", str(error) or type(error).__name__) from error
            except (http.client.HTTPException, ConnectionError) as error:
                raise ServingError("UNAVAILABLE", str(error) or type(error).__name__) from error
            try:
                return json.loads(raw)
            except ValueError as error:  # UnicodeDecodeError is a ValueError.
                raise ServingError(
                    "DATA_LOSS",
                    f"model {self.model_name!r}: the REST reply is not JSON ({error}). TF Serving "
                    "writes a string output whose name does not end in '_bytes' as raw bytes "
                    "(only '*_bytes' outputs are base64-encoded): call that signature over "
                    "gRPC, or serve an export whose string outputs end in '_bytes'.",
                ) from error

        return self._retrying.call(attempt)
