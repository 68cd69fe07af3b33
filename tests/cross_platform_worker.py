"""Decodes `.yoto` files in a process of its own, to compare numeric settings across processes.

    python -m tests.cross_platform_worker STOCK_SERVABLE_DIR FILES_DIR OUTPUT.npz

Each `*.yoto` file in FILES_DIR is decoded through the stock-op servable (range
decoding here, `scale_indexes` and `synthesize` through the SavedModel), recording
its scale indexes, latent symbols and pixels, or the error it failed with. The
parent sets this process's numeric settings through the environment
(`TF_ENABLE_ONEDNN_OPTS`, `ONEDNN_MAX_CPU_ISA`, `TF_NUM_INTRAOP_THREADS`,
`TF_XLA_FLAGS`) and compares the results with the encoder's. Only stock TensorFlow
and the project's range-coding client are imported, so the same script runs in
another TensorFlow release's virtual environment with `PYTHONPATH` at the checkout.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np


def main(argv) -> int:
    """Decodes every file and writes `OUTPUT.npz` (arrays) and `OUTPUT.json` (errors)."""
    stock_dir, files_dir, output = argv[1:4]
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
    np.savez(output, **arrays)
    pathlib.Path(output).with_suffix(".json").write_text(json.dumps(errors, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
