"""The gRPC and REST clients against the TF Serving 2.14.1 test double, over loopback.

`ServingTest` runs every client test on a server without batching and again, as
`BatchedServingTest` (slow), with `--enable_batching`; the other classes check the
ModelServer behaviours the clients and exports depend on (startup, warmup,
versions, batching rules, raw answers to bad requests).
"""

import contextlib
import functools
import io
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from export import export_lib, layout, list_ops
from serving import cli, codec_client
from serving import client as serving_client
from tests import serving_double, serving_load, session_bundle
from tests.concurrency import concurrently, wait_for
from zoo.beta_vae import config as vae_config
from zoo.beta_vae import data as vae_data
from zoo.beta_vae import model as beta_vae
from zoo.compression import codec
from zoo.compression import config as compression_config
from zoo.compression import model as compression
from zoo.data import photos
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import model as style_transfer

keras = tf.keras
# The stock codec is exported with a small image limit, to test that refusal.
MAX_PIXELS = 128 * 192
# Load failures are not retried for a minute in tests.
QUICK = {"max_num_load_retries": 0, "file_system_poll_wait_seconds": 0.1}


@functools.cache
def exported():
    """One export of each stock servable for the whole module: `(base_dir, models)`."""
    keras.utils.set_random_seed(0)
    base = pathlib.Path(tempfile.mkdtemp())
    models = {
        "vae": beta_vae.build_model(vae_config.Config.runlocal()),
        "codec": compression.build_model(compression_config.Config.runlocal()),
        "style": style_transfer.build_model(style_config.Config.runlocal()),
    }
    export_lib.export_model("beta_vae", models["vae"], base, "vae")
    export_lib.export_model(
        "compression", models["codec"], base, "codec", stock=True, max_pixels=MAX_PIXELS
    )
    export_lib.export_model("style_transfer", models["style"], base, "style")
    return base, models


@functools.cache
def exported_with_custom_ops():
    """`exported()`'s base with the range-coding codec beside them, as `codec_full`.

    Only the (slow) custom-ops test serves it; exported on first use, since an export
    of the full codec costs as much as the stock one.
    """
    base, models = exported()
    export_lib.export_model(
        "compression", models["codec"], base, "codec_full", max_pixels=MAX_PIXELS
    )
    return base, models


@functools.cache
def shared_server() -> serving_double.ModelServer:
    """One server of `exported()`'s servables, default options, for the classes that only
    send it requests (loading three models and replaying their warmup takes seconds)."""
    base, _ = exported()
    return serving_double.ModelServer(base / layout.MODELS_CONFIG, **QUICK)


def teardown_module():
    """Stops the shared server, if a class started it."""
    if shared_server.cache_info().currsize:
        shared_server().stop()


def signature_inputs(model_name: str, signature: str, batch: int = 1) -> dict:
    """Valid inputs of `batch` examples for every signature of the exported servables."""
    vae_images = vae_data.evaluation_images(batch)
    beta = np.geomspace(0.5, 8.0, batch).astype(np.float32)
    lmbda = np.geomspace(0.002, 0.1, batch).astype(np.float32)
    codec_images = np.full([batch, 64, 64, 3], 128, np.uint8)
    style_images = np.full([batch, 32, 32, 3], 128, np.uint8)
    loss_weights = np.tile(np.float32([[1.0, 1.0, 0, 0, 0]]), [batch, 1])
    table = {
        ("vae", "reconstruct"): {"images": vae_images, "beta": beta},
        ("vae", "loss_terms"): {"images": vae_images, "beta": beta},
        ("vae", "sample"): {"beta": beta, "seed": np.arange(batch, dtype=np.int64)},
        ("codec", "reconstruct"): {"images": codec_images, "lmbda": lmbda},
        ("codec", "analyze"): {"images": codec_images, "lmbda": lmbda},
        ("codec", "scale_indexes"): {
            "side_symbols": np.zeros([batch, 1, 1, 8], np.int32),
            "lmbda": lmbda,
        },
        ("codec", "synthesize"): {
            "latent_symbols": np.zeros([batch, 4, 4, 8], np.int32),
            "lmbda": lmbda,
        },
        ("style", "stylize"): {"images": style_images, "loss_weights": loss_weights},
        ("style", "loss_terms"): {"images": style_images, "loss_weights": loss_weights},
    }
    if signature == "serving_default":
        signature = {"vae": "reconstruct", "codec": "reconstruct", "style": "stylize"}[model_name]
    if (model_name, signature) == ("codec", "coding_tables"):
        (name,) = coding_tables_inputs()
        return {name: np.zeros([batch], np.int32)}
    return table[model_name, signature]


def coding_tables_inputs() -> list:
    """The input names of the stock codec's `coding_tables`, read from the export."""
    base, _ = exported()
    loaded = tf.saved_model.load(str(base / "codec" / "1"))
    return sorted(loaded.signatures["coding_tables"].structured_input_signature[1])


