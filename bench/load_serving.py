"""A bounded load test of every servable through the TF Serving test double, on loopback.

    nice -n 5 .venv/bin/python bench/load_serving.py --seconds=20 --clients_per_model=2

Exports each zoo task (runlocal configs by default: the load, not the model, is
measured) as TF Serving would serve it: `vae` (beta-VAE, batched through its own
`batching_params.pbtxt`), `codec` (the stock-op codec), `codec_full` (the range-coding
codec, on a double standing for a server built with tensorflow-compression's ops) and
`style`. Then, once without batching and once with `--enable_batching
--enable_per_model_batching_parameters`, concurrent gRPC and REST clients send valid
requests and a share of bad ones for `--seconds`, and `vae` gets a new version halfway.
Prints a markdown table of throughput and p50/p99 latency per model, the batching /
no batching ratios, and the counts that must be zero (failed valid requests, accepted
bad ones). The library is `tests/serving_load.py`; the double is Python, so absolute
numbers say little about the C++ ModelServer, the ratios and the zero counts more.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from absl import app, flags

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # For tests.serving_*.

from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

flags.DEFINE_float("seconds", 20.0, "Duration of each mode (no batching, batching).")
flags.DEFINE_integer("clients_per_model", 2, "Concurrent clients of each model.")
flags.DEFINE_float("bad_share", 0.1, "Share of bad requests.")
flags.DEFINE_bool("full_codec", True, "Also serve the range-coding codec (custom ops).")
flags.DEFINE_bool("runlocal", True, "Export the small runlocal configs (else the defaults).")
flags.DEFINE_integer("seed", 0, "Seed of the models and of the clients' requests.")
FLAGS = flags.FLAGS


def export_servables(base: Path, runlocal: bool, full_codec: bool, seed: int) -> dict[str, str]:
    """Exports the zoo's servables under `base`; served name -> task plan name."""
    import tensorflow as tf

    from export import export_lib
    from zoo.beta_vae import config as vae_config
    from zoo.beta_vae import model as beta_vae
    from zoo.compression import config as codec_config
    from zoo.compression import model as compression
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import model as style_transfer

    def config(module):
        return module.Config.runlocal() if runlocal else module.Config()

    tf.keras.utils.set_random_seed(seed)
    codec = compression.build_model(config(codec_config))
    export_lib.export_model("beta_vae", beta_vae.build_model(config(vae_config)), base, "vae")
    export_lib.export_model("compression", codec, base, "codec", stock=True)
    export_lib.export_model(
        "style_transfer", style_transfer.build_model(config(style_config)), base, "style"
    )
    names = {"vae": "beta_vae", "codec": "compression_stock", "style": "style_transfer"}
    if full_codec:
        export_lib.export_model("compression", codec, base, "codec_full")
        names["codec_full"] = "compression"
    return names


def main(argv):
    """Exports the servables, runs both modes and prints the table; 1 if anything was lost."""
    del argv
    from export import layout
    from tests import serving_double, serving_load

    base = Path(tempfile.mkdtemp())
    names = export_servables(base / "exported", FLAGS.runlocal, FLAGS.full_codec, FLAGS.seed)
    config_name = layout.CUSTOM_OPS_MODELS_CONFIG if FLAGS.full_codec else layout.MODELS_CONFIG
    results = {}
    for mode in ("no batching", "batching"):
        # A fresh copy per mode: the version swap adds a version.
        served = base / mode.replace(" ", "_")
        shutil.copytree(base / "exported", served)
        layout.write_models_config(served)
        options = {"max_num_load_retries": 0, "custom_ops": FLAGS.full_codec}
        if mode == "batching":
            options.update(
                enable_batching=True,
                batching_parameters=layout.read_batching_parameters(
                    served / layout.BATCHING_CONFIG
                ),
                enable_per_model_batching_parameters=True,
            )
        server = serving_double.ModelServer(served / config_name, **options)
        try:
            results[mode] = serving_load.run_load(
                server,
                served,
                serving_load.zoo_plans(names),
                FLAGS.seconds,
                clients_per_model=FLAGS.clients_per_model,
                bad_share=FLAGS.bad_share,
                seed=FLAGS.seed,
                swap_model="vae",
            )
        finally:
            server.stop()
    print(
        f"{len(names)} models x {FLAGS.clients_per_model} clients (gRPC and REST), "
        f"{FLAGS.seconds:g} s per mode, {FLAGS.bad_share:.0%} bad requests, loopback\n"
    )
    print(serving_load.format_report(results))
    for mode, report in results.items():
        for failure in report["valid_failures"][:10] + report["bad_accepted"][:10]:
            print(f"{mode}: {failure}")
    shutil.rmtree(base, ignore_errors=True)
    failed = any(
        r["valid_failures"] or r["bad_accepted"] or not r["swap"] for r in results.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    app.run(lambda argv: sys.exit(main(argv)))
