"""Decodes `.yoto` files in processes of their own, to compare numeric settings across processes.

    python -m tests.cross_platform_worker decode STOCK_SERVABLE_DIR FILES_DIR OUTPUT.npz
    python -m tests.cross_platform_worker indexes STOCK_SERVABLE_DIR REQUESTS.npz OUTPUT.npz

`decode`: each `*.yoto` file in FILES_DIR is decoded through the stock-op servable
(range decoding here, `scale_indexes` and `synthesize` through the SavedModel),
recording its scale indexes, latent symbols and pixels, or the error it failed with.
`indexes`: only the servable's `scale_indexes` signature, on the side symbols and
lambdas in REQUESTS.npz (and the latent symbols, for a context model's servable, whose
indexes of each slice read the slices before it); it imports nothing but TensorFlow and
NumPy, so it runs in another TensorFlow release's virtual environment
(tensorflow-compression, which range decoding needs, exists only up to TensorFlow 2.14).

`decode_in_processes` runs a worker per numeric setting (`SETTINGS`: environment
variables of TensorFlow and oneDNN) and collects what each decoded.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
# Each decoding process's environment: TensorFlow's and oneDNN's numeric switches.
SETTINGS = {
    "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn_on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn_avx2_only": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "one_thread": {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"},
    "xla_auto_jit": {"TF_XLA_FLAGS": "--tf_xla_auto_jit=2 --tf_xla_cpu_global_jit"},
}


def _decode(stock_dir, files_dir) -> tuple[dict, dict]:
    from serving import codec_client

    client = codec_client.StockCodecClient(codec_client.in_process_predict(stock_dir))
    arrays, errors = {}, {}
    for path in sorted(pathlib.Path(files_dir).glob("*.yoto")):
        try:
            decoded = client.decode_steps(path.read_bytes())
        except Exception as error:  # noqa: BLE001  Every failure is a result to report.
            errors[path.stem] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            continue
        for name, value in decoded.items():
            arrays[f"{path.stem}/{name}"] = value
    return arrays, errors


def _indexes(stock_dir, requests_path) -> tuple[dict, dict]:
    import tensorflow as tf

    scale_indexes = tf.saved_model.load(str(stock_dir)).signatures["scale_indexes"]
    arrays, errors = {}, {}
    with np.load(requests_path) as requests:
        names = sorted({key.split("/")[0] for key in requests.files})
        for name in names:
            try:
                inputs = {
                    key.split("/")[1]: tf.constant(requests[key])
                    for key in requests.files
                    if key.startswith(f"{name}/")
                }
                outputs = scale_indexes(**inputs)
            except Exception as error:  # noqa: BLE001
                errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
                continue
            arrays[f"{name}/scale_indexes"] = outputs["scale_indexes"].numpy()[0]
    return arrays, errors


def main(argv) -> int:
    """Runs one mode and writes `OUTPUT.npz` (arrays) and `OUTPUT.json` (errors by file)."""
    mode, stock_dir, inputs, output = argv[1:5]
    arrays, errors = (_decode if mode == "decode" else _indexes)(stock_dir, inputs)
    np.savez(output, **arrays)
    pathlib.Path(output).with_suffix(".json").write_text(json.dumps(errors, indent=1))
    return 0


def decode_in_processes(
    stock_dir, inputs, output_dir, settings=SETTINGS, mode="decode", python=sys.executable
) -> dict:
    """Runs a worker per setting, all at once; returns `{setting: (arrays, errors)}`.

    `inputs` is the folder of files (`decode`) or the requests file (`indexes`); `python`
    the interpreter, for example another virtual environment's.
    """
    processes = {}
    for name, variables in settings.items():
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "2"}
        environment.update(variables)
        output = pathlib.Path(output_dir) / f"{name}.npz"
        command = [python, "-m", "tests.cross_platform_worker", mode, str(stock_dir), str(inputs)]
        process = subprocess.Popen(
            [*command, str(output)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=REPOSITORY,
        )
        processes[name] = (process, output)
    results = {}
    for name, (process, output) in processes.items():
        log, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"{name} worker failed:\n{log.decode()[-3000:]}")
        arrays = dict(np.load(output))
        errors = json.loads(output.with_suffix(".json").read_text())
        results[name] = (arrays, errors)
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv))
