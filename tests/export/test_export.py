import pathlib
import subprocess
import sys

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

from export import export_lib, layout, list_ops
from tests import session_bundle
from zoo.beta_vae.serving import BATCHING_PARAMETERS
from zoo.data import mnist as data
from zoo.training import train_lib

REPO = pathlib.Path(__file__).resolve().parents[2]


class BetaVAEExportTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = pathlib.Path(tf.compat.v1.test.get_temp_dir()) / "export_test"
        cls.model_dir = root / "run"
        cls.base_dir = root / "serving"
        cls.model = train_lib.train("beta_vae", cls.model_dir, steps=3, runlocal=True, verbose=0)
        cls.version_dir = export_lib.export_model_dir(cls.model_dir, cls.base_dir, "vae")
        cls.loaded = tf.saved_model.load(str(cls.version_dir))
        cls.images = data.load_mnist("test")[:4]
        cls.servable_dirs = (cls.version_dir,)

    def signature(self, name):
        return self.loaded.signatures[name]

    def test_export_uses_tf_serving_layout(self):
        self.assertEqual(self.version_dir, self.base_dir / "vae" / "1")
        self.assertTrue((self.version_dir / "saved_model.pb").is_file())
        self.assertTrue((self.version_dir / "assets.extra" / layout.WARMUP_FILE).is_file())
        leftovers = [p.name for p in (self.base_dir / "vae").iterdir() if p.name.startswith(".")]
        self.assertEmpty(leftovers)

    def test_signatures_take_beta_as_a_named_per_example_input(self):
        self.assertContainsSubset(
            {"serving_default", "reconstruct", "sample", "loss_terms"}, set(self.loaded.signatures)
        )
        _, inputs = self.signature("reconstruct").structured_input_signature
        self.assertEqual(set(inputs), {"images", "beta"})
        # Of unknown rank, so that the graph's shape checks run on every request.
        for name, signature in self.loaded.signatures.items():
            for spec in signature.structured_input_signature[1].values():
                with self.subTest(signature=name, input=spec.name):
                    self.assertIsNone(spec.shape.rank)

    def test_reloaded_model_matches_the_in_memory_model_at_two_betas(self):
        for beta in (0.5, 32.0):
            with self.subTest(beta=beta):
                betas = tf.fill([4], beta)
                weights = tf.stack([tf.ones([4]), betas], axis=-1)
                served = self.signature("reconstruct")(images=self.images, beta=betas)
                self.assertAllClose(
                    served["reconstructions"], self.model(self.images, weights), atol=1e-6
                )
                terms = self.signature("loss_terms")(images=self.images, beta=betas)
                expected = self.model.compute_loss_terms(self.images, None, weights, False)
                self.assertAllClose(terms["kl"], expected["kl"], rtol=1e-5)
                self.assertAllClose(
                    terms["total"], expected["reconstruction"] + beta * expected["kl"], rtol=1e-5
                )
                seeds = [7, 8, 9, 10]
                sampled = self.signature("sample")(beta=betas, seed=tf.constant(seeds, tf.int64))
                for row, seed in enumerate(seeds):
                    expected = self.model.sample_images(weights[row : row + 1], [seed, 0])
                    self.assertAllClose(sampled["images"][row : row + 1], expected, atol=1e-6)

    def test_a_sample_depends_only_on_its_own_seed_and_beta(self):
        sample = self.signature("sample")
        alone = sample(beta=tf.constant([2.0]), seed=tf.constant([5], tf.int64))["images"]
        for others in ([(0.5, 1)], [(64.0, 5), (0.125, 2)]):
            with self.subTest(others=others):
                betas = tf.constant([b for b, _ in others] + [2.0])
                seeds = tf.constant([s for _, s in others] + [5], tf.int64)
                batch = sample(beta=betas, seed=seeds)["images"]
                self.assertAllClose(batch[-1:], alone, atol=1e-6)
        other_seed = sample(beta=tf.constant([2.0]), seed=tf.constant([6], tf.int64))["images"]
        self.assertNotAllClose(other_seed, alone)

    def test_serving_default_is_reconstruct(self):
        betas = tf.constant([1.0, 2.0, 4.0, 8.0])
        self.assertAllClose(
            self.signature("serving_default")(images=self.images, beta=betas)["reconstructions"],
            self.signature("reconstruct")(images=self.images, beta=betas)["reconstructions"],
        )

    def test_bad_beta_is_refused_with_a_message_naming_it(self):
        cases = {
            "nan": ([np.nan, 1, 1, 1], "beta must be finite"),
            "inf": ([np.inf, 1, 1, 1], "beta must be finite"),
            "negative": ([-1, 1, 1, 1], "beta must be > 0"),
            "zero": ([0, 1, 1, 1], "beta must be > 0"),
            "above_range": ([1000, 1, 1, 1], r"trained range \[0.125, 512\]"),
            "below_range": ([0.01, 1, 1, 1], r"trained range \[0.125, 512\]"),
            "too_few": ([1, 1], "same batch size"),
        }
        for name, (beta, message) in cases.items():
            with (
                self.subTest(name),
                self.assertRaisesRegex(tf.errors.InvalidArgumentError, message),
            ):
                self.signature("reconstruct")(
                    images=self.images, beta=tf.constant(beta, tf.float32)
                )

    def test_bad_images_are_refused(self):
        beta = tf.ones([4])
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"images must be \[N, 28, 28, 1\], with size 28"
        ):
            self.signature("reconstruct")(images=tf.zeros([4, 32, 32, 1]), beta=beta)
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"images must be \[N, 28, 28, 1\], with size 1"
        ):
            self.signature("reconstruct")(images=tf.zeros([4, 28, 28, 3]), beta=beta)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, r"images values must lie"):
            self.signature("reconstruct")(images=self.images * 255.0, beta=beta)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "images must be finite"):
            self.signature("reconstruct")(images=self.images + np.nan, beta=beta)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "empty"):
            self.signature("reconstruct")(images=tf.zeros([0, 28, 28, 1]), beta=tf.zeros([0]))
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "beta must be finite"):
            self.signature("sample")(beta=tf.constant([np.nan]), seed=tf.constant([0], tf.int64))

    def test_a_model_server_session_refuses_bad_shapes_naming_the_input(self):
        # No shape check before the graph, as in TF Serving: the graph's checks must name them.
        bundle = session_bundle.SessionBundle(self.version_dir)
        self.addCleanup(bundle.close)
        images, beta = np.zeros([2, 28, 28, 1], np.float32), np.float32([1, 2])
        seed = np.int64([1, 2])
        cases = {
            "images of rank 3": ("reconstruct", {"images": images[..., 0], "beta": beta}),
            "images of rank 5": ("loss_terms", {"images": images[..., None], "beta": beta}),
            "images of 14 x 14": ("reconstruct", {"images": images[:, :14, :14], "beta": beta}),
            "images of 3 channels": ("reconstruct", {"images": images.repeat(3, -1), "beta": beta}),
            "a scalar beta": ("reconstruct", {"images": images, "beta": np.float32(1)}),
            "a beta matrix": ("loss_terms", {"images": images, "beta": beta[:, None]}),
            "a scalar seed": ("sample", {"beta": beta, "seed": np.int64(1)}),
            "one seed too few": ("sample", {"beta": beta, "seed": seed[:1]}),
            "a scalar beta to sample": ("sample", {"beta": np.float32(1), "seed": seed}),
            "one image too few": ("reconstruct", {"images": images[:1], "beta": beta}),
            "an empty batch": ("reconstruct", {"images": images[:0], "beta": beta[:0]}),
        }
        names = {
            "images": r"images must be \[N, 28, 28, 1\]",
            "beta": r"beta must be \[N\]",
            "seed": r"seed must be \[N\]",
        }
        messages = {
            "images of rank 3": names["images"],
            "images of rank 5": names["images"],
            "images of 14 x 14": names["images"] + ", with size 28 on axis 1",
            "images of 3 channels": names["images"] + ", with size 1 on axis 3",
            "a scalar beta": names["beta"],
            "a beta matrix": names["beta"],
            "a scalar seed": names["seed"],
            "one seed too few": "seed and beta need the same batch size",
            "a scalar beta to sample": names["beta"],
            "one image too few": "images and beta need the same batch size",
            "an empty batch": "beta is empty",
        }
        for case, (signature, inputs) in cases.items():
            with (
                self.subTest(case),
                self.assertRaisesRegex(tf.errors.InvalidArgumentError, messages[case]),
            ):
                bundle.run(signature, inputs)

    def test_warmup_requests_replay_through_the_signatures(self):
        path = self.version_dir / "assets.extra" / layout.WARMUP_FILE
        replayed = []
        for record in tf.data.TFRecordDataset(str(path)):
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
            request = log.predict_log.request
            self.assertEqual(request.model_spec.name, "vae")
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            outputs = self.signature(request.model_spec.signature_name)(**inputs)
            self.assertNotEmpty(outputs)
            replayed.append(request.model_spec.signature_name)
        self.assertCountEqual(replayed, ["serving_default", "reconstruct", "sample", "loss_terms"])

    def test_models_configs_parse_with_the_serving_protos_and_list_the_stock_vae(self):
        for name in (layout.MODELS_CONFIG, layout.CUSTOM_OPS_MODELS_CONFIG):
            with self.subTest(name):
                text = (self.base_dir / name).read_text()
                config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
                (model,) = config.model_config_list.config
                self.assertEqual(model.name, "vae")
                self.assertEqual(pathlib.Path(model.base_path), (self.base_dir / "vae").resolve())
                self.assertEqual(model.model_platform, "tensorflow")

    def test_the_vae_asks_tf_serving_to_batch_it_and_the_global_file_sets_the_threads(self):
        parameters = layout.read_batching_parameters(self.version_dir / layout.BATCHING_PARAMS_FILE)
        self.assertEqual(parameters, BATCHING_PARAMETERS)
        shared = layout.read_batching_parameters(self.base_dir / layout.BATCHING_CONFIG)
        self.assertEqual(shared["num_batch_threads"], layout.SHARED_BATCH_THREADS)
        self.assertIsNone(shared["max_batch_size"])

    def test_batching_parameters_round_trip_and_a_malformed_line_names_the_file(self):
        path = pathlib.Path(self.get_temp_dir()) / layout.BATCHING_PARAMS_FILE
        parameters = {**BATCHING_PARAMETERS, "allowed_batch_sizes": [8, 64, 256]}
        path.write_text("# a comment\n\n" + layout.batching_parameters_text(parameters))
        self.assertEqual(layout.read_batching_parameters(path), parameters)
        for bad in (
            "max_batch_size: 8",
            "max_batch_size { value: -1 }",
            "pad_variable_length_inputs: yes",
            "enable_large_batch_splitting: true",
            "max_batch_size { value: 8 }\nmax_batch_size { value: 9 }",
        ):
            with self.subTest(bad):
                path.write_text(bad + "\n")
                with self.assertRaisesRegex(ValueError, f"{path.name}:[12]"):
                    layout.read_batching_parameters(path)

    def test_metadata_records_terms_trained_ranges_and_the_checkpoint(self):
        metadata = layout.read_metadata(self.version_dir)
        self.assertEqual(metadata["task"], "beta_vae")
        self.assertEqual(metadata["term_names"], ["reconstruction", "kl"])
        self.assertEqual(metadata["weight_ranges"]["kl"], [0.125, 512.0])
        self.assertEqual(
            metadata["source"],
            {"model_dir": str(self.model_dir.resolve()), "checkpoint": "ckpt-3"},
        )

    def test_the_kernel_registry_tells_gpu_kernels_from_cpu_only_ones(self):
        self.assertTrue(list_ops.gpu_kernels_registered(), "needs the CUDA-built tensorflow wheel")
        double, int32 = (tf.float64.as_datatype_enum,), (tf.int32.as_datatype_enum,)
        self.assertEqual(list_ops.gpu_kernel("Conv2D", {"T": double}), (list_ops.GPU, ()))
        self.assertEqual(
            list_ops.gpu_kernel("Shape", {"T": int32, "out_type": int32})[0],
            list_ops.GPU_HOST_MEMORY,
        )
        self.assertEqual(list_ops.gpu_kernel("EncodeBase64", {})[0], list_ops.CPU_ONLY)
        self.assertEqual(list_ops.gpu_kernel("NoSuchOp", {})[0], list_ops.NOT_REGISTERED)

    def test_every_op_of_the_vae_has_a_gpu_kernel_but_strings(self):
        for row in list_ops.placement_table(self.version_dir):
            with self.subTest(op=row["op"], dtypes=row["dtypes"]):
                if row["kernel"] not in (list_ops.GPU, list_ops.GPU_HOST_MEMORY):
                    self.assertIn("string", row["dtypes"])
        output = subprocess.run(
            [sys.executable, "-m", "export.list_ops", str(self.version_dir)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO,
        ).stdout
        self.assertRegex(output, r"GPU\s+Conv2D\s+T=float32\s+loss_terms reconstruct sample")
        self.assertIn("built with CUDA: yes", output)

    def test_no_node_is_pinned_to_a_device(self):
        for name, function in self.loaded.signatures.items():
            devices = {node.device for node in function.graph.as_graph_def().node}
            with self.subTest(name):
                self.assertEqual(devices - {""}, set())

    def test_next_export_takes_the_next_version_and_never_overwrites(self):
        base = pathlib.Path(self.get_temp_dir()) / "versions"
        first = export_lib.export_model("beta_vae", self.model, base, "vae")
        second = export_lib.export_model("beta_vae", self.model, base, "vae")
        self.assertEqual((first.name, second.name), ("1", "2"))
        with self.assertRaisesRegex(FileExistsError, "already exists"):
            export_lib.export_model("beta_vae", self.model, base, "vae", version=2)

    def test_a_failed_export_leaves_no_version_behind(self):
        base = pathlib.Path(self.get_temp_dir()) / "failed"

        def write_then_fail(directory):
            (directory / "saved_model.pb").write_bytes(b"partial")
            raise RuntimeError("disk full")

        with self.assertRaisesRegex(RuntimeError, "disk full"):
            layout.write_version(base, "vae", None, write_then_fail)
        self.assertEqual(list((base / "vae").iterdir()), [])

    def test_export_binary_reports_a_missing_model_dir(self):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "export.export_saved_model",
                f"--model_dir={self.get_temp_dir()}/nothing",
                f"--base_dir={self.get_temp_dir()}/out",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a model directory", result.stderr)


if __name__ == "__main__":
    tf.test.main()
