"""Which ops of every servable have a GPU kernel: the markdown table in serving/README.md.

    nice -n 5 .venv/bin/python experiments/gpu_placement.py [--runlocal=false]

Exports each servable of the zoo (runlocal configs by default: the op types and dtypes
are those of the full-size models) and prints, per servable, how many op and dtype
combinations TensorFlow's kernel registry runs on the GPU, on the GPU with some
arguments in host memory, or on the CPU only, with `export.list_ops.cpu_reason` for the
last. The full codec's range-coding ops get their kernels from tensorflow-compression.
"""

from __future__ import annotations

import collections
import sys
import tempfile
from pathlib import Path

from absl import app, flags

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

flags.DEFINE_bool("runlocal", True, "Export the small runlocal configs (else the defaults).")
FLAGS = flags.FLAGS


def main(argv):
    """Exports every servable and prints the placement summary."""
    del argv
    import tensorflow as tf
    import tensorflow_compression  # noqa: F401  Registers the range coder's kernels.

    from export import export_lib, list_ops
    from zoo.beta_vae import config as vae_config
    from zoo.beta_vae import model as beta_vae
    from zoo.compression import config as codec_config
    from zoo.compression import model as compression
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import model as style_transfer

    def config(module):
        return module.Config.runlocal() if FLAGS.runlocal else module.Config()

    tf.keras.utils.set_random_seed(0)
    base = Path(tempfile.mkdtemp())
    codec = compression.build_model(config(codec_config))
    dirs = {
        "beta_vae": export_lib.export_model(
            "beta_vae", beta_vae.build_model(config(vae_config)), base, "beta_vae"
        ),
        "compression_stock": export_lib.export_model(
            "compression", codec, base, "compression_stock", stock=True
        ),
        "compression": export_lib.export_model("compression", codec, base, "compression"),
        "style_transfer": export_lib.export_model(
            "style_transfer", style_transfer.build_model(config(style_config)), base, "style"
        ),
    }
    print(
        f"TensorFlow {tf.__version__}, GPU kernels registered: {list_ops.gpu_kernels_registered()}"
    )
    print(
        "| servable | GPU | GPU, some args in host memory | CPU only (op dtypes: signatures, why) |"
    )
    print("|---|---|---|---|")
    for name, directory in dirs.items():
        table = list_ops.placement_table(directory)
        counts = collections.Counter(row["kernel"] for row in table)
        cpu = [
            f"`{row['op']}` {row['dtypes']}: {', '.join(row['signatures'])} "
            f"({list_ops.cpu_reason(row)})"
            for row in table
            if row["kernel"] in (list_ops.CPU_ONLY, list_ops.NOT_REGISTERED)
        ]
        print(
            f"| {name} | {counts[list_ops.GPU]} | {counts[list_ops.GPU_HOST_MEMORY]} | "
            f"{'; '.join(cpu) or 'none'} |"
        )
        float64 = sorted({row["op"] for row in table if "float64" in row["dtypes"]})
        if float64:
            kinds = {row["kernel"] for row in table if "float64" in row["dtypes"]}
            print(f"|  | float64 ops: {', '.join(float64)}: {', '.join(sorted(kinds))} | | |")


if __name__ == "__main__":
    app.run(main)
