"""A test double of TF Serving: PredictionService over gRPC and the REST predict API.

It serves exported SavedModels from `<base>/<name>/<version>/` like a ModelServer
with a `models.config`: each request goes to the newest complete numeric version
(temporary export directories are not numeric, so a half-written export is never
seen), found again on every request, as a ModelServer's file-system poller would.
It answers bad requests with INVALID_ARGUMENT (HTTP 400) and the failing check's
message, the way TF Serving passes on a graph's InvalidArgumentError. Only for
tests and benchmarks; it does not ship.
"""

from __future__ import annotations

import json
import pathlib
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving import rest_json


class RequestError(Exception):
    """A bad request: the gRPC status and a message naming the input."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code


class ModelRepository:
    """Finds and caches the newest version of each model under `base_dir`."""

    def __init__(self, base_dir):
        self.base_dir = pathlib.Path(base_dir)
        self._loaded = {}
        self._lock = threading.Lock()

    def latest(self, name: str, version: int | None = None):
        """`(version, loaded SavedModel)` of model `name` (its newest version by default)."""
        root = self.base_dir / name
        versions = (
            sorted(int(p.name) for p in root.glob("*") if p.name.isdigit() and p.is_dir())
            if root.is_dir()
            else []
        )
        if version is None and versions:
            version = versions[-1]
        if version is None or version not in versions:
            raise RequestError(
                grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {name} {version}"
            )
        with self._lock:
            if (name, version) not in self._loaded:
                self._loaded[name, version] = tf.saved_model.load(str(root / str(version)))
        return version, self._loaded[name, version]

    def signature_defs(self, name: str, version: int):
        """The SignatureDefs of a version, read from its saved_model.pb."""
        proto = saved_model_pb2.SavedModel()
        path = self.base_dir / name / str(version) / "saved_model.pb"
        proto.ParseFromString(path.read_bytes())
        return proto.meta_graphs[0].signature_def

    def predict(self, name: str, version: int | None, signature_name: str, inputs: dict):
        """Runs a signature on numpy inputs, checking names and dtypes as TF Serving does."""
        version, loaded = self.latest(name, version)
        signature_name = signature_name or "serving_default"
        if signature_name not in loaded.signatures:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f'Serving signature name: "{signature_name}" not found in signature def',
            )
        function = loaded.signatures[signature_name]
        specs = function.structured_input_signature[1]
        missing = sorted(set(specs) - set(inputs))
        extra = sorted(set(inputs) - set(specs))
        if missing or extra:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input tensor alias not found in signature: missing {missing}, unknown {extra}",
            )
        tensors = {}
        for key, spec in specs.items():
            value = np.asarray(inputs[key])
            if value.dtype.kind in "OSU":
                tensor = tf.constant(value.astype(object) if value.dtype.kind == "U" else value)
            else:
                tensor = tf.constant(value)
            if tensor.dtype != spec.dtype:
                raise RequestError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Expects arg[{key}] to be {spec.dtype.name} but {tensor.dtype.name} is "
                    "provided",
                )
            if not spec.shape.is_compatible_with(tensor.shape):
                raise RequestError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"input {key} has shape {tensor.shape}, the signature takes {spec.shape}",
                )
            tensors[key] = tensor
        try:
            outputs = function(**tensors)
        except tf.errors.InvalidArgumentError as error:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, error.message) from error
        return version, {key: value.numpy() for key, value in outputs.items()}


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, repository: ModelRepository):
        self.repository = repository

    def Predict(self, request, context):  # noqa: N802  The gRPC method's name.
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        version = (
            request.model_spec.version.value if request.model_spec.HasField("version") else None
        )
        try:
            version, outputs = self.repository.predict(
                request.model_spec.name, version, request.model_spec.signature_name, inputs
            )
        except RequestError as error:
            context.abort(error.code, str(error))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = request.model_spec.signature_name or "serving_default"
        wanted = set(request.output_filter) or set(outputs)
        for key in wanted & set(outputs):
            response.outputs[key].CopyFrom(tf.make_tensor_proto(outputs[key]))
        return response

    def GetModelMetadata(self, request, context):  # noqa: N802  The gRPC method's name.
        if list(request.metadata_field) != ["signature_def"]:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "Metadata field signature_def must be requested"
            )
        version = (
            request.model_spec.version.value if request.model_spec.HasField("version") else None
        )
        try:
            version, _ = self.repository.latest(request.model_spec.name, version)
        except RequestError as error:
            context.abort(error.code, str(error))
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, value in self.repository.signature_defs(request.model_spec.name, version).items():
            signature_map.signature_def[key].CopyFrom(value)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].Pack(signature_map)
        return response


class GrpcServer:
    """The PredictionService double on a free loopback port (`address`), until `stop()`."""

    def __init__(self, base_dir, max_workers: int = 8):
        self.repository = ModelRepository(base_dir)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _PredictionService(self.repository), self.server
        )
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"
        self.server.start()

    def stop(self):
        """Stops serving at once."""
        self.server.stop(grace=None)


class RestServer:
    """The REST API double: `POST /v1/models/NAME[/versions/V]:predict` and `GET .../metadata`."""

    def __init__(self, base_dir):
        repository = ModelRepository(base_dir)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # Keep test output clean.
                del args

            def _reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802  The http.server hook's name.
                path = self.path
                if not (path.startswith("/v1/models/") and path.endswith(":predict")):
                    return self._reply(404, {"error": f"Malformed request: POST {path}"})
                parts = path[len("/v1/models/") : -len(":predict")].split("/")
                name, version = parts[0], int(parts[2]) if len(parts) == 3 else None
                try:
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    inputs = body["inputs"]
                    if not isinstance(inputs, dict):
                        raise ValueError("inputs must be an object of named tensors")
                    arrays = {key: rest_json.decode_tensor(v) for key, v in inputs.items()}
                    arrays = _cast_to_signature(repository, name, version, body, arrays)
                    _, outputs = repository.predict(
                        name, version, body.get("signature_name", ""), arrays
                    )
                except RequestError as error:
                    status = 404 if error.code == grpc.StatusCode.NOT_FOUND else 400
                    return self._reply(status, {"error": str(error)})
                except (ValueError, KeyError, TypeError) as error:
                    return self._reply(400, {"error": f"JSON Parse error: {error}"})
                named = {key: _output_json(key, v) for key, v in outputs.items()}
                # util/json_tensor.cc MakeColumnarFormatJsonFromTensors: one output, no name.
                if len(named) == 1:
                    return self._reply(200, {"outputs": next(iter(named.values()))})
                return self._reply(200, {"outputs": named})

            def do_GET(self):  # noqa: N802  The http.server hook's name.
                # http_rest_api_handler.cc ProcessModelMetadataRequest: signature_def only.
                path = self.path
                if not (path.startswith("/v1/models/") and path.endswith("/metadata")):
                    return self._reply(404, {"error": f"Malformed request: GET {path}"})
                parts = path[len("/v1/models/") : -len("/metadata")].split("/")
                name, version = parts[0], int(parts[2]) if len(parts) == 3 else None
                try:
                    version, _ = repository.latest(name, version)
                except RequestError as error:
                    return self._reply(404, {"error": str(error)})
                signature_map = get_model_metadata_pb2.SignatureDefMap()
                for key, value in repository.signature_defs(name, version).items():
                    signature_map.signature_def[key].CopyFrom(value)
                # http_rest_api_util.cc ToJsonString: snake_case names, int64 as strings.
                metadata = json_format.MessageToDict(
                    signature_map,
                    preserving_proto_field_name=True,
                    including_default_value_fields=True,
                )
                spec = {"name": name, "signature_name": "", "version": str(version)}
                return self._reply(
                    200, {"model_spec": spec, "metadata": {"signature_def": metadata}}
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()


def _cast_to_signature(repository, name, version, body, arrays):
    """JSON numbers carry no dtype: cast each input to its signature's, as TF Serving does."""
    _, loaded = repository.latest(name, version)
    signature_name = body.get("signature_name") or "serving_default"
    if signature_name not in loaded.signatures:
        return arrays
    specs = loaded.signatures[signature_name].structured_input_signature[1]
    cast = {}
    for key, value in arrays.items():
        spec = specs.get(key)
        if spec is None or spec.dtype == tf.string or value.dtype == object:
            cast[key] = value
        elif value.dtype.kind == "f" and spec.dtype.is_integer:
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input {key} must be {spec.dtype.name} (integers), got fractional numbers",
            )
        else:
            cast[key] = value.astype(spec.dtype.as_numpy_dtype)
    return cast


def _output_json(key: str, value: np.ndarray):
    """TF Serving's rule: string outputs whose alias ends in `_bytes` go out base64-encoded."""
    return rest_json.encode_tensor(value, bytes_as_base64=key.endswith("_bytes"))
