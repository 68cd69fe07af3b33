import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_compression as tfc

from export import export_lib, layout, list_ops
from serving import codec_client
from tests import session_bundle
from tests.codec_fixtures import SEED_1_WIDE_LATENTS, full_codec_export, shared_runlocal_codec
from zoo.compression import codec, codec_format
from zoo.data import photos


def decompress_inputs(coded: dict) -> dict:
    """`decompress`'s inputs from `compress`'s outputs, but for `lmbda`."""
    return {
        "latent_strings": coded["latent_strings_bytes"],
        "side_strings": coded["side_strings_bytes"],
        "side_shape": coded["side_shape"],
    }


class CompressionExportTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model, cls.base_dir, cls.version_dir = full_codec_export()
        cls.in_memory = codec.Codec(cls.model)
        cls.exported = codec.Codec.from_saved_model(cls.version_dir)
        cls.image = photos.load_bundled("china")[:100, :130]
        cls.servable_dirs = (cls.version_dir,)

    def test_the_exported_codec_writes_the_same_bytes_as_the_model(self):
        for lmbda in (0.0018, 0.03, 0.18):
            with self.subTest(lmbda=lmbda):
                data = self.exported.encode(self.image, lmbda)
                self.assertEqual(data, self.in_memory.encode(self.image, lmbda))
                decoded = self.exported.decode(data)
                self.assertAllEqual(decoded, self.in_memory.decode(data))
                self.assertAllEqual(decoded, self.exported.reconstruct(self.image, lmbda))

    def test_the_export_computes_kernels_once_and_gives_the_model_its_parameterisation_back(self):
        layers = [m for m in self.model.submodules if isinstance(m, tfc.SignalConv2D)]
        self.assertNotEmpty(layers)
        for layer in layers:
            self.assertIsInstance(layer.kernel_parameter, tfc.RDFTParameter)
        graph = tf.saved_model.load(self.version_dir).signatures["compress"].graph.as_graph_def()
        ops = {node.op for node in graph.node}
        for function in graph.library.function:
            ops |= {node.op for node in function.node_def}
        self.assertNotIn("IRFFT2D", ops)

    def test_the_exported_rate_estimate_equals_the_models(self):
        self.assertAllClose(
            self.exported.estimated_bits(self.image, 0.01),
            self.in_memory.estimated_bits(self.image, 0.01),
            rtol=1e-5,
        )

    def test_the_lambda_range_and_terms_are_readable_from_the_export(self):
        metadata = layout.read_metadata(self.version_dir)
        self.assertEqual(metadata["task"], "compression")
        self.assertEqual(metadata["term_names"], ["rate", "distortion"])
        self.assertAllClose(metadata["weight_ranges"]["distortion"], [0.0018, 0.18])
        self.assertEqual(self.exported.lmbda_range, self.in_memory.lmbda_range)

    def test_bad_requests_fail_in_the_graph_with_a_message_naming_the_input(self):
        compress = tf.saved_model.load(str(self.version_dir)).signatures["compress"]
        images = tf.zeros([1, 64, 64, 3], tf.uint8)
        cases = {
            "lmbda must lie in the trained range": (images, [0.5]),
            "lmbda must be finite": (images, [float("nan")]),
            "one lmbda per image": (images, [0.01, 0.02]),
            "multiples of 64": (tf.zeros([1, 64, 70, 3], tf.uint8), [0.01]),
        }
        for message, (bad_images, lmbda) in cases.items():
            with self.subTest(message=message):
                with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
                    compress(images=bad_images, lmbda=tf.constant(lmbda, tf.float32))

    def test_compress_gives_every_image_a_side_shape_row_and_decompress_reads_them(self):
        bundle = session_bundle.SessionBundle(self.version_dir)
        self.addCleanup(bundle.close)
        images = np.full([2, 128, 64, 3], 100, np.uint8)
        lmbda = np.float32([0.01, 0.1])
        coded = bundle.run("compress", {"images": images, "lmbda": lmbda})
        self.assertAllEqual(coded["side_shape"], [[2, 1], [2, 1]])
        decoded = bundle.run("decompress", {**decompress_inputs(coded), "lmbda": lmbda})["images"]
        reconstructed = bundle.run("reconstruct", {"images": images, "lmbda": lmbda})
        self.assertAllEqual(decoded, reconstructed["reconstructions"])

    def test_a_model_server_session_refuses_bad_shapes_naming_the_input(self):
        # No shape check before the graph, as in TF Serving: the graph's checks must name them.
        bundle = session_bundle.SessionBundle(self.version_dir)
        self.addCleanup(bundle.close)
        images, lmbda = np.zeros([2, 64, 64, 3], np.uint8), np.float32([0.01, 0.02])
        coded = bundle.run("compress", {"images": images, "lmbda": lmbda})
        strings = {
            "latent_strings": coded["latent_strings_bytes"],
            "side_strings": coded["side_strings_bytes"],
        }
        rows = coded["side_shape"]
        cases = {
            "images of rank 3": (
                "compress",
                {"images": images[0], "lmbda": lmbda},
                r"images must be \[N, height, width, 3\]",
            ),
            "images of 4 channels": (
                "reconstruct",
                {"images": np.zeros([2, 64, 64, 4], np.uint8), "lmbda": lmbda},
                r"images must be \[N, height, width, 3\], with 3 channels",
            ),
            "a scalar lmbda": (
                "compress",
                {"images": images, "lmbda": np.float32(0.01)},
                r"lmbda must be \[N\]",
            ),
            "a scalar latent string": (
                "decompress",
                {
                    **strings,
                    "latent_strings": coded["latent_strings_bytes"][0],
                    "lmbda": lmbda,
                    "side_shape": rows,
                },
                r"latent_strings must be \[N\]",
            ),
            "side_shape of rank 1": (
                "decompress",
                {**strings, "lmbda": lmbda, "side_shape": rows[0]},
                r"side_shape must be \[N, 2\]",
            ),
            "side_shape of 3 columns": (
                "decompress",
                {**strings, "lmbda": lmbda, "side_shape": np.int32([[1, 1, 1], [1, 1, 1]])},
                r"side_shape must be \[N, 2\], with 2 columns",
            ),
            "side_shape one row short": (
                "decompress",
                {**strings, "lmbda": lmbda, "side_shape": rows[:1]},
                "side_shape and lmbda need one row per image",
            ),
            "side_shape rows of two sizes": (
                "decompress",
                {**strings, "lmbda": lmbda, "side_shape": np.int32([[1, 1], [1, 2]])},
                "side_shape rows must be equal",
            ),
            "a side_shape past the pixel limit": (
                "decompress",
                {**strings, "lmbda": lmbda, "side_shape": np.int32([[70000] * 2] * 2)},
                "side_shape must be positive, within",
            ),
        }
        for case, (signature, inputs, message) in cases.items():
            with (
                self.subTest(case),
                self.assertRaisesRegex(tf.errors.InvalidArgumentError, message),
            ):
                bundle.run(signature, inputs)

    def test_a_beta_vae_export_is_not_taken_for_a_codec(self):
        from zoo.beta_vae import config as vae_config
        from zoo.beta_vae import model as beta_vae

        model = beta_vae.build_model(vae_config.Config.runlocal())
        version_dir = export_lib.export_model("beta_vae", model, self.base_dir, "vae")
        with self.assertRaisesRegex(ValueError, "not a compression codec"):
            codec.Codec.from_saved_model(version_dir)

    def test_every_string_output_is_named_so_that_rest_base64_encodes_it(self):
        bundle = session_bundle.SessionBundle(self.version_dir)
        self.addCleanup(bundle.close)
        for name, signature in bundle.meta_graph.signature_def.items():
            for alias, info in signature.outputs.items():
                if info.dtype == tf.string.as_datatype_enum:
                    with self.subTest(signature=name, output=alias):
                        self.assertEndsWith(alias, "_bytes")

    def test_only_the_range_coder_and_strings_lack_a_gpu_kernel(self):
        # tensorflow_compression is imported here: its ops' kernels are registered.
        cpu_rows = [
            row
            for row in list_ops.placement_table(self.version_dir)
            if row["kernel"] not in (list_ops.GPU, list_ops.GPU_HOST_MEMORY)
        ]
        self.assertTrue(any(row["op"].startswith("Entropy") for row in cpu_rows), cpu_rows)
        for row in cpu_rows:
            with self.subTest(op=row["op"], dtypes=row["dtypes"]):
                self.assertIsNotNone(list_ops.cpu_reason(row), row)

    def test_warmup_requests_cover_every_signature_with_the_served_dtypes(self):
        requests = dict(session_bundle.warmup_requests(self.version_dir))
        self.assertCountEqual(
            requests, ["serving_default", "reconstruct", "compress", "decompress"]
        )
        self.assertEqual(requests["compress"]["images"].dtype, np.uint8)
        self.assertEqual(requests["decompress"]["side_shape"].dtype, np.int32)
        self.assertEqual(requests["decompress"]["latent_strings"].dtype, object)


class StockCompressionExportTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    """The stock-op servable and the client that range-codes locally."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Latents wider than the transforms (M > N): the symbols' signatures must follow.
        cls.model, _ = shared_runlocal_codec(**SEED_1_WIDE_LATENTS)
        base = pathlib.Path(tempfile.mkdtemp())
        # The full codec's export, for the checks that compare both kinds of servable.
        _, _, cls.full_dir = full_codec_export()
        cls.stock_dir = export_lib.export_model(
            "compression", cls.model, base, "codec_stock", stock=True
        )
        cls.in_memory = codec.Codec(cls.model)
        cls.client = codec_client.StockCodecClient(codec_client.in_process_predict(cls.stock_dir))
        cls.image = photos.load_bundled("coffee")[:90, :150]
        cls.servable_dirs = (cls.stock_dir,)

    def test_the_client_writes_and_reads_exactly_the_in_process_bytes(self):
        for lmbda in (0.0018, 0.03, 0.18):
            with self.subTest(lmbda=lmbda):
                data = self.client.encode(self.image, lmbda)
                self.assertEqual(data, self.in_memory.encode(self.image, lmbda))
                self.assertAllEqual(self.client.decode(data), self.in_memory.decode(data))

    # Slow: a second stock export (about 2 minutes of the fast suite); the fast suite compares
    # the client with the in-process codec above, the SavedModel with it in CompressionExportTest.
    @pytest.mark.slow
    def test_each_backend_writes_the_same_bytes_for_one_image_and_decodes_them_alike(self):
        model, _, full_dir = full_codec_export()
        stock_dir = export_lib.export_model(
            "compression", model, tempfile.mkdtemp(), "codec_stock", stock=True
        )
        codecs = {
            "model": codec.Codec(model),
            "saved_model": codec.Codec.from_saved_model(full_dir),
            "stock": codec_client.StockCodecClient(codec_client.in_process_predict(stock_dir)),
        }
        data = codecs["model"].encode(self.image, 0.01)
        expected = codecs["model"].reconstruct(self.image, 0.01)
        for name, backend_codec in codecs.items():
            with self.subTest(backend=name):
                self.assertEqual(backend_codec.encode(self.image, 0.01), data)
                self.assertAllEqual(backend_codec.decode(data), expected)
                self.assertAllEqual(backend_codec.reconstruct(self.image, 0.01), expected)

    def test_the_client_has_no_rate_estimate_and_says_where_to_find_one(self):
        with self.assertRaisesRegex(NotImplementedError, "no rate estimate"):
            self.client.estimated_bits(self.image, 0.01)

    def test_the_client_refuses_corrupt_files_and_lambdas_out_of_range(self):
        data = bytearray(self.client.encode(self.image, 0.01))
        data[-3] ^= 0x10
        with self.assertRaises(codec_format.FormatError):
            self.client.decode(bytes(data))
        with self.assertRaisesRegex(ValueError, r"\[0.0018, 0.18\]"):
            self.client.encode(self.image, 0.5)

    def test_coding_tables_gives_one_copy_of_the_tables_per_row(self):
        bundle = session_bundle.SessionBundle(self.stock_dir)
        self.addCleanup(bundle.close)
        one = bundle.run("coding_tables", {"rows": np.int32([0])})
        three = bundle.run("coding_tables", {"rows": np.int32([0, 5, -1])})
        self.assertAllClose(one["lmbda_range"], [[0.0018, 0.18]])
        for name, table in three.items():
            with self.subTest(name):
                self.assertAllEqual(table, np.repeat(one[name], 3, axis=0))

    def test_a_model_server_session_refuses_bad_shapes_naming_the_input(self):
        # No shape check before the graph, as in TF Serving: the graph's checks must name them.
        bundle = session_bundle.SessionBundle(self.stock_dir)
        self.addCleanup(bundle.close)
        lmbda = np.float32([0.01])
        side, latent = self.model.num_filters, self.model.num_latent_filters
        cases = {
            "images of 4 channels": (
                "analyze",
                {"images": np.zeros([1, 64, 64, 4], np.uint8), "lmbda": lmbda},
                r"images must be \[N, height, width, 3\], with 3 channels",
            ),
            "side_symbols of rank 3": (
                "scale_indexes",
                {"side_symbols": np.zeros([1, 1, side], np.int32), "lmbda": lmbda},
                rf"side_symbols must be \[N, height, width, {side}\]",
            ),
            "side_symbols of too few channels": (
                "scale_indexes",
                {"side_symbols": np.zeros([1, 1, 1, side - 1], np.int32), "lmbda": lmbda},
                rf"side_symbols must be \[N, height, width, {side}\], with {side} channels",
            ),
            "latent_symbols of the side's channels": (
                "synthesize",
                {"latent_symbols": np.zeros([1, 1, 1, side], np.int32), "lmbda": lmbda},
                rf"latent_symbols must be \[N, height, width, {latent}\], with {latent} channels",
            ),
            "a scalar rows": ("coding_tables", {"rows": np.int32(0)}, r"rows must be \[N\]"),
            "no rows": ("coding_tables", {"rows": np.zeros([0], np.int32)}, "rows is empty"),
        }
        for case, (signature, inputs, message) in cases.items():
            with (
                self.subTest(case),
                self.assertRaisesRegex(tf.errors.InvalidArgumentError, message),
            ):
                bundle.run(signature, inputs)

    def test_list_ops_finds_range_coding_only_in_the_full_codec(self):
        def list_ops(directory):
            return subprocess.run(
                [sys.executable, "-m", "export.list_ops", str(directory)],
                capture_output=True,
                text=True,
                timeout=300,
            )

        stock = list_ops(self.stock_dir)
        self.assertEqual(stock.returncode, 0, stock.stdout + stock.stderr[-2000:])
        self.assertIn("every op is a stock TensorFlow op", stock.stdout)
        full = list_ops(self.full_dir)
        self.assertEqual(full.returncode, 1, full.stdout)
        self.assertRegex(full.stdout, r"NOT stock TensorFlow ops: .*Entropy")

    def test_no_node_of_either_servable_is_pinned_to_a_device(self):
        for directory in (self.full_dir, self.stock_dir):
            for name, function in tf.saved_model.load(str(directory)).signatures.items():
                with self.subTest(servable=directory.parent.name, signature=name):
                    devices = {node.device for node in function.graph.as_graph_def().node}
                    self.assertEqual(devices - {""}, set())

    def test_models_config_lists_only_the_stock_servable_and_the_custom_ops_config_both(self):
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        # Copies of this class's two exports: the shared base gains other models later.
        base = pathlib.Path(tempfile.mkdtemp())
        shutil.copytree(self.full_dir, base / "codec" / "1")
        shutil.copytree(self.stock_dir, base / "codec_stock" / "1")
        layout.write_models_config(base)

        def listed(config_name):
            text = (base / config_name).read_text()
            config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
            return sorted(model.name for model in config.model_config_list.config)

        # A stock ModelServer that cannot load one model does not start at all.
        self.assertEqual(listed(layout.MODELS_CONFIG), ["codec_stock"])
        self.assertEqual(listed(layout.CUSTOM_OPS_MODELS_CONFIG), ["codec", "codec_stock"])
        self.assertTrue(layout.read_metadata(self.stock_dir)["stock_ops_only"])
        self.assertFalse(layout.read_metadata(self.full_dir)["stock_ops_only"])
        # Image models are not batched: a batch merges only images of one size.
        for version_dir in (self.full_dir, self.stock_dir):
            self.assertFalse((version_dir / layout.BATCHING_PARAMS_FILE).exists())
        self.assertTrue((self.stock_dir.parent.parent / layout.BATCHING_CONFIG).is_file())

    # A training run and two more exports; the listing of each config stays fast above.
    @pytest.mark.slow
    def test_exporting_a_training_dir_lists_only_the_stock_servable_in_models_config(self):
        from google.protobuf import text_format
        from tensorflow_serving.config import model_server_config_pb2

        from zoo.training import train_lib

        root = pathlib.Path(tempfile.mkdtemp())
        train_lib.train("compression", root / "run", steps=1, runlocal=True, verbose=0)
        written = export_lib.export_all(root / "run", root / "serving", "codec")
        self.assertEqual([p.parent.name for p in written], ["codec", "codec_stock"])

        def listed(config_name):
            text = (root / "serving" / config_name).read_text()
            config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
            return sorted(model.name for model in config.model_config_list.config)

        # A stock ModelServer that cannot load one model does not start at all.
        self.assertEqual(listed(layout.MODELS_CONFIG), ["codec_stock"])
        self.assertEqual(listed(layout.CUSTOM_OPS_MODELS_CONFIG), ["codec", "codec_stock"])
        self.assertTrue(layout.read_metadata(written[1])["stock_ops_only"])
        self.assertFalse(layout.read_metadata(written[0])["stock_ops_only"])
        # Image models are not batched: a batch merges only images of one size.
        for version_dir in written:
            self.assertFalse((version_dir / layout.BATCHING_PARAMS_FILE).exists())
        self.assertTrue((root / "serving" / layout.BATCHING_CONFIG).is_file())