def raw_grpc_predict(address: str, model: str, signature: str, inputs: dict):
    """A PredictRequest with no client-side checks: `(status code, message)`."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            response = stub.Predict(request, timeout=60)
        except grpc.RpcError as error:
            return error.code(), error.details()
    return grpc.StatusCode.OK, response


def raw_rest_predict(url: str, model: str, body: dict):
    """A REST predict with no client-side checks: `(HTTP status, decoded JSON reply)`."""
    request = urllib.request.Request(
        f"{url}/v1/models/{model}:predict", data=json.dumps(body).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class ServingTest(tf.test.TestCase):
    """The clients on a ModelServer started with `models.config`; no batching."""

    SERVER_OPTIONS = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base, models = exported()
        cls.vae, cls.codec_model, cls.style = models["vae"], models["codec"], models["style"]
        if cls.SERVER_OPTIONS:
            cls.server = serving_double.ModelServer(
                cls.base / layout.MODELS_CONFIG, **QUICK, **cls.SERVER_OPTIONS
            )
        else:
            cls.server = shared_server()
        cls.clients = {
            "grpc": lambda name: serving_client.GrpcClient(cls.server.grpc_address, name),
            "rest": lambda name: serving_client.RestClient(cls.server.rest_url, name),
        }
        cls.images = vae_data.evaluation_images(4)
        cls.photo = photos.load_bundled("china")[:100, :140]

    @classmethod
    def tearDownClass(cls):
        if cls.SERVER_OPTIONS:
            cls.server.stop()
        super().tearDownClass()

    def test_every_signature_of_every_stock_servable_answers_over_grpc_and_rest(self):
        for model in ("vae", "codec", "style"):
            for kind, make in self.clients.items():
                client = make(model)
                for signature in sorted(client.signatures()):
                    with self.subTest(model=model, kind=kind, signature=signature):
                        outputs = client.predict(
                            signature, signature_inputs(model, signature, batch=2)
                        )
                        for name, value in outputs.items():
                            self.assertEqual(np.shape(value)[0], 2, name)

    def test_beta_vae_outputs_match_the_in_memory_model_with_betas_mixed_in_one_batch(self):
        betas = np.array([0.125, 1.0, 16.0, 512.0], np.float32)
        weights = tf.stack([tf.ones_like(betas), betas], axis=-1)
        expected = self.vae(self.images, weights, training=False).numpy()
        for kind, make in self.clients.items():
            with self.subTest(kind):
                outputs = make("vae").predict("reconstruct", {"images": self.images, "beta": betas})
                self.assertAllClose(outputs["reconstructions"], expected, atol=1e-5)

    def test_style_transfer_outputs_match_the_in_memory_model_with_weights_per_image(self):
        images = style_data.evaluation_images(2, size=32)
        weights = np.array([[1.0, 1.0, 0, 0, 0], [0.3, 0.25, 0.25, 0.25, 0.25]], np.float32)
        full = np.concatenate(
            [weights, np.full([2, 1], self.style.config.tv_weight, np.float32)], 1
        )
        expected = self.style(tf.constant(images, tf.float32), tf.constant(full)).numpy()
        expected = np.clip(np.round(expected), 0, 255)
        for kind, make in self.clients.items():
            with self.subTest(kind):
                outputs = make("style").predict(
                    "stylize", {"images": images, "loss_weights": weights}
                )
                self.assertEqual(outputs["stylized"].dtype, np.uint8)
                # Float noise can move a pixel that lands on .5 by one uint8 level.
                self.assertAllClose(np.asarray(outputs["stylized"], np.float32), expected, atol=1.0)
                with self.assertRaisesRegex(serving_client.ServingError, "with 5 columns"):
                    make("style").predict(
                        "stylize", {"images": images, "loss_weights": weights[:, :4]}
                    )

    def test_codec_bytes_through_a_stock_server_equal_the_in_process_codec(self):
        in_process = codec.Codec(self.codec_model)
        for kind, make in self.clients.items():
            client = codec_client.StockCodecClient(make("codec").predict)
            for lmbda in (0.0018, 0.05):
                with self.subTest(kind, lmbda=lmbda):
                    data = client.encode(self.photo, lmbda)
                    self.assertEqual(data, in_process.encode(self.photo, lmbda))
                    self.assertAllEqual(client.decode(data), in_process.decode(data))

    def test_bad_requests_are_invalid_argument_naming_the_input_and_serving_goes_on(self):
        images = self.images[:2]
        cases = {
            "missing": ({"images": images}, "missing \\['beta'\\]"),
            "extra": ({"images": images, "beta": np.float32([1, 2]), "x": [1]}, "unknown \\['x'"),
            "dtype": ({"images": images, "beta": ["a", "b"]}, "input beta must be numbers"),
            "scalar": ({"images": images, "beta": np.float32(1.0)}, "input beta needs the batch"),
            "one beta for two": (
                {"images": images, "beta": np.float32([1.0])},
                "got beta 1, images 2",
            ),
            "image rank": ({"images": images[..., 0], "beta": np.float32([1, 2])}, "images must"),
            "nan": ({"images": images, "beta": np.float32([np.nan, 1])}, "beta must be finite"),
            "negative": ({"images": images, "beta": np.float32([-1, 1])}, "beta must be > 0"),
            "range": ({"images": images, "beta": np.float32([1, 1e4])}, r"beta must lie in"),
            "empty": (
                {"images": images[:0], "beta": np.zeros([0], np.float32)},
                # JSON's [] carries no inner dimensions: over REST the images' rank is wrong.
                "beta is empty|images must be",
            ),
        }
        good = {"images": images, "beta": np.float32([1, 2])}
        for kind, make in self.clients.items():
            client = make("vae")
            for name, (inputs, message) in cases.items():
                with self.subTest(kind=kind, case=name):
                    with self.assertRaisesRegex(serving_client.ServingError, message) as raised:
                        client.predict("reconstruct", inputs)
                    self.assertIn(raised.exception.code, ("INVALID_ARGUMENT", "HTTP 400"))
                    self.assertIn("reconstructions", client.predict("reconstruct", good))

    def test_numbers_are_converted_to_the_signature_dtype_when_nothing_is_lost(self):
        for kind, make in self.clients.items():
            with self.subTest(kind):
                client = make("vae")
                outputs = client.predict(
                    "reconstruct", {"images": self.images[:1].astype(np.float64), "beta": [2.0]}
                )
                self.assertEqual(outputs["reconstructions"].dtype, np.float32)
                with self.assertRaisesRegex(serving_client.ServingError, "input images must be"):
                    make("codec").predict(
                        "analyze", {"images": np.full([1, 64, 64, 3], 300), "lmbda": [0.01]}
                    )

    def test_images_over_the_size_limit_are_refused(self):
        lmbda = np.float32([0.01])
        for kind, make in self.clients.items():
            with self.subTest(kind):
                client = make("codec")
                big = np.zeros([1, 192, 192, 3], np.uint8)
                with self.assertRaisesRegex(serving_client.ServingError, "pixel limit"):
                    client.predict("analyze", {"images": big, "lmbda": lmbda})
                small = np.zeros([1, 64, 64, 3], np.uint8)
                self.assertIn(
                    "scale_indexes", client.predict("analyze", {"images": small, "lmbda": lmbda})
                )

    def test_model_metadata_lists_the_signatures_and_their_inputs(self):
        for kind, make in self.clients.items():
            with self.subTest(kind):
                signatures = make("codec").signatures()
                self.assertEqual(
                    signatures["analyze"]["inputs"], {"images": "DT_UINT8", "lmbda": "DT_FLOAT"}
                )
                self.assertIn("coding_tables", signatures)
                self.assertNotIn("__saved_model_init_op", signatures)

    def test_a_rest_signature_with_one_output_comes_back_unnamed_and_the_client_names_it(self):
        status, reply = raw_rest_predict(
            self.server.rest_url,
            "vae",
            {
                "signature_name": "reconstruct",
                "inputs": {"images": self.images[:1].tolist(), "beta": [4.0]},
            },
        )
        self.assertEqual(status, 200)
        self.assertIsInstance(reply["outputs"], list)  # TF Serving omits a single output's name.
        named = self.clients["rest"]("vae").predict(
            "reconstruct", {"images": self.images[:1], "beta": np.array([4.0], np.float32)}
        )
        self.assertEqual(list(named), ["reconstructions"])
        self.assertAllClose(named["reconstructions"], reply["outputs"], atol=1e-6)

    def test_the_command_line_client_lists_signatures_over_grpc_and_rest(self):
        for where in (f"--grpc={self.server.grpc_address}", f"--rest={self.server.rest_url}"):
            with self.subTest(where):
                output = io.StringIO()
                with contextlib.redirect_stdout(output):
                    self.assertEqual(cli.run(["signatures", where, "--model=vae"]), 0)
                self.assertIn("reconstruct(beta: DT_FLOAT, images: DT_FLOAT)", output.getvalue())

    def test_an_unknown_model_is_not_found(self):
        for kind, make in self.clients.items():
            with self.subTest(kind):
                with self.assertRaises(serving_client.ServingError) as raised:
                    make("nothing").predict("serving_default", {})
                self.assertIn(raised.exception.code, ("NOT_FOUND", "HTTP 404"))

    def test_the_command_line_client_compresses_and_decompresses_through_the_servers(self):
        from PIL import Image

        root = pathlib.Path(tempfile.mkdtemp())
        Image.fromarray(self.photo).save(root / "in.png")
        grpc_args = [f"--grpc={self.server.grpc_address}", "--model=codec"]
        status = cli.run(
            ["compress", *grpc_args, "--lmbda=0.02", f"{root}/in.png", f"{root}/a.yoto"]
        )
        self.assertEqual(status, 0)
        expected = codec.Codec(self.codec_model).encode(self.photo, 0.02)
        self.assertEqual((root / "a.yoto").read_bytes(), expected)
        rest_args = [f"--rest={self.server.rest_url}", "--model=codec"]
        self.assertEqual(cli.run(["decompress", *rest_args, f"{root}/a.yoto", f"{root}/b.png"]), 0)
        decoded = np.asarray(Image.open(root / "b.png"))
        self.assertAllEqual(decoded, codec.Codec(self.codec_model).decode(expected))

    def test_the_command_line_client_exits_two_and_writes_nothing_on_errors(self):
        from PIL import Image

        root = pathlib.Path(tempfile.mkdtemp())
        Image.fromarray(self.photo).save(root / "in.png")
        (root / "bad.yoto").write_bytes(b"not a yoto file")
        grpc_args = [f"--grpc={self.server.grpc_address}", "--model=codec"]
        rest_args = [f"--rest={self.server.rest_url}", "--model=codec"]
        cases = {
            "lambda": ["compress", *grpc_args, "--lmbda=9", f"{root}/in.png"],
            "corrupt": ["decompress", *rest_args, f"{root}/bad.yoto"],
            "missing": ["decompress", *grpc_args, f"{root}/absent.yoto"],
            "not a codec": [
                "compress",
                f"--grpc={self.server.grpc_address}",
                "--model=vae",
                "--lmbda=0.01",
                f"{root}/in.png",
            ],
            "unknown model": [
                "compress",
                f"--rest={self.server.rest_url}",
                "--model=nothing",
                "--lmbda=0.01",
                f"{root}/in.png",
            ],
            "down": [
                "compress",
                "--grpc=127.0.0.1:1",
                "--model=codec",
                "--retries=0",
                "--timeout=2",
                "--lmbda=0.01",
                f"{root}/in.png",
            ],
        }
        for name, args in cases.items():
            with self.subTest(name):
                errors = io.StringIO()
                with contextlib.redirect_stderr(errors):
                    self.assertEqual(cli.run([*args, f"{root}/{name}.out"]), 2)
                self.assertFalse((root / f"{name}.out").exists())
                self.assertIn("yoto-serving: error:", errors.getvalue())
                self.assertNotIn("Traceback", errors.getvalue())


# Every client test again: a second server start and ~45 more requests. The fast suite
# checks batching servers in BatchingRulesTest and SignaturesWithoutInputsTest.
@pytest.mark.slow
class BatchedServingTest(ServingTest):
    """The same clients on a server with `--enable_batching` (default parameters)."""

    SERVER_OPTIONS = {"enable_batching": True}

    def test_requests_went_through_the_batching_queues(self):
        _, loaded = self.server.model("vae").version(None)
        self.assertNotEmpty(loaded.queues())


class ModelServerBehaviourTest(tf.test.TestCase):
    """What the real ModelServer does at startup, on load and across versions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base, models = exported()
        cls.vae = models["vae"]

    def config_with(self, **model_dirs) -> pathlib.Path:
        """A models.config for a fresh base holding copies of the named exported versions."""
        base = pathlib.Path(tempfile.mkdtemp())
        for name, source in model_dirs.items():
            shutil.copytree(self.base / source / "1", base / name / "1")
        layout.write_models_config(base)
        return base

    # Three server starts, one loading the range-coding ops; the stock config's start and
    # models.config's listing stay fast (tests/zoo/compression/test_serving.py checks which models
    # each config lists).
    @pytest.mark.slow
    def test_the_stock_config_starts_and_the_custom_ops_config_needs_a_server_built_with_them(self):
        exported_with_custom_ops()
        server = serving_double.ModelServer(self.base / layout.MODELS_CONFIG, **QUICK)
        self.assertNotIn("codec_full", server.models)
        server.stop()
        with self.assertRaisesRegex(
            serving_double.StartupError, "codec_full.*Op type not registered"
        ):
            serving_double.ModelServer(self.base / layout.CUSTOM_OPS_MODELS_CONFIG, **QUICK)
        server = serving_double.ModelServer(
            self.base / layout.CUSTOM_OPS_MODELS_CONFIG, custom_ops=True, **QUICK
        )
        try:
            client = serving_client.GrpcClient(server.grpc_address, "codec_full")
            outputs = client.predict("compress", signature_inputs("codec", "analyze", batch=2))
            self.assertEqual(outputs["latent_strings_bytes"].shape, (2,))
        finally:
            server.stop()

    @pytest.mark.slow
    def test_the_full_codec_round_trips_over_rest_with_its_strings_as_base64(self):
        # Slow: the full codec's export and a server start with the range-coding ops. The
        # double writes string outputs not named `*_bytes` raw, as the real server does
        # (json_tensor.cc L861), so `compress` over REST needs its `_bytes` names.
        exported_with_custom_ops()
        server = serving_double.ModelServer(
            self.base / layout.CUSTOM_OPS_MODELS_CONFIG, custom_ops=True, **QUICK
        )
        try:
            inputs = {
                "images": photos.load_bundled("china")[:128, :192][np.newaxis].repeat(2, 0),
                "lmbda": np.float32([0.002, 0.05]),
            }
            rest = serving_client.RestClient(server.rest_url, "codec_full")
            coded = rest.predict("compress", inputs)
            strings = {name: coded[f"{name}_bytes"] for name in ("latent_strings", "side_strings")}
            grpc_coded = serving_client.GrpcClient(server.grpc_address, "codec_full").predict(
                "compress", inputs
            )
            for name, value in strings.items():
                self.assertEqual(value.tolist(), grpc_coded[f"{name}_bytes"].tolist(), name)
            decoded = rest.predict(
                "decompress",
                {**strings, "side_shape": coded["side_shape"], "lmbda": inputs["lmbda"]},
            )["images"]
            expected = rest.predict("reconstruct", inputs)["reconstructions"]
            self.assertEqual(decoded.dtype, np.uint8)
            self.assertAllEqual(decoded, expected)
        finally:
            server.stop()

    def test_a_failing_warmup_request_fails_the_load_and_so_the_startup(self):
        base = self.config_with(vae="vae")
        layout.write_warmup_requests(
            base / "vae" / "1",
            "vae",
            {
                "reconstruct": {
                    "images": np.zeros([1, 28, 28, 1], np.float32),
                    "beta": np.float32([1e6]),
                }
            },
        )
        with self.assertRaisesRegex(serving_double.StartupError, "vae.*beta must lie in"):
            serving_double.ModelServer(base / layout.MODELS_CONFIG, **QUICK)

    def test_a_scalar_input_in_a_warmup_request_fails_the_load_only_under_batching(self):
        base = self.config_with(vae="vae")
        scalar_seed = {"sample": {"beta": np.float32([1.0]), "seed": np.int64(3)}}
        layout.write_warmup_requests(base / "vae" / "1", "vae", scalar_seed)
        with self.assertRaisesRegex(
            serving_double.StartupError, "input tensors must have at least one dimension"
        ):
            serving_double.ModelServer(base / layout.MODELS_CONFIG, enable_batching=True, **QUICK)

    def test_a_model_without_versions_never_lets_the_server_start(self):
        base = self.config_with(vae="vae")
        (base / "empty").mkdir()
        config = base / layout.MODELS_CONFIG
        config.write_text(
            config.read_text().replace(
                "model_config_list {",
                f'model_config_list {{\n  config {{ name: "empty" base_path: "{base}/empty" '
                'model_platform: "tensorflow" }',
            )
        )
        with self.assertRaisesRegex(serving_double.StartupError, "No versions of servable empty"):
            serving_double.ModelServer(config, **QUICK)

    def test_a_new_version_serves_after_its_load_and_the_old_one_is_then_not_found(self):
        base = self.config_with(vae="vae")
        server = serving_double.ModelServer(base / layout.MODELS_CONFIG, **QUICK)
        try:
            inputs = {"images": np.zeros([1, 28, 28, 1], np.float32), "beta": np.float32([2.0])}
            errors, done, calls = [], threading.Event(), [0] * 4

            def call(worker):
                client = serving_client.GrpcClient(server.grpc_address, "vae")
                while not done.is_set():
                    try:
                        client.predict("reconstruct", inputs)
                        calls[worker] += 1
                    except serving_client.ServingError as error:
                        errors.append(error)

            workers = [threading.Thread(target=call, args=(i,)) for i in range(4)]
            for worker in workers:
                worker.start()
            export_lib.export_model("beta_vae", self.vae, base, "vae")
            model = server.model("vae")
            wait_for(lambda: len(model.status()) == 2 and model.status()[0]["state"] == "AVAILABLE")
            later = sum(calls)
            wait_for(lambda: sum(calls) >= later + 8)  # Requests served by the new version.
            done.set()
            for worker in workers:
                worker.join()
            self.assertEqual(errors, [])
            states = {s["version"]: s["state"] for s in model.status()}
            self.assertEqual(states, {"2": "AVAILABLE", "1": "END"})
            old = serving_client.GrpcClient(server.grpc_address, "vae", version=1)
            with self.assertRaisesRegex(serving_client.ServingError, r"Specific\(vae, 1\)"):
                old.predict("reconstruct", inputs)
        finally:
            server.stop()

    def test_a_new_version_that_fails_to_load_leaves_the_old_one_serving(self):
        base = self.config_with(vae="vae")
        server = serving_double.ModelServer(base / layout.MODELS_CONFIG, **QUICK)
        try:
            shutil.copytree(base / "vae" / "1", base / "vae" / ".tmp")
            (base / "vae" / ".tmp" / "saved_model.pb").write_bytes(b"truncated")
            (base / "vae" / ".tmp").rename(base / "vae" / "2")
            model = server.model("vae")
            wait_for(lambda: len(model.status()) == 2)
            states = {s["version"]: s for s in model.status()}
            self.assertEqual(states["2"]["state"], "END")
            self.assertNotEqual(states["2"]["status"]["error_code"], "OK")
            client = serving_client.GrpcClient(server.grpc_address, "vae")
            outputs = client.predict("reconstruct", signature_inputs("vae", "reconstruct"))
            self.assertIn("reconstructions", outputs)
        finally:
            server.stop()


