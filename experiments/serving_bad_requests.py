"""What a client gets for each bad request from the TF Serving 2.14.1 test double.

    .venv/bin/python experiments/serving_bad_requests.py

Exports tiny untrained models, starts `tests/serving_double.py` without and with
batching, sends every bad request of the serving tests through `GrpcClient` and
`RestClient` (and the raw gRPC dtype case, which the clients catch first), and
after each one a good request. Prints one Markdown table row per case: the code,
the first line of the message, and whether the next good request was served.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # For tests/.

from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from export import export_lib, layout  # noqa: E402
from serving import client as serving_client  # noqa: E402
from tests import serving_double, test_serving  # noqa: E402
from zoo.beta_vae import config as vae_config  # noqa: E402
from zoo.beta_vae import model as beta_vae  # noqa: E402
from zoo.compression import config as compression_config  # noqa: E402
from zoo.compression import model as compression  # noqa: E402

VAE_IMAGES = np.zeros([2, 28, 28, 1], np.float32)
GOOD_VAE = {"images": VAE_IMAGES, "beta": np.float32([1, 2])}
CODEC_IMAGES = np.zeros([1, 64, 64, 3], np.uint8)
GOOD_CODEC = {"images": CODEC_IMAGES, "lmbda": np.float32([0.01])}

CASES = {
    "missing input": ("vae", "reconstruct", {"images": VAE_IMAGES}),
    "extra input": ("vae", "reconstruct", {**GOOD_VAE, "x": np.float32([1])}),
    "strings for a float": ("vae", "reconstruct", {**GOOD_VAE, "beta": ["a", "b"]}),
    "beta float64": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float64([1, 2])}),
    "scalar beta": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float32(1)}),
    "images rank 3": ("vae", "reconstruct", {**GOOD_VAE, "images": VAE_IMAGES[..., 0]}),
    "images 14x14": (
        "vae",
        "reconstruct",
        {**GOOD_VAE, "images": np.zeros([2, 14, 14, 1], np.float32)},
    ),
    "NaN beta": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float32([np.nan, 1])}),
    "negative beta": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float32([-1, 1])}),
    "beta out of range": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float32([1, 1e4])}),
    "one beta for two images": ("vae", "reconstruct", {**GOOD_VAE, "beta": np.float32([1])}),
    "empty batch": (
        "vae",
        "reconstruct",
        {"images": VAE_IMAGES[:0], "beta": np.zeros([0], np.float32)},
    ),
    "4 channels": (
        "codec",
        "analyze",
        {**GOOD_CODEC, "images": np.zeros([1, 64, 64, 4], np.uint8)},
    ),
    "height not a multiple of 64": (
        "codec",
        "analyze",
        {**GOOD_CODEC, "images": np.zeros([1, 40, 64, 3], np.uint8)},
    ),
    "too many pixels": (
        "codec",
        "analyze",
        {**GOOD_CODEC, "images": np.zeros([1, 192, 192, 3], np.uint8)},
    ),
    "pixel 300": ("codec", "analyze", {**GOOD_CODEC, "images": np.full([1, 64, 64, 3], 300)}),
    "unknown signature": ("vae", "nothing", GOOD_VAE),
    "unknown model": ("nothing", "reconstruct", GOOD_VAE),
}


def first_line(text: str) -> str:
    """The message's first line, short and safe inside a Markdown table."""
    return text.splitlines()[0][:150].replace("|", "\\|") if text else ""


def answer(client, signature: str, inputs) -> tuple[str, str]:
    """`(code, first line of the message)` of one call; `("OK", "")` when it was served."""
    try:
        client.predict(signature, inputs)
    except serving_client.ServingError as error:
        return error.code, first_line(error.message)
    return "OK", ""


