"""The gRPC and REST clients against the TF Serving test double, over loopback."""

import contextlib
import io
import json
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import threading
import urllib.request

import numpy as np
import tensorflow as tf

from export import export_lib
from serving import client as serving_client
from serving import codec_client
from tests import serving_double
from zoo import beta_vae, codec, compression, photos, style_transfer

keras = tf.keras
# The stock codec is exported with a small image limit, to test that refusal.
MAX_PIXELS = 128 * 192


class ServingTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        cls.base = pathlib.Path(tempfile.mkdtemp())
        cls.vae = beta_vae.build_model(beta_vae.Config.runlocal())
        export_lib.export_model("beta_vae", cls.vae, cls.base, "vae")
        cls.codec_model = compression.build_model(compression.Config.runlocal())
        export_lib.export_model(
            "compression", cls.codec_model, cls.base, "codec", stock=True, max_pixels=MAX_PIXELS
        )
        cls.style = style_transfer.build_model(style_transfer.Config.runlocal())
        export_lib.export_model("style_transfer", cls.style, cls.base, "style")
        cls.grpc_server = serving_double.GrpcServer(cls.base)
        cls.rest_server = serving_double.RestServer(cls.base)
        cls.clients = {
            "grpc": lambda name: serving_client.GrpcClient(cls.grpc_server.address, name),
            "rest": lambda name: serving_client.RestClient(cls.rest_server.url, name),
        }
        cls.images = beta_vae.evaluation_images(4)
        cls.photo = photos.load_bundled("china")[:100, :140]

    @classmethod
    def tearDownClass(cls):
        cls.grpc_server.stop()
        cls.rest_server.stop()
        super().tearDownClass()

    def test_beta_vae_outputs_match_the_in_memory_model_with_betas_mixed_in_one_batch(self):
        betas = np.array([0.125, 1.0, 16.0, 512.0], np.float32)
        weights = tf.stack([tf.ones_like(betas), betas], axis=-1)
        expected = self.vae(self.images, weights, training=False).numpy()
        for kind, make in self.clients.items():
            with self.subTest(kind):
                outputs = make("vae").predict("reconstruct", {"images": self.images, "beta": betas})
                self.assertAllClose(outputs["reconstructions"], expected, atol=1e-5)

    def test_style_transfer_outputs_match_the_in_memory_model_with_weights_per_image(self):
        images = style_transfer.evaluation_images(2, size=32)
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
                # Float noise can move a pixel that lands on .5 by one uint8 level.
                self.assertAllClose(np.asarray(outputs["stylized"], np.float32), expected, atol=1.0)
                with self.assertRaisesRegex(serving_client.ServingError, "must have 5 columns"):
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

    def test_bad_grpc_requests_are_invalid_argument_naming_the_input_and_serving_goes_on(self):
        client = self.clients["grpc"]("vae")
        images = self.images[:2]
        cases = {
            "missing": ({"images": images}, "beta"),
            "dtype": ({"images": images, "beta": np.array([1.0, 2.0])}, "beta"),
            "rank": ({"images": images, "beta": np.float32(1.0)}, "beta"),
            "nan": ({"images": images, "beta": np.float32([np.nan, 1])}, "beta must be finite"),
            "negative": ({"images": images, "beta": np.float32([-1, 1])}, "beta must be > 0"),
            "range": ({"images": images, "beta": np.float32([1, 1e4])}, r"beta must lie in"),
            "empty": (
                {"images": images[:0], "beta": np.zeros([0], np.float32)},
                "beta is empty",
            ),
        }
        good = {"images": images, "beta": np.float32([1, 2])}
        for name, (inputs, message) in cases.items():
            with self.subTest(name):
                with self.assertRaisesRegex(serving_client.ServingError, message) as raised:
                    client.predict("reconstruct", inputs)
                self.assertEqual(raised.exception.code, "INVALID_ARGUMENT")
                self.assertIn("reconstructions", client.predict("reconstruct", good))

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

    def test_bad_rest_requests_are_400_with_the_message(self):
        client = self.clients["rest"]("vae")
        with self.assertRaisesRegex(serving_client.ServingError, "beta must lie in") as raised:
            client.predict("reconstruct", {"images": self.images[:1], "beta": [1e4]})
        self.assertEqual(raised.exception.code, "HTTP 400")
        with self.assertRaisesRegex(serving_client.ServingError, "missing \\['beta'\\]"):
            client.predict("reconstruct", {"images": self.images[:1]})

    def test_model_metadata_lists_the_signatures_and_their_inputs(self):
        for kind, make in self.clients.items():
            with self.subTest(kind):
                signatures = make("codec").signatures()
                self.assertEqual(
                    signatures["analyze"]["inputs"], {"images": "DT_UINT8", "lmbda": "DT_FLOAT"}
                )
                self.assertIn("coding_tables", signatures)

    def test_a_rest_signature_with_one_output_comes_back_unnamed_and_the_client_names_it(self):
        body = json.dumps(
            {
                "signature_name": "reconstruct",
                "inputs": {"images": self.images[:1].tolist(), "beta": [4.0]},
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.rest_server.url}/v1/models/vae:predict", data=body, method="POST"
        )
        with urllib.request.urlopen(request) as reply:
            outputs = json.loads(reply.read())["outputs"]
        self.assertIsInstance(outputs, list)  # TF Serving omits a single output's name.
        named = self.clients["rest"]("vae").predict(
            "reconstruct", {"images": self.images[:1], "beta": np.array([4.0], np.float32)}
        )
        self.assertEqual(list(named), ["reconstructions"])
        self.assertAllClose(named["reconstructions"], outputs, atol=1e-6)

    def test_the_command_line_client_lists_signatures_over_grpc_and_rest(self):
        from serving import cli

        for where in (f"--grpc={self.grpc_server.address}", f"--rest={self.rest_server.url}"):
            with self.subTest(where):
                output = io.StringIO()
                with contextlib.redirect_stdout(output):
                    self.assertEqual(cli.run(["signatures", where, "--model=vae"]), 0)
                self.assertIn("reconstruct(beta: DT_FLOAT, images: DT_FLOAT)", output.getvalue())

    def test_every_stock_servable_runs_every_signature_without_tensorflow_compression(self):
        # A fresh interpreter that never imports tensorflow_compression: what a stock
        # ModelServer can load. Loading fails outright if any function holds a custom op.
        script = textwrap.dedent(
            f"""
            import sys
            import numpy as np
            import tensorflow as tf
            base = {str(self.base)!r}
            vae = tf.saved_model.load(base + "/vae/1").signatures
            images, beta = tf.zeros([2, 28, 28, 1]), tf.constant([0.5, 8.0])
            vae["reconstruct"](images=images, beta=beta)
            vae["serving_default"](images=images, beta=beta)
            vae["loss_terms"](images=images, beta=beta)
            vae["sample"](beta=beta, seed=tf.constant(1, tf.int64))
            codec = tf.saved_model.load(base + "/codec/1").signatures
            images, lmbda = tf.zeros([1, 64, 128, 3], tf.uint8), tf.constant([0.01])
            symbols = codec["analyze"](images=images, lmbda=lmbda)
            indexes = codec["scale_indexes"](side_symbols=symbols["side_symbols"], lmbda=lmbda)
            assert np.array_equal(indexes["scale_indexes"], symbols["scale_indexes"])
            out = codec["synthesize"](latent_symbols=symbols["latent_symbols"], lmbda=lmbda)
            assert out["images"].shape == (1, 64, 128, 3)
            codec["reconstruct"](images=images, lmbda=lmbda)
            codec["serving_default"](images=images, lmbda=lmbda)
            codec["coding_tables"]()
            style = tf.saved_model.load(base + "/style/1").signatures
            images, weights = tf.zeros([1, 32, 32, 3], tf.uint8), tf.constant([[1.0, 1, 0, 0, 0]])
            style["stylize"](images=images, loss_weights=weights)
            style["serving_default"](images=images, loss_weights=weights)
            style["loss_terms"](images=images, loss_weights=weights)
            assert "tensorflow_compression" not in sys.modules
            print("signatures run:", len(vae) + len(codec) + len(style))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("signatures run: 13", result.stdout)

    def test_no_node_of_any_servable_is_pinned_to_a_device(self):
        for name in ("vae", "codec", "style"):
            loaded = tf.saved_model.load(str(self.base / name / "1"))
            for signature, function in loaded.signatures.items():
                with self.subTest(servable=name, signature=signature):
                    devices = {node.device for node in function.graph.as_graph_def().node}
                    self.assertEqual(devices - {""}, set())

    def test_an_unknown_model_is_not_found(self):
        with self.assertRaises(serving_client.ServingError) as raised:
            self.clients["grpc"]("nothing").predict("serving_default", {})
        self.assertEqual(raised.exception.code, "NOT_FOUND")

    def test_publishing_a_new_version_under_load_loses_no_request(self):
        inputs = {"images": self.images[:1], "beta": np.float32([2.0])}
        errors, done = [], threading.Event()
        calls = [0] * 4

        def call(worker):
            client = self.clients["grpc"]("vae")
            while not done.is_set():
                try:
                    client.predict("reconstruct", inputs)
                    calls[worker] += 1
                except serving_client.ServingError as error:
                    errors.append(error)

        workers = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for worker in workers:
            worker.start()
        version = export_lib.export_model("beta_vae", self.vae, self.base, "vae")
        later = sum(calls)
        while sum(calls) < later + 8:  # Requests after the new version appeared.
            pass
        done.set()
        for worker in workers:
            worker.join()
        self.assertEqual(errors, [])
        self.assertEqual(version.name, "2")
        self.assertIn(("vae", 2), self.grpc_server.repository._loaded)

    def test_the_command_line_client_compresses_and_decompresses_through_the_servers(self):
        from PIL import Image

        from serving import cli

        root = pathlib.Path(tempfile.mkdtemp())
        Image.fromarray(self.photo).save(root / "in.png")
        grpc_args = [f"--grpc={self.grpc_server.address}", "--model=codec"]
        status = cli.run(
            ["compress", *grpc_args, "--lmbda=0.02", f"{root}/in.png", f"{root}/a.yoto"]
        )
        self.assertEqual(status, 0)
        expected = codec.Codec(self.codec_model).encode(self.photo, 0.02)
        self.assertEqual((root / "a.yoto").read_bytes(), expected)
        rest_args = [f"--rest={self.rest_server.url}", "--model=codec"]
        self.assertEqual(cli.run(["decompress", *rest_args, f"{root}/a.yoto", f"{root}/b.png"]), 0)
        decoded = np.asarray(Image.open(root / "b.png"))
        self.assertAllEqual(decoded, codec.Codec(self.codec_model).decode(expected))

    def test_the_command_line_client_exits_two_and_writes_nothing_on_errors(self):
        from PIL import Image

        from serving import cli

        root = pathlib.Path(tempfile.mkdtemp())
        Image.fromarray(self.photo).save(root / "in.png")
        (root / "bad.yoto").write_bytes(b"not a yoto file")
        grpc_args = [f"--grpc={self.grpc_server.address}", "--model=codec"]
        cases = {
            "lambda": ["compress", *grpc_args, "--lmbda=9", f"{root}/in.png"],
            "corrupt": ["decompress", *grpc_args, f"{root}/bad.yoto"],
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
                self.assertEqual(cli.run([*args, f"{root}/{name}.out"]), 2)
                self.assertFalse((root / f"{name}.out").exists())


class RetryTest(tf.test.TestCase):
    def test_unavailable_is_retried_with_backoff_and_other_errors_are_not(self):
        failures = iter([serving_client.ServingError("UNAVAILABLE", "down")] * 2)

        def flaky():
            error = next(failures, None)
            if error:
                raise error
            return "ok"

        retrying = serving_client._Retrying(retries=3, backoff_seconds=0.0)
        self.assertEqual(retrying.call(flaky), "ok")

        attempts = []

        def invalid():
            attempts.append(1)
            raise serving_client.ServingError("INVALID_ARGUMENT", "bad")

        with self.assertRaises(serving_client.ServingError):
            retrying.call(invalid)
        self.assertLen(attempts, 1)

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
