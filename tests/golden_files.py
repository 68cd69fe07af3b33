"""The golden artefacts in tests/golden/: where they are, and how to read them back.

`tests/golden/record.py` writes them (deliberately, once per intended format change)
and `tests/test_golden.py` checks that today's code still reads and reproduces them.
Both use this module, so that a recorded file and its check cannot drift apart.

Layout of tests/golden/:

    manifest.json                    what was recorded, by which commands, at which commit
    <task>/run/                      a training dir written by yoto-train (config.json,
                                     checkpoints/); style_transfer's checkpoint leaves out
                                     its frozen random loss network (see `LEFT_OUT_FILE`)
    <task>/saved_model_outputs*.npz  every signature's inputs and outputs, per SavedModel
    compression/photo.png            the image the codec files were made from
    compression/photo_lmbda<L>.yoto  `yoto-codec compress` at lambda L, and
    compression/photo_lmbda<L>.png   `yoto-codec decompress` of that file
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import struct

import numpy as np
import tensorflow as tf

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
MANIFEST_FILE = "manifest.json"
TASKS = ("beta_vae", "compression", "style_transfer")
# Steps each task trains with --runlocal (the resume tests add one). The codec trains
# 200: after a few steps every latent and side symbol quantises to 0 and every scale
# index is 0, so its files would exercise no range coding worth the name; after 200 the
# photo's symbols take 7 to 8 values and its scale indexes 11.
RECORDED_STEPS = {"beta_vae": 2, "compression": 200, "style_transfer": 2}
SEED = 0
# The codec files: a 48 x 64 crop of a bundled photograph (not a multiple of the codec's
# 64-pixel stride, so padding is exercised) at both ends of the trained lambda range.
PHOTO_NAME, PHOTO_CROP = "china", (slice(100, 148), slice(200, 264))
LMBDAS = (0.0018, 0.18)

# Style transfer's runlocal config uses a random, frozen VGG16 as its loss network: 2.9M
# floats, 11.8 MB of its 11.8 MB checkpoint, and incompressible. The committed checkpoint
# leaves those values out; `LEFT_OUT_FILE` lists each left-out tensor's shape, dtype and
# sha256, and `copy_run` puts them back. They are regenerated exactly as training made
# them: `keras.applications.VGG16(weights=None, include_top=False)` built right after
# `tf.keras.utils.set_random_seed(seed)`, which is the first thing `build_model` creates.
LEFT_OUT_FILE = "left_out.json"
LOSS_NETWORK_PREFIX = "model/loss_network/"
_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def run_dir(task: str, root=GOLDEN) -> pathlib.Path:
    """The recorded training dir of `task` (not directly usable for style_transfer: copy it)."""
    return pathlib.Path(root) / task / "run"


def outputs_file(model_name: str, root=GOLDEN) -> pathlib.Path:
    """The recorded signature inputs and outputs of the SavedModel exported as `model_name`."""
    task = "compression" if model_name.startswith("compression") else model_name
    return pathlib.Path(root) / task / f"saved_model_outputs_{model_name}.npz"


def codec_file(lmbda: float, suffix: str, root=GOLDEN) -> pathlib.Path:
    """The recorded `.yoto` file (suffix "yoto") or its decoded PNG (suffix "png") at `lmbda`."""
    return pathlib.Path(root) / "compression" / f"photo_lmbda{lmbda:g}.{suffix}"


def photo_file(root=GOLDEN) -> pathlib.Path:
    """The PNG of `photo()` that the codec files were compressed from."""
    return pathlib.Path(root) / "compression" / "photo.png"


def photo() -> np.ndarray:
    """The crop of a bundled photograph that the codec files were made from."""
    from zoo.data import photos

    return photos.load_bundled(PHOTO_NAME)[PHOTO_CROP]


def sha256(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def latest_checkpoint(model_dir) -> str:
    """The latest checkpoint prefix in a training dir, or a FileNotFoundError naming it."""
    latest = tf.train.latest_checkpoint(str(pathlib.Path(model_dir) / "checkpoints"))
    if latest is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}/checkpoints.")
    return latest


def checkpoint_values(prefix) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint at `prefix`, the object graph included, by key."""
    reader = tf.train.load_checkpoint(str(prefix))
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_dtype_map()}


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, position