def main():
    """Prints the table."""
    tf.keras.utils.set_random_seed(0)
    base = pathlib.Path(tempfile.mkdtemp())
    export_lib.export_model(
        "beta_vae", beta_vae.build_model(vae_config.Config.runlocal()), base, "vae"
    )
    export_lib.export_model(
        "compression",
        compression.build_model(compression_config.Config.runlocal()),
        base,
        "codec",
        stock=True,
        max_pixels=128 * 192,
    )
    config = base / layout.MODELS_CONFIG
    print("| server | case | transport | answer | message | next good request |")
    print("|---|---|---|---|---|---|")
    for batching in (False, True):
        server = serving_double.ModelServer(
            config, enable_batching=batching, max_num_load_retries=0
        )
        label = "batching" if batching else "no batching"
        for case, (model, signature, inputs) in CASES.items():
            for kind in ("gRPC", "REST"):
                make = serving_client.GrpcClient if kind == "gRPC" else serving_client.RestClient
                where = server.grpc_address if kind == "gRPC" else server.rest_url
                client = make(where, model)
                code, message = answer(client, signature, inputs)
                good_model = model if model != "nothing" else "vae"
                good = make(where, good_model)
                good_inputs = GOOD_VAE if good_model == "vae" else GOOD_CODEC
                good_signature = "reconstruct" if good_model == "vae" else "analyze"
                next_code, _ = answer(good, good_signature, good_inputs)
                print(f"| {label} | {case} | {kind} | {code} | {message} | {next_code} |")
        code, message = test_serving.raw_grpc_predict(
            server.grpc_address, "vae", "reconstruct", {**GOOD_VAE, "beta": np.float64([1, 2])}
        )
        print(
            f"| {label} | beta float64, raw request | gRPC | {code.name} | "
            f"{first_line(message if isinstance(message, str) else '')} | |"
        )
        server.stop()
    # Requests that meet in one batch (two one-example requests fill it).
    server = serving_double.ModelServer(
        config,
        enable_batching=True,
        batching_parameters={
            "max_batch_size": 2,
            "batch_timeout_micros": 10_000_000,
            "num_batch_threads": 1,
        },
        max_num_load_retries=0,
    )
    grpc_codec = serving_client.GrpcClient(server.grpc_address, "codec")
    rest_codec = serving_client.RestClient(server.rest_url, "codec")
    grpc_vae = serving_client.GrpcClient(server.grpc_address, "vae")
    rest_vae = serving_client.RestClient(server.rest_url, "vae")
    for client in (grpc_codec, rest_codec, grpc_vae, rest_vae):
        client.signatures()
    wide = {**GOOD_CODEC, "images": np.zeros([1, 64, 128, 3], np.uint8)}
    one = {"images": VAE_IMAGES[:1], "beta": np.float32([1])}
    racing = {
        "64x64 and 64x128 images in one batch": (
            lambda: grpc_codec.predict("analyze", GOOD_CODEC),
            lambda: rest_codec.predict("analyze", wide),
        ),
        "a good and an out-of-range beta in one batch": (
            lambda: grpc_vae.predict("reconstruct", one),
            lambda: rest_vae.predict("reconstruct", {**one, "beta": np.float32([1e4])}),
        ),
    }
    for case, calls in racing.items():
        results = test_serving.concurrently(*calls)
        after = test_serving.concurrently(*[lambda: grpc_vae.predict("reconstruct", one)] * 2)
        served = all(isinstance(r, dict) for r in after)
        for kind, result in zip(("gRPC", "REST"), results, strict=True):
            code = result.code if isinstance(result, serving_client.ServingError) else "OK"
            message = getattr(result, "message", "")
            print(
                f"| batching, max 2 | {case} | {kind} | {code} | {first_line(message)} | "
                f"{'OK' if served else 'FAILED'} |"
            )
    three = {"images": np.zeros([3, 28, 28, 1], np.float32), "beta": np.float32([1, 1, 1])}
    code, message = answer(grpc_vae, "reconstruct", three)
    print(f"| batching, max 2 | 3 examples | gRPC | {code} | {first_line(message)} | |")
    server.stop()
    threading.Event().wait(0.1)


if __name__ == "__main__":
    main()
