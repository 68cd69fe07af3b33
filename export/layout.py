"""TF Serving's directory layout, written atomically.

    <base>/<model>/<version>/saved_model.pb
    <base>/<model>/<version>/variables/
    <base>/<model>/<version>/assets.extra/tf_serving_warmup_requests
    <base>/<model>/<version>/assets.extra/yoto_metadata.json
    <base>/<model>/<version>/assets.extra/...  task extras (style transfer: styles/style_N.png)
    <base>/models.config

A version is written into a hidden temporary directory beside its final place
and renamed into it, so a ModelServer polling `<base>/<model>` never sees half
a model (it ignores names that are not integers).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Mapping

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

from zoo import atomic

WARMUP_FILE = "tf_serving_warmup_requests"
METADATA_FILE = "yoto_metadata.json"
MODELS_CONFIG = "models.config"


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
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_root))
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


def write_metadata(saved_model_dir, metadata: Mapping) -> pathlib.Path:
    """Writes `assets.extra/yoto_metadata.json`: task, loss terms, weight ranges, inputs."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / METADATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return path


def write_extra_asset(saved_model_dir, relative: str, content: bytes) -> pathlib.Path:
    """Writes `assets.extra/<relative>`: a file that ships with the version, unread by serving."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def read_metadata(saved_model_dir) -> dict:
    """Reads the metadata written by `write_metadata`."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a SavedModel exported by yoto-export.")
    return json.loads(path.read_text())


def models_config_text(base_dir) -> str:
    """A ModelServer `--model_config_file` text proto for every model under `base_dir`."""
    base = pathlib.Path(base_dir).resolve()
    config = model_server_config_pb2.ModelServerConfig()
    for model_root in sorted(p for p in base.iterdir() if p.is_dir()):
        if not existing_versions(model_root):
            continue
        model = config.model_config_list.config.add()
        model.name = model_root.name
        model.base_path = str(model_root)
        model.model_platform = "tensorflow"
    return text_format.MessageToString(config)


def write_models_config(base_dir) -> pathlib.Path:
    """Writes `<base>/models.config` atomically and returns its path."""
    return atomic.write_text(pathlib.Path(base_dir) / MODELS_CONFIG, models_config_text(base_dir))