class BatchingRulesTest(tf.test.TestCase):
    """Requests merged into one batch: TF Serving's batching session rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base, _ = exported()
        base = pathlib.Path(tempfile.mkdtemp())
        for name in ("vae", "codec"):
            shutil.copytree(cls.base / name / "1", base / name / "1")
        layout.write_models_config(base)
        cls.config = base / layout.MODELS_CONFIG
        # Two one-example requests fill a batch; one alone waits for a partner.
        cls.server = serving_double.ModelServer(
            cls.config,
            enable_batching=True,
            batching_parameters={
                "max_batch_size": 2,
                "batch_timeout_micros": 10_000_000,
                "num_batch_threads": 1,
            },
            **QUICK,
        )

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def clients(self, model):
        grpc_client = serving_client.GrpcClient(self.server.grpc_address, model)
        rest_client = serving_client.RestClient(self.server.rest_url, model)
        grpc_client.signatures(), rest_client.signatures()  # Read before the race.
        return grpc_client, rest_client

    def test_images_of_two_sizes_in_one_batch_fail_together_and_serving_goes_on(self):
        grpc_client, rest_client = self.clients("codec")
        small = {"images": np.zeros([1, 64, 64, 3], np.uint8), "lmbda": np.float32([0.01])}
        wide = {"images": np.zeros([1, 64, 128, 3], np.uint8), "lmbda": np.float32([0.01])}
        results = concurrently(
            lambda: grpc_client.predict("analyze", small),
            lambda: rest_client.predict("analyze", wide),
        )
        for result in results:
            self.assertIsInstance(result, serving_client.ServingError)
            self.assertIn("padding is turned off", result.message)
        self.assertEqual(results[0].code, "FAILED_PRECONDITION")
        self.assertEqual(results[1].code, "HTTP 400")
        good = concurrently(*[lambda: grpc_client.predict("analyze", small)] * 2)
        self.assertAllEqual([r["latent_symbols"].shape[0] for r in good], [1, 1])

    def test_one_bad_request_fails_the_good_request_batched_with_it(self):
        grpc_client, rest_client = self.clients("vae")
        images = np.zeros([1, 28, 28, 1], np.float32)
        results = concurrently(
            lambda: grpc_client.predict("reconstruct", {"images": images, "beta": [1.0]}),
            lambda: rest_client.predict("reconstruct", {"images": images, "beta": [1e4]}),
        )
        for result in results:
            self.assertIsInstance(result, serving_client.ServingError)
            self.assertIn("beta must lie in", result.message)
        good = concurrently(
            *[lambda: grpc_client.predict("reconstruct", {"images": images, "beta": [1.0]})] * 2
        )
        self.assertEqual([r["reconstructions"].shape for r in good], [(1, 28, 28, 1)] * 2)

    def test_more_examples_than_the_batch_limit_are_refused(self):
        grpc_client, rest_client = self.clients("vae")
        inputs = signature_inputs("vae", "reconstruct", batch=3)
        for client in (grpc_client, rest_client):
            with self.subTest(type(client).__name__):
                with self.assertRaisesRegex(
                    serving_client.ServingError, "Task size 3 is larger than maximum input batch"
                ):
                    client.predict("reconstruct", inputs)
        self.assertLen(
            grpc_client.predict("reconstruct", signature_inputs("vae", "reconstruct", 2))[
                "reconstructions"
            ],
            2,
        )

    def test_per_model_parameters_batch_the_vae_and_leave_the_image_models_unbatched(self):
        server = serving_double.ModelServer(
            self.base / layout.MODELS_CONFIG,
            enable_batching=True,
            batching_parameters=layout.read_batching_parameters(self.base / layout.BATCHING_CONFIG),
            enable_per_model_batching_parameters=True,
            **QUICK,
        )
        try:
            client = serving_client.GrpcClient(server.grpc_address, "codec")
            client.signatures()
            small = {"images": np.zeros([1, 64, 64, 3], np.uint8), "lmbda": np.float32([0.01])}
            wide = {"images": np.zeros([1, 64, 128, 3], np.uint8), "lmbda": np.float32([0.01])}
            results = concurrently(
                lambda: client.predict("analyze", small), lambda: client.predict("analyze", wide)
            )
            self.assertEqual([r["latent_symbols"].shape[2] for r in results], [4, 8])
            self.assertEqual(server.model("codec").version(None)[1].queues(), [])
            self.assertNotEmpty(server.model("vae").version(None)[1].queues())
        finally:
            server.stop()


# Slow: concurrent clients for about a minute; the behaviours it loads are tested one by one above.
@pytest.mark.slow
class LoadTest(tf.test.TestCase):
    """A short `tests/serving_load.py` run: what `bench/load_serving.py` measures longer."""

    def test_concurrent_clients_with_bad_requests_and_a_version_swap_lose_no_valid_request(self):
        exported_base, _ = exported()
        base = pathlib.Path(tempfile.mkdtemp())
        for name in ("vae", "codec", "style"):
            shutil.copytree(exported_base / name, base / name)
        layout.write_models_config(base)
        server = serving_double.ModelServer(
            base / layout.MODELS_CONFIG,
            enable_batching=True,
            batching_parameters=layout.read_batching_parameters(
                exported_base / layout.BATCHING_CONFIG
            ),
            enable_per_model_batching_parameters=True,
            **QUICK,
        )
        try:
            names = {"vae": "beta_vae", "codec": "compression_stock", "style": "style_transfer"}
            report = serving_load.run_load(
                server,
                base,
                serving_load.zoo_plans(names),
                seconds=6.0,
                clients_per_model=2,
                bad_share=0.25,
                swap_model="vae",
            )
        finally:
            server.stop()
        self.assertEqual(report["valid_failures"], [])
        self.assertEqual(report["bad_accepted"], [])
        self.assertGreater(report["bad_refused"], 0)
        self.assertEqual(report["swap"]["version"], 2)
        for model, row in report["per_model"].items():
            self.assertGreater(row["requests"], 0, model)
        self.assertNotEmpty(report["batch_sizes"])  # The VAE's queue; the others unbatched.
        self.assertIn("| batching | **all** |", serving_load.format_report({"batching": report}))


class RawServerAnswersTest(tf.test.TestCase):
    """What the server itself answers, with no client-side checks in the way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base, _ = exported()
        cls.server = shared_server()

    def grpc(self, model, signature, inputs):
        return raw_grpc_predict(self.server.grpc_address, model, signature, inputs)

    def test_a_wrong_dtype_is_refused_by_the_session_without_the_inputs_name(self):
        inputs = signature_inputs("vae", "reconstruct")
        code, message = self.grpc("vae", "reconstruct", {**inputs, "beta": np.float64([1.0])})
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertRegex(message, r"Expects arg\[\d\] to be float but double is provided")

    def test_wrong_ranks_and_shapes_fail_in_the_graph_naming_the_input(self):
        cases = {
            ("vae", "reconstruct", "images"): np.zeros([1, 28, 28], np.float32),
            ("vae", "reconstruct", "beta"): np.float32(1.0),
            ("vae", "sample", "seed"): np.int64(1),
            ("codec", "analyze", "images"): np.zeros([1, 64, 64, 4], np.uint8),
            ("codec", "scale_indexes", "side_symbols"): np.zeros([1, 1, 8], np.int32),
            ("style", "stylize", "images"): np.zeros([32, 32, 3], np.uint8),
            ("style", "stylize", "loss_weights"): np.float32([1.0, 1.0, 0, 0, 0]),
        }
        for (model, signature, name), value in cases.items():
            with self.subTest(model=model, signature=signature, input=name):
                inputs = {**signature_inputs(model, signature), name: value}
                code, message = self.grpc(model, signature, inputs)
                self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
                self.assertTrue(message.startswith(name) or f"[{name}" in message, message)
        code, _ = self.grpc("vae", "reconstruct", signature_inputs("vae", "reconstruct"))
        self.assertEqual(code, grpc.StatusCode.OK)

    def test_extra_inputs_are_refused_over_grpc_and_ignored_over_rest(self):
        inputs = {**signature_inputs("vae", "reconstruct"), "extra": np.float32([1.0])}
        code, message = self.grpc("vae", "reconstruct", inputs)
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("input size does not match signature: 3!=2", message)
        body = {
            "signature_name": "reconstruct",
            "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()},
        }
        status, reply = raw_rest_predict(self.server.rest_url, "vae", body)
        self.assertEqual(status, 200)
        self.assertLen(reply["outputs"], 1)

    def test_an_unknown_signature_is_failed_precondition_over_grpc_and_400_over_rest(self):
        code, message = self.grpc("vae", "nothing", signature_inputs("vae", "reconstruct"))
        self.assertEqual(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(message, 'Serving signature key "nothing" not found.')
        status, reply = raw_rest_predict(
            self.server.rest_url, "vae", {"signature_name": "nothing", "inputs": {}}
        )
        self.assertEqual(status, 400)
        self.assertIn('"nothing" not found in signature def', reply["error"])

    def test_fractional_numbers_for_an_integer_input_are_a_json_type_error_over_rest(self):
        body = {
            "signature_name": "analyze",
            "inputs": {"images": np.full([1, 64, 64, 3], 0.5).tolist(), "lmbda": [0.01]},
        }
        status, reply = raw_rest_predict(self.server.rest_url, "codec", body)
        self.assertEqual(status, 400)
        self.assertIn("is not of expected type: uint8", reply["error"])

    def test_outputs_travel_as_typed_fields_as_the_real_server_writes_them(self):
        code, response = self.grpc("style", "stylize", signature_inputs("style", "stylize"))
        self.assertEqual(code, grpc.StatusCode.OK)
        stylized = response.outputs["stylized"]
        self.assertEqual(stylized.tensor_content, b"")
        self.assertLen(stylized.int_val, 32 * 32 * 3)


class SignaturesWithoutInputsTest(tf.test.TestCase):
    """A signature with no inputs: the real server's REST refusal and batching refusal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        module = tf.Module()
        module.constant = tf.function(lambda: {"value": tf.constant([1.0])}, input_signature=[])
        cls.base = pathlib.Path(tempfile.mkdtemp())
        tf.saved_model.save(
            module, str(cls.base / "m" / "1"), signatures={"serving_default": module.constant}
        )
        layout.write_models_config(cls.base)

    def test_rest_refuses_it_and_grpc_runs_it_only_without_batching(self):
        for batching in (False, True):
            # The stock config lists only yoto_tf exports that vouch for their ops.
            server = serving_double.ModelServer(
                self.base / layout.CUSTOM_OPS_MODELS_CONFIG, enable_batching=batching, **QUICK
            )
            try:
                with self.subTest(batching=batching):
                    status, reply = raw_rest_predict(server.rest_url, "m", {"inputs": {}})
                    self.assertEqual(status, 400)
                    self.assertEqual(
                        reply["error"], "Failed to get input map for signature: DEFAULT"
                    )
                    code, message = raw_grpc_predict(server.grpc_address, "m", "", {})
                    if batching:
                        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
                        self.assertIn("must have at least one input tensor", message)
                    else:
                        self.assertEqual(code, grpc.StatusCode.OK)
            finally:
                server.stop()


class StockServablesTest(tf.test.TestCase):
    def test_every_stock_servable_runs_every_signature_without_tensorflow_compression(self):
        base, _ = exported()
        # A fresh interpreter that never imports tensorflow_compression: what a stock
        # ModelServer can load. Loading fails outright if any function holds a custom op.
        script = textwrap.dedent(
            f"""
            import sys
            import tensorflow as tf
            base = {str(base)!r}
            count = 0
            for name in ("vae", "codec", "style"):
                loaded = tf.saved_model.load(base + "/" + name + "/1")
                count += len(loaded.signatures)
            assert "tensorflow_compression" not in sys.modules
            print("signatures loaded:", count)
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=900
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("signatures loaded: 13", result.stdout)

    def test_every_string_output_is_named_so_that_rest_base64_encodes_it(self):
        base, _ = exported()
        for name in ("vae", "codec", "style"):
            bundle = session_bundle.SessionBundle(base / name / "1")
            for signature_name, signature in bundle.meta_graph.signature_def.items():
                for alias, info in signature.outputs.items():
                    if info.dtype == tf.string.as_datatype_enum:
                        with self.subTest(servable=name, signature=signature_name):
                            self.assertEndsWith(alias, "_bytes")
            bundle.close()

    def test_every_op_of_every_servable_has_a_gpu_kernel_or_a_reason_to_run_on_the_cpu(self):
        self.assertTrue(list_ops.gpu_kernels_registered(), "needs the CUDA-built tensorflow wheel")
        base, _ = exported()
        for name in ("vae", "codec", "style"):
            table = list_ops.placement_table(base / name / "1")
            for row in table:
                with self.subTest(servable=name, op=row["op"], dtypes=row["dtypes"]):
                    if row["kernel"] not in (list_ops.GPU, list_ops.GPU_HOST_MEMORY):
                        self.assertIsNotNone(list_ops.cpu_reason(row), row)
            if name == "codec":
                # The integer entropy network's float64 arithmetic (serving/README.md).
                kernels = {(r["op"], r["dtypes"]): r["kernel"] for r in table}
                for op in ("Conv2D", "MatMul", "Round", "Floor", "Log"):
                    self.assertEqual(kernels[op, "T=float64"], list_ops.GPU, op)

    def test_no_node_of_any_servable_is_pinned_to_a_device(self):
        base, _ = exported()
        for name in ("vae", "codec", "style"):
            loaded = tf.saved_model.load(str(base / name / "1"))
            for signature, function in loaded.signatures.items():
                with self.subTest(servable=name, signature=signature):
                    devices = {node.device for node in function.graph.as_graph_def().node}
                    self.assertEqual(devices - {""}, set())


class RetryTest(tf.test.TestCase):
    """A server that is down (the retry rules: `test_double_conformance.RetryTest`)."""

    def test_a_server_that_is_down_gives_unavailable_after_the_retries(self):
        for client in (
            serving_client.GrpcClient(
                "127.0.0.1:1", "m", retries=1, backoff_seconds=0.01, timeout_seconds=2
            ),
            serving_client.RestClient(
                "http://127.0.0.1:1", "m", retries=1, backoff_seconds=0.01, timeout_seconds=2
            ),
        ):
            with self.subTest(type(client).__name__):
                with self.assertRaises(serving_client.ServingError) as raised:
                    client.predict("serving_default", {"beta": np.float32([1.0])})
                self.assertEqual(raised.exception.code, "UNAVAILABLE")
