"""TF Serving's directory layout, written atomically.

    <base>/<model>/<version>/saved_model.pb
    <base>/<model>/<version>/variables/
    <base>/<model>/<version>/assets.extra/tf_serving_warmup_requests
    <base>/<model>/<version>/assets.extra/yoto_metadata.json
    <base>/<model>/<version>/assets.extra/...  task extras (style transfer: styles/style_N.png)
    <base>/<model>/<version>/batching_params.pbtxt  only for models TF Serving may batch
    <base>/models.config             the models a stock ModelServer can load
    <base>/models_custom_ops.config  every model (a ModelServer with tensorflow-compression's ops)
    <base>/batching.config           --batching_parameters_file (the shared batch thread pool)

A version is written into a hidden temporary directory beside its final place
and renamed into it, so a ModelServer polling `<base>/<model>` never sees half
a model (it ignores names that are not integers).

Batching: with `--enable_batching --enable_per_model_batching_parameters
--batching_parameters_file=<base>/batching.config`, TF Serving batches exactly the
models whose version has a `batching_params.pbtxt`, with its settings. Only models
with one fixed shape per example get one (the beta-VAE): a batch merges only
tensors equal beyond dimension 0, and one request's failed check fails its batch.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
from collections.abc import Callable, Mapping

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

from zoo import atomic

# The metadata file belongs to the zoo, which reads it; export writes it.
from zoo.saved_model_metadata import METADATA_FILE as METADATA_FILE
from zoo.saved_model_metadata import read_metadata as read_metadata
from zoo.saved_model_metadata import write_metadata as write_metadata

WARMUP_FILE = "tf_serving_warmup_requests"
# `--model_config_file` for a stock ModelServer: the models whose metadata says
# `stock_ops_only` (one it cannot load would keep the whole server from starting).
MODELS_CONFIG = "models.config"
# `--model_config_file` for a ModelServer built with tensorflow-compression's ops: every model.
CUSTOM_OPS_MODELS_CONFIG = "models_custom_ops.config"
# In a version directory: that model's BatchingParameters text proto.
BATCHING_PARAMS_FILE = "batching_params.pbtxt"
# `--batching_parameters_file`: under per-model batching, only its thread pool is used.
BATCHING_CONFIG = "batching.config"

# The batch thread pool all batched models share: the number of batches run at once.
# Two keeps a GPU busy while the next batch is being merged; on a CPU-only server,
# the number of cores is the usual choice.
SHARED_BATCH_THREADS = 2

# BatchingParameters fields that `read_batching_parameters` knows, by kind.
_WRAPPED_INT_FIELDS = (
    "max_batch_size",
    "batch_timeout_micros",
    "max_enqueued_batches",
    "num_batch_threads",
)
_BOOL_FIELDS = ("pad_variable_length_inputs",)
_REPEATED_INT_FIELDS = ("allowed_batch_sizes",)


def existing_versions(model_root) -> list[int]:
    """The integer version directories under `<base>/<model>`, ascending."""
    root = pathlib.Path(model_root)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def write_version(
    base_dir, model_name: str, version: int | None, write: Callable[[pathlib.Path], None]
) -> pathlib.Path:
    """Calls `write(tmp_dir)` and renames the result to `<base>/<model>/<version>`.

    `version=None` takes one more than the newest existing version (1 if none).
    An existing version is never overwritten. Returns the final directory.
    """
    if not model_name or "/" in model_name or model_name.startswith("."):
        raise ValueError(f"Model name {model_name!r} must be a plain directory name.")
    model_root = pathlib.Path(base_dir) / model_name
    model_root.mkdir(parents=True, exist_ok=True)
    if version is None:
        version = (existing_versions(model_root) or [0])[-1] + 1
    if int(version) < 1:
        raise ValueError(f"Versions are positive integers, got {version}.")
    final = model_root / str(int(version))
    if final.exists():
        raise FileExistsError(f"{final} already exists; export a new version instead.")
    temporary = atomic.staging_directory(model_root, f".tmp-{version}-")
    try:
        write(temporary)
        os.rename(temporary, final)  # Atomic on one filesystem; fails if `final` appeared.
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return final


def write_warmup_requests(
    saved_model_dir, model_name: str, requests: Mapping[str, Mapping[str, tf.Tensor]]
) -> pathlib.Path:
    """Writes `assets.extra/tf_serving_warmup_requests`: one PredictRequest per signature."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature_name, inputs in requests.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.name = model_name
            request.model_spec.signature_name = signature_name
            for input_name, value in inputs.items():
                request.inputs[input_name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def write_extra_asset(saved_model_dir, relative: str, content: bytes) -> pathlib.Path:
    """Writes `assets.extra/<relative>`: a file that ships with the version, unread by serving."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _stock_ops_only(model_root: pathlib.Path) -> bool:
    """Whether the newest version of a model says it needs stock TensorFlow ops only.

    A version without yoto metadata is not vouched for: it counts as needing custom ops.
    """
    newest = model_root / str(existing_versions(model_root)[-1])
    try:
        return bool(read_metadata(newest).get("stock_ops_only", False))
    except (FileNotFoundError, ValueError):
        return False


def models_config_text(base_dir, stock_only: bool = True) -> str:
    """A ModelServer `--model_config_file` text proto for the models under `base_dir`.

    With `stock_only`, only the models a stock ModelServer can load (their newest
    version's metadata says `stock_ops_only`); otherwise every model.
    """
    base = pathlib.Path(base_dir).resolve()
    config = model_server_config_pb2.ModelServerConfig()
    for model_root in sorted(p for p in base.iterdir() if p.is_dir()):
        if not existing_versions(model_root):
            continue
        if stock_only and not _stock_ops_only(model_root):
            continue
        model = config.model_config_list.config.add()
        model.name = model_root.name
        model.base_path = str(model_root)
        model.model_platform = "tensorflow"
    return text_format.MessageToString(config)


def batching_parameters_text(parameters: Mapping) -> str:
    """The BatchingParameters text proto of `parameters`, one field a line.

    Keys as `read_batching_parameters` returns them; a field set to None is left
    out (the server's default).
    """
    lines = []
    for key, value in parameters.items():
        if key in _WRAPPED_INT_FIELDS:
            if value is not None:
                lines.append(f"{key} {{ value: {int(value)} }}")
        elif key in _BOOL_FIELDS:
            lines.append(f"{key}: {'true' if value else 'false'}")
        elif key in _REPEATED_INT_FIELDS:
            lines.extend(f"{key}: {int(size)}" for size in value)
        else:
            raise ValueError(f"{key!r} is not a BatchingParameters field this module writes.")
    return "\n".join(lines) + "\n"


def read_batching_parameters(path) -> dict:
    """Parses a BatchingParameters text proto written one field a line, as this module writes it.

    Returns `max_batch_size`, `batch_timeout_micros`, `max_enqueued_batches` and
    `num_batch_threads` (None where the file leaves the server's default),
    `pad_variable_length_inputs` (False unless set) and, if the file has any,
    `allowed_batch_sizes` (a list). Blank lines and `#` comments are skipped.
    Raises ValueError naming the file and line for anything else.
    """
    path = pathlib.Path(path)
    parameters: dict = dict.fromkeys(_WRAPPED_INT_FIELDS)
    parameters["pad_variable_length_inputs"] = False
    seen = set()
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        wrapped = re.fullmatch(r"(\w+)\s*\{\s*value\s*:\s*(\d+)\s*\}", line)
        plain = re.fullmatch(r"(\w+)\s*:\s*(\w+)", line)
        key = (wrapped or plain).group(1) if (wrapped or plain) else None
        if wrapped and key in _WRAPPED_INT_FIELDS:
            value = int(wrapped.group(2))
        elif plain and key in _BOOL_FIELDS and plain.group(2) in ("true", "false"):
            value = plain.group(2) == "true"
        elif plain and key in _REPEATED_INT_FIELDS and plain.group(2).isdigit():
            parameters.setdefault(key, []).append(int(plain.group(2)))
            continue
        else:
            raise ValueError(
                f"{path}:{number}: expected one BatchingParameters field, "
                f"`name {{ value: N }}` ({', '.join(_WRAPPED_INT_FIELDS)}), "
                f"`pad_variable_length_inputs: true|false` or `allowed_batch_sizes: N`; "
                f"got {raw.strip()!r}"
            )
        if key in seen:
            raise ValueError(f"{path}:{number}: {key} is set twice")
        seen.add(key)
        parameters[key] = value
    return parameters


def write_batching_parameters(saved_model_dir, parameters: Mapping) -> pathlib.Path:
    """Writes `<version>/batching_params.pbtxt`, which makes TF Serving batch that model."""
    path = pathlib.Path(saved_model_dir) / BATCHING_PARAMS_FILE
    path.write_text(batching_parameters_text(parameters))
    return path


def batching_config_text() -> str:
    """The global `--batching_parameters_file`, for use with per-model batching parameters."""
    return (
        "# tensorflow_model_server --enable_batching --enable_per_model_batching_parameters\n"
        "#     --batching_parameters_file=<this file>\n"
        "# Under per-model parameters only the thread pool below is read from here: it runs\n"
        "# the batches of every batched model (those with batching_params.pbtxt in their\n"
        "# version directory). Without --enable_per_model_batching_parameters the server\n"
        "# would batch every model, which the image models cannot take (a batch merges only\n"
        "# requests of equal image size).\n"
        + batching_parameters_text({"num_batch_threads": SHARED_BATCH_THREADS})
    )


def write_models_config(base_dir) -> list[pathlib.Path]:
    """Writes `models.config` (stock-op models) and `models_custom_ops.config` (every model).

    Both atomically, so a ModelServer polling its config never reads half of one.
    Returns their paths, in that order.
    """
    base = pathlib.Path(base_dir)
    return [
        atomic.write_text(base / MODELS_CONFIG, models_config_text(base, stock_only=True)),
        atomic.write_text(
            base / CUSTOM_OPS_MODELS_CONFIG, models_config_text(base, stock_only=False)
        ),
    ]


def write_batching_config(base_dir) -> pathlib.Path:
    """Writes `<base>/batching.config` atomically and returns its path."""
    return atomic.write_text(pathlib.Path(base_dir) / BATCHING_CONFIG, batching_config_text())
