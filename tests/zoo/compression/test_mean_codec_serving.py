"""The exported servables of mean-scale and channel-context codecs write and read `.yoto` v3."""

import pathlib
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from export import export_lib
from serving import codec_client
from tests import session_bundle
from tests.codec_fixtures import shared_mean_codec
from zoo import saved_model_metadata
from zoo.compression import codec, codec_format, stock_serving
from zoo.data import photos


def module_predict(module) -> codec_client.Predict:
    """A `predict` calling a serving module's signatures in this process, unsaved."""
    signatures = module.signatures()

    def predict(signature_name, inputs):
        outputs = signatures[signature_name](
            **{name: tf.constant(value) for name, value in inputs.items()}
        )
        return {name: value.numpy() for name, value in outputs.items()}

    return predict


class StockServingModuleTest(tf.test.TestCase):
    """The stock-op servable's module, unexported (exports cost minutes: the slow tests')."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = shared_mean_codec("channel_context")
        cls.calls = []
        predict = module_predict(stock_serving.CompressionStockServing(cls.model))

        def recording_predict(signature, inputs):
            cls.calls.append(signature)
            return predict(signature, inputs)

        cls.client = codec_client.StockCodecClient(recording_predict)
        cls.in_memory = codec.Codec(cls.model)
        cls.image = photos.load_bundled("china")[:64, :130]

    def test_the_client_writes_the_models_bytes_and_decodes_a_slice_a_call(self):
        data = self.in_memory.encode(self.image, 0.05)
        self.assertEqual(self.client.encode(self.image, 0.05), data)
        del self.calls[:]
        self.assertAllEqual(self.client.decode(data), self.in_memory.reconstruct(self.image, 0.05))
        self.assertEqual(self.calls, ["scale_indexes"] * 4 + ["synthesize"])
        self.assertEqual(self.client.architecture, "channel_context/4")


@pytest.mark.slow
class ChannelContextExportTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    """The full export (range coding in the graph) and the stock-op one (on the client)."""

    ENTROPY_MODEL = "channel_context"
    ARCHITECTURE = "channel_context/4"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = shared_mean_codec(cls.ENTROPY_MODEL)
        base = pathlib.Path(tempfile.mkdtemp())
        cls.full_dir = export_lib.export_model("compression", cls.model, base, "codec")
        cls.stock_dir = export_lib.export_model(
            "compression", cls.model, base, "codec_stock", stock=True
        )
        cls.servable_dirs = (cls.full_dir, cls.stock_dir)
        cls.in_memory = codec.Codec(cls.model)
        cls.exported = codec.Codec.from_saved_model(cls.full_dir)
        cls.calls = []
        predict = codec_client.in_process_predict(cls.stock_dir)

        def recording_predict(signature, inputs):
            cls.calls.append((signature, sorted(inputs)))
            return predict(signature, inputs)

        cls.client = codec_client.StockCodecClient(recording_predict)
        cls.image = photos.load_bundled("china")[:100, :130]

    def test_the_exports_name_the_architecture_and_fingerprint(self):
        for directory in self.servable_dirs:
            metadata = saved_model_metadata.read_metadata(directory)
            self.assertEqual(metadata["coding_architecture"], self.ARCHITECTURE)
            self.assertEqual(metadata["coding_fingerprint"], self.model.coding_fingerprint().hex())
        for yoto in (self.exported, self.client):
            self.assertEqual(yoto.architecture, self.ARCHITECTURE)
            self.assertEqual(yoto.fingerprint, self.in_memory.fingerprint)

    def test_every_backend_writes_the_models_bytes_and_decodes_them_exactly(self):
        for lmbda in (0.0018, 0.18):
            data = self.in_memory.encode(self.image, lmbda)
            expected = self.in_memory.reconstruct(self.image, lmbda)
            self.assertAllEqual(self.in_memory.decode(data), expected)
            for name, yoto in (("full", self.exported), ("stock", self.client)):
                with self.subTest(backend=name, lmbda=lmbda):
                    self.assertEqual(yoto.encode(self.image, lmbda), data)
                    self.assertAllEqual(yoto.decode(data), expected)
                    self.assertAllEqual(yoto.reconstruct(self.image, lmbda), expected)

    def test_the_stock_client_asks_for_scale_indexes_once_a_slice_then_synthesizes(self):
        data = self.in_memory.encode(self.image, 0.01)
        del self.calls[:]
        steps = self.client.decode_steps(data)
        slices = self.model.num_slices
        latent_inputs = ["latent_symbols"] if slices > 1 else []
        expected = [("scale_indexes", sorted(["lmbda", "side_symbols", *latent_inputs]))] * slices
        expected.append(("synthesize", ["latent_symbols", "lmbda", "side_symbols"]))
        self.assertEqual(self.calls, expected)
        padded = tf.constant(codec.Codec.pad(self.image)[np.newaxis])
        symbols = self.model.coding_symbols(padded, tf.constant([self.client.check_lmbda(0.01)]))
        self.assertAllEqual(steps["scale_indexes"], symbols["scale_indexes"][0])
        self.assertAllEqual(steps["latent_symbols"], symbols["latent_symbols"][0])

    def test_the_decompress_signature_wants_one_latent_string_a_slice(self):
        coded = self.exported.backend._signatures["compress"](  # noqa: SLF001
            images=tf.constant(codec.Codec.pad(self.image)[np.newaxis]),
            lmbda=tf.constant([0.01]),
        )
        self.assertEqual(coded["latent_strings_bytes"].shape, (1, self.model.num_slices))
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "latent_strings must be"):
            self.exported.backend._signatures["decompress"](  # noqa: SLF001
                latent_strings=coded["latent_strings_bytes"][:, 0],
                side_strings=coded["side_strings_bytes"],
                lmbda=tf.constant([0.01]),
                side_shape=coded["side_shape"],
            )

    def test_the_stock_synthesis_refuses_latents_and_side_of_other_sizes(self):
        signature = tf.saved_model.load(str(self.stock_dir)).signatures["synthesize"]
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "4 times side_symbols"):
            signature(
                latent_symbols=tf.zeros([1, 4, 4, self.model.num_latent_filters], tf.int32),
                side_symbols=tf.zeros([1, 2, 1, self.model.num_hyper_filters], tf.int32),
                lmbda=tf.constant([0.01]),
            )

    def test_a_scale_codecs_file_is_refused_by_architecture_through_every_backend(self):
        data = codec_format.pack(0.01, 64, 64, b"", b"", self.in_memory.fingerprint)
        for yoto in (self.exported, self.client):
            with self.assertRaisesRegex(codec_format.FormatError, "written by a scale codec"):
                yoto.decode(data)


class MeanScaleExportTest(ChannelContextExportTest):
    ENTROPY_MODEL = "mean_scale"
    ARCHITECTURE = "mean_scale"


if __name__ == "__main__":
    tf.test.main()