def _table_entries(buffer: bytes, offset: int, size: int):
    """The (key, value) entries of one uncompressed block of a LevelDB-format table."""
    block = buffer[offset : offset + size]
    if buffer[offset + size] != 0:
        raise ValueError("A compressed checkpoint index block: not written by TensorFlow 2.14.")
    (restarts,) = struct.unpack("<I", block[-4:])
    end, position, key = len(block) - 4 - 4 * restarts, 0, b""
    while position < end:
        shared, position = _varint(block, position)
        unshared, position = _varint(block, position)
        length, position = _varint(block, position)
        key = key[:shared] + block[position : position + unshared]
        position += unshared
        yield key, block[position : position + length]
        position += length


def tensor_order(prefix) -> list[str]:
    """The checkpoint's keys in the order of their bytes in its data file.

    tf.train.Checkpoint writes tensors in object-graph order, the object graph last;
    writing them back in that order reproduces its files byte for byte. Read from the
    index, a LevelDB-format table of BundleEntryProto (footer: the index block's handle).
    """
    from tensorflow.core.protobuf import tensor_bundle_pb2

    index = pathlib.Path(f"{prefix}.index").read_bytes()
    footer = index[-48:]
    _, position = _varint(footer, 0)
    _, position = _varint(footer, position)
    index_offset, position = _varint(footer, position)
    index_size, _ = _varint(footer, position)
    offsets = {}
    for _, handle in _table_entries(index, index_offset, index_size):
        block_offset, position = _varint(handle, 0)
        block_size, _ = _varint(handle, position)
        for key, value in _table_entries(index, block_offset, block_size):
            if key:  # The empty key holds the bundle's header.
                entry = tensor_bundle_pb2.BundleEntryProto.FromString(value)
                offsets[key.decode()] = entry.offset
    return sorted(offsets, key=offsets.get)


def write_checkpoint_values(prefix, values: dict[str, np.ndarray], order=None) -> None:
    """Writes `values` as a checkpoint at `prefix`, their bytes in `order` (default: by key)."""
    keys = list(order) if order is not None else sorted(values)
    if sorted(keys) != sorted(values):
        raise ValueError(f"The order {keys} does not list exactly the keys {sorted(values)}.")
    tensors = [tf.constant(values[key]) for key in keys]
    tf.raw_ops.SaveV2(
        prefix=str(prefix), tensor_names=keys, shape_and_slices=[""] * len(keys), tensors=tensors
    )


def _array_sha256(value: np.ndarray) -> str:
    return sha256(np.ascontiguousarray(value).tobytes())


def regenerated_loss_network(seed: int) -> dict[str, np.ndarray]:
    """The random VGG16 values that a runlocal style_transfer run of `seed` checkpointed."""
    tf.keras.utils.set_random_seed(seed)
    vgg = tf.keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    values = {}
    for index, layer in enumerate(layer for layer in vgg.layers if layer.weights):
        kernel, bias = layer.get_weights()
        key = f"{LOSS_NETWORK_PREFIX}layer_with_weights-{index}"
        values[f"{key}/kernel/.ATTRIBUTES/VARIABLE_VALUE"] = kernel
        values[f"{key}/bias/.ATTRIBUTES/VARIABLE_VALUE"] = bias
    return values


