"""What a context model's extra calls cost a stock-op codec client, over gRPC and REST.

    .venv/bin/python bench/bench_context_serving.py [--width=runlocal|release] [--repeats=7]

A channel-context codec (`Config.entropy_model`, issue 36) decodes slice by slice: the
client (`serving/codec_client.py`) asks the stock-op servable for the scale indexes once
per slice, with the symbols it has decoded so far, where a scale-hyperprior client asks
once. This exports a stock-op servable of each entropy model (untrained, seeded:
speed does not depend on training), serves them with the TF Serving test double
(`tests/serving_double.py`, loopback), encodes one 768x512 photograph crop per model and
times decoding it through gRPC and REST. Prints per-image decode medians side by side,
the ratio of each model to the scale hyperprior, and the requests per decode. The double
is Python, not the C++ ModelServer: its per-request overhead is an upper bound on what
TF Serving adds.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

import timing
from absl import app, flags

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # For tests.serving_double.

from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

ENTROPY_MODELS = ("scale", "mean_scale", "channel_context")
flags.DEFINE_enum(
    "width",
    "runlocal",
    ["runlocal", "release"],
    "runlocal: the tiny test config (transforms cheap, so the calls' overhead shows); "
    "release: 96/192/64 filters like the released codec.",
)
flags.DEFINE_list("entropy_models", list(ENTROPY_MODELS), "Entropy models to compare.")
flags.DEFINE_integer("repeats", 7, "Timed decodes per model and protocol (median reported).")
flags.DEFINE_float("lmbda", 0.01, "Lambda to encode at.")
FLAGS = flags.FLAGS


def _config(entropy_model: str, width: str):
    from zoo.compression import config as compression_config

    if width == "runlocal":
        config = dataclasses.replace(compression_config.Config.runlocal(), context_filters=8)
    else:
        config = dataclasses.replace(
            compression_config.Config(),
            num_filters=96,
            num_latent_filters=192,
            num_hyper_filters=64,
        )
    return dataclasses.replace(config, entropy_model=entropy_model)


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from export import export_lib, layout
    from serving import client as serving_client
    from serving import codec_client
    from tests import serving_double
    from zoo.compression import codec
    from zoo.compression import model as compression
    from zoo.data import photos

    unknown = set(FLAGS.entropy_models) - set(ENTROPY_MODELS)
    if unknown or "scale" not in FLAGS.entropy_models:
        print(f"bench_context_serving: --entropy_models must include scale, of {ENTROPY_MODELS}")
        return 2
    image = photos.load_bundled("china")
    if image.shape[0] < 512 or image.shape[1] < 768:
        image = np.tile(image, [2, 2, 1])
    image = image[:512, :768]
    base = Path(tempfile.mkdtemp())
    models = {}
    for name in FLAGS.entropy_models:
        tf.keras.utils.set_random_seed(0)
        models[name] = compression.build_model(_config(name, FLAGS.width))
        export_lib.export_model("compression", models[name], base, name, stock=True)
    layout.write_models_config(base)
    server = serving_double.ModelServer(
        base / layout.MODELS_CONFIG, max_num_load_retries=0, rest_api_timeout_in_ms=600_000
    )
    try:
        protocols = {
            "grpc": lambda name: serving_client.GrpcClient(
                server.grpc_address, name, timeout_seconds=600
            ),
            "rest": lambda name: serving_client.RestClient(
                server.rest_url, name, timeout_seconds=600
            ),
        }
        medians, requests = {}, {}
        for name, model in models.items():
            data = codec.Codec(model).encode(image, FLAGS.lmbda)
            expected = codec.Codec(model).reconstruct(image, FLAGS.lmbda)
            for protocol, make in protocols.items():
                calls = []
                predict = make(name).predict

                def counting(signature, inputs, predict=predict, calls=calls):
                    calls.append(signature)
                    return predict(signature, inputs)

                client = codec_client.StockCodecClient(counting)
                if not np.array_equal(client.decode(data), expected):  # Also warms up.
                    raise AssertionError(f"{name} over {protocol} decoded other pixels")
                del calls[:]
                client.decode(data)
                requests[name] = len(calls)
                medians[name, protocol] = timing.median_seconds(
                    lambda client=client, data=data: client.decode(data), FLAGS.repeats
                )
    finally:
        server.stop()
    megapixels = image.shape[0] * image.shape[1] / 1e6
    print(
        f"stock-op decode of one {image.shape[1]}x{image.shape[0]} image ({megapixels:.3f} MP), "
        f"{FLAGS.width} width, untrained, serving double on loopback, median of {FLAGS.repeats}"
    )
    print(f"{'entropy model':18s} {'requests':>8s} {'grpc ms':>9s} {'rest ms':>9s} "
          f"{'grpc/scale':>10s} {'rest/scale':>10s}")  # fmt: skip
    for name in models:
        grpc_ms, rest_ms = (1000 * medians[name, p] for p in protocols)
        print(
            f"{name:18s} {requests[name]:8d} {grpc_ms:9.1f} {rest_ms:9.1f} "
            f"{medians[name, 'grpc'] / medians['scale', 'grpc']:10.2f} "
            f"{medians[name, 'rest'] / medians['scale', 'rest']:10.2f}"
        )
    return 0


if __name__ == "__main__":
    app.run(main)
