import tempfile

import tensorflow as tf

from export import export_lib, layout
from zoo import codec, compression, photos

keras = tf.keras


class CompressionExportTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        config = compression.Config.runlocal()
        cls.model = compression.build_model(config)
        cls.model.compile(optimizer=compression.optimizer(config))
        cls.model.fit(
            compression.train_dataset(config, seed=0), steps_per_epoch=3, epochs=1, verbose=0
        )
        cls.base_dir = tempfile.mkdtemp()
        cls.version_dir = export_lib.export_model("compression", cls.model, cls.base_dir, "codec")
        cls.in_memory = codec.Codec(cls.model)
        cls.exported = codec.Codec.from_saved_model(cls.version_dir)
        cls.image = photos.load_bundled("china")[:100, :130]

    def test_the_exported_codec_writes_the_same_bytes_as_the_model(self):
        for lmbda in (0.0018, 0.03, 0.18):
            with self.subTest(lmbda=lmbda):
                data = self.exported.encode(self.image, lmbda)
                self.assertEqual(data, self.in_memory.encode(self.image, lmbda))
                decoded = self.exported.decode(data)
                self.assertAllEqual(decoded, self.in_memory.decode(data))
                self.assertAllEqual(decoded, self.exported.reconstruct(self.image, lmbda))

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

    def test_a_beta_vae_export_is_not_taken_for_a_codec(self):
        from zoo import beta_vae

        model = beta_vae.build_model(beta_vae.Config.runlocal())
        version_dir = export_lib.export_model("beta_vae", model, self.base_dir, "vae")
        with self.assertRaisesRegex(ValueError, "not a compression codec"):
            codec.Codec.from_saved_model(version_dir)

    def test_warmup_requests_cover_the_coding_signatures(self):
        from tensorflow_serving.apis import prediction_log_pb2

        path = self.version_dir / "assets.extra" / layout.WARMUP_FILE
        names = set()
        for record in tf.data.TFRecordDataset(str(path)):
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
            names.add(log.predict_log.request.model_spec.signature_name)
            self.assertEqual(
                log.predict_log.request.inputs["images"].dtype, tf.uint8.as_datatype_enum
            )
        self.assertEqual(names, {"serving_default", "compress"})