def leave_out_loss_network(run: pathlib.Path, seed: int) -> dict:
    """Rewrites `run`'s latest checkpoint without the loss network; returns what was left out.

    Refuses (ValueError) unless `regenerated_loss_network(seed)` gives those values back
    bit for bit and the reassembled checkpoint files equal the originals byte for byte.
    """
    prefix = latest_checkpoint(run)
    originals = {
        path.name: path.read_bytes() for path in pathlib.Path(prefix).parent.glob("ckpt-*")
    }
    values = checkpoint_values(prefix)
    left_out = {key: value for key, value in values.items() if key.startswith(LOSS_NETWORK_PREFIX)}
    regenerated = regenerated_loss_network(seed)
    for key, value in left_out.items():
        if key not in regenerated or not np.array_equal(regenerated[key], value):
            raise ValueError(f"The regenerated VGG16 does not give {key} back: keep it.")
    record = {
        "prefix": LOSS_NETWORK_PREFIX,
        "seed": seed,
        "checkpoint": pathlib.Path(prefix).name,
        "order": tensor_order(prefix),
        "tensors": {
            key: {
                "shape": list(value.shape),
                "dtype": str(value.dtype),
                "sha256": _array_sha256(value),
            }
            for key, value in sorted(left_out.items())
        },
        "files_sha256": {name: sha256(data) for name, data in sorted(originals.items())},
    }
    kept = {key: value for key, value in values.items() if key not in left_out}
    for name in originals:
        (pathlib.Path(prefix).parent / name).unlink()
    write_checkpoint_values(prefix, kept)
    (run / LEFT_OUT_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def restore_left_out(run: pathlib.Path) -> None:
    """Puts the left-out loss network back into `run`'s checkpoint (a copy: it rewrites it).

    Raises ValueError naming the first value or file that does not match what was recorded.
    """
    record = json.loads((run / LEFT_OUT_FILE).read_text())
    prefix = run / "checkpoints" / record["checkpoint"]
    values = checkpoint_values(prefix)
    regenerated = regenerated_loss_network(record["seed"])
    for key, expected in record["tensors"].items():
        value = regenerated.get(key)
        if value is None or _array_sha256(value) != expected["sha256"]:
            raise ValueError(
                f"Regenerating {key} of {run} did not give the recorded values back "
                f"(sha256 {expected['sha256'][:12]}): tests/golden_files.py's VGG16 recipe "
                "no longer matches what the recording's training run built."
            )
        values[key] = value
    for path in prefix.parent.glob(prefix.name + ".*"):
        path.unlink()
    write_checkpoint_values(prefix, values, record["order"])
    for name, expected in record["files_sha256"].items():
        got = sha256((prefix.parent / name).read_bytes())
        if got != expected:
            raise ValueError(
                f"Reassembled {prefix.parent / name} differs from the file yoto-train wrote "
                f"(sha256 {got[:12]}, recorded {expected[:12]})."
            )
    (run / LEFT_OUT_FILE).unlink()


def copy_run(task: str, destination, root=GOLDEN) -> pathlib.Path:
    """Copies `task`'s recorded training dir to `destination`, complete and ready to use.

    Recorded runs are never used in place: training, exporting and evaluating them must
    not touch the golden files.
    """
    destination = pathlib.Path(destination)
    shutil.copytree(run_dir(task, root), destination)
    if (destination / LEFT_OUT_FILE).exists():
        restore_left_out(destination)
    return destination


# The fixed inputs each SavedModel's signatures are run on; a signature whose inputs are
# another's outputs is run after it (the decoders get what the encoders made).
def fixed_inputs(model_name: str) -> dict[str, dict[str, np.ndarray]]:
    """Signature name -> its inputs, for the signatures that take fixed (recorded) inputs."""
    from zoo.data import mnist as data
    from zoo.data import photos

    if model_name == "beta_vae":
        inputs = {
            "images": data.load_mnist("test")[:4],
            "beta": np.float32([0.125, 1.0, 8.0, 512.0]),
        }
        sample = {"beta": inputs["beta"], "seed": np.int64([1, 2, 3, 4])}
        return {
            "serving_default": inputs,
            "reconstruct": inputs,
            "loss_terms": inputs,
            "sample": sample,
        }
    if model_name.startswith("compression"):
        china = photos.load_bundled("china")
        images = np.stack([china[:64, :64], china[200:264, 300:364]])
        inputs = {"images": images, "lmbda": np.float32(LMBDAS)}
        names = ("serving_default", "reconstruct")
        names += ("analyze",) if model_name.endswith("_stock") else ("compress",)
        return {name: inputs for name in names}
    if model_name == "style_transfer":
        astronaut = photos.load_bundled("astronaut")
        images = np.stack([astronaut[100:164, 200:264], astronaut[300:364, 150:214]])
        # content, style_1..4: one single style and one blend.
        weights = np.float32([[1.0, 1.0, 0.0, 0.0, 0.0], [0.3, 0.25, 0.25, 0.25, 0.25]])
        inputs = {"images": images, "loss_weights": weights}
        return {name: inputs for name in ("serving_default", "stylize", "loss_terms")}
    raise ValueError(f"No fixed inputs for the SavedModel {model_name!r}.")


# Outputs that export format 2 renamed (CHANGELOG.md): TF Serving's REST API base64-encodes
# only string outputs whose names end in `_bytes`. Recorded name -> today's name; the
# recorded values must come back under the new name.
RENAMED_OUTPUTS = {
    "compress/latent_strings": "compress/latent_strings_bytes",
    "compress/side_strings": "compress/side_strings_bytes",
    "coding_tables/coding_fingerprint": "coding_tables/coding_fingerprint_bytes",
}


def chained_inputs(model_name: str, outputs: dict) -> dict[str, dict[str, np.ndarray]]:
    """The inputs of the signatures fed by other signatures' `outputs` ("signature/output")."""
    if model_name == "compression":
        lmbda = np.float32(LMBDAS)
        coded = {
            name: outputs[RENAMED_OUTPUTS.get(f"compress/{name}", f"compress/{name}")]
            for name in ("latent_strings", "side_strings", "side_shape")
        }
        return {"decompress": {**coded, "lmbda": lmbda}}
    if model_name == "compression_stock":
        lmbda = np.float32(LMBDAS)
        return {
            "scale_indexes": {"side_symbols": outputs["analyze/side_symbols"], "lmbda": lmbda},
            "synthesize": {"latent_symbols": outputs["analyze/latent_symbols"], "lmbda": lmbda},
            "coding_tables": {"rows": np.int32([0, 0])},
        }
    return {}


def run_signatures(model_name: str, version_dir) -> dict[str, np.ndarray]:
    """Runs every signature of a SavedModel on the fixed inputs: "signature/name" -> array.

    Inputs are included as "signature/inputs/name", so a recording says what it ran on.
    """
    loaded = tf.saved_model.load(str(version_dir))
    results = {}
    for stage in (fixed_inputs, chained_inputs):
        plans = stage(model_name) if stage is fixed_inputs else chained_inputs(model_name, results)
        for signature, inputs in plans.items():
            outputs = loaded.signatures[signature](
                **{name: tf.constant(value) for name, value in inputs.items()}
            )
            results.update({f"{signature}/inputs/{k}": np.asarray(v) for k, v in inputs.items()})
            results.update({f"{signature}/{k}": v.numpy() for k, v in outputs.items()})
    missing = set(loaded.signatures) - {key.split("/")[0] for key in results}
    if missing:
        raise ValueError(f"{model_name}: signatures {sorted(missing)} have no inputs here.")
    return results


def save_arrays(path, arrays: dict[str, np.ndarray]) -> None:
    """Writes `arrays` as .npz; string arrays as their bytes (exactly: no trailing-NUL loss)."""
    stored = {}
    for key, value in arrays.items():
        if value.dtype == object:
            items = [bytes(item) for item in value.ravel()]
            stored[f"{key}#bytes"] = np.frombuffer(b"".join(items), np.uint8)
            stored[f"{key}#lengths"] = np.int64([len(item) for item in items]).reshape(value.shape)
        else:
            stored[key] = value
    np.savez_compressed(path, **stored)


def load_arrays(path) -> dict[str, np.ndarray]:
    """Reads what `save_arrays` wrote; string arrays come back as object arrays of bytes."""
    with np.load(path) as stored:
        raw = {key: stored[key] for key in stored.files}
    arrays = {key: value for key, value in raw.items() if "#" not in key}
    for key in {key.split("#")[0] for key in raw if "#" in key}:
        data, lengths = raw[f"{key}#bytes"].tobytes(), raw[f"{key}#lengths"]
        ends = np.cumsum(lengths.ravel())
        items = [
            data[end - length : end] for end, length in zip(ends, lengths.ravel(), strict=True)
        ]
        arrays[key] = np.array(items, dtype=object).reshape(lengths.shape)
    return arrays


def exported_outputs(task: str, model_dir, base_dir) -> dict[str, dict[str, np.ndarray]]:
    """Exports `model_dir` as yoto-export does and runs each SavedModel's signatures.

    Returns SavedModel name ("beta_vae", "compression", "compression_stock", ...) ->
    `run_signatures`' arrays. The global seed is set to the run's first, because a
    runlocal style_transfer model computes its style Grams and term scales from the
    random VGG that `build_model` makes before the checkpoint overwrites it: only with
    the training run's seed are they the ones it trained with (and the same every time).
    """
    from export import export_lib

    tf.keras.utils.set_random_seed(SEED)
    version_dirs = export_lib.export_all(model_dir, base_dir, task)
    return {
        pathlib.Path(version_dir).parent.name: run_signatures(
            pathlib.Path(version_dir).parent.name, version_dir
        )
        for version_dir in version_dirs
    }
