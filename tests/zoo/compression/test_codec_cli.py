import pathlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests import tiny_runs
from tests.codec_fixtures import full_codec_export
from zoo.compression import codec, codec_cli, codec_format
from zoo.data import photos


class CodecCliTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tf.compat.v1.test.get_temp_dir()) / "codec_cli"
        cls.root.mkdir(parents=True, exist_ok=True)
        cls.model_dir = tiny_runs.run_dir("compression", 2)
        cls.photo = cls.root / "photo.png"
        Image.fromarray(photos.load_bundled("china")[:80, :90]).save(cls.photo)

    def test_compress_then_decompress_round_trips_through_files(self):
        compressed = self.root / "photo.yoto"
        restored = self.root / "restored.png"
        model = f"--model={self.model_dir}"
        self.assertEqual(
            codec_cli.run(["compress", model, "--lmbda=0.01", str(self.photo), str(compressed)]), 0
        )
        header, _, _ = codec_format.unpack(compressed.read_bytes())
        self.assertEqual((header.height, header.width), (80, 90))
        self.assertEqual(codec_cli.run(["decompress", model, str(compressed), str(restored)]), 0)
        self.assertEqual(np.asarray(Image.open(restored)).shape, (80, 90, 3))

    # Slow: the codec tests' shared export, built again when test_serving.py ran in another
    # process (9 minutes of a loaded 2-core machine with the SavedModel's tracing). The
    # exported codec writing the model's bytes stays fast in test_serving.py
    # (test_the_exported_codec_writes_the_same_bytes_as_the_model), and yoto-codec telling
    # a SavedModel from a training dir in test_codec_files.py.
    @pytest.mark.slow
    def test_an_exported_saved_model_writes_the_same_file_as_the_in_memory_codec(self):
        # The codec tests' shared export (one per session), not one of this class's
        # training dir: exporting training dirs is test_export's and (slow)
        # tests/zoo/compression/test_serving.py's.
        model, _, version_dir = full_codec_export()
        exported = self.root / "exported.yoto"
        args = ["compress", f"--model={version_dir}", "--lmbda=0.02", str(self.photo)]
        self.assertEqual(codec_cli.run([*args, str(exported)]), 0)
        image = np.asarray(Image.open(self.photo))
        self.assertEqual(exported.read_bytes(), codec.Codec(model).encode(image, 0.02))

    def test_target_bpp_picks_a_lambda_in_range(self):
        output = self.root / "target.yoto"
        status = codec_cli.run(
            [
                "compress",
                f"--model={self.model_dir}",
                "--target-bpp=0.3",
                str(self.photo),
                str(output),
            ]
        )
        self.assertEqual(status, 0)
        header, _, _ = codec_format.unpack(output.read_bytes())
        self.assertBetween(header.lmbda, 0.0018 * 0.999, 0.18 * 1.001)

    # Slow: refinement's gradient functions trace for this one test (6 minutes of a loaded
    # 2-core machine). Refined files decoding exactly stays fast in test_latent_refinement.py,
    # and --refine-steps' refusals in the errors test below.
    @pytest.mark.slow
    def test_refined_files_decode_with_the_plain_decompress_command(self):
        refined = self.root / "refined.yoto"
        restored = self.root / "refined.png"
        model = f"--model={self.model_dir}"
        args = ["compress", model, "--lmbda=0.01", "--refine-steps=5", str(self.photo)]
        self.assertEqual(codec_cli.run([*args, str(refined)]), 0)
        self.assertEqual(codec_cli.run(["decompress", model, str(refined), str(restored)]), 0)
        self.assertEqual(np.asarray(Image.open(restored)).shape, (80, 90, 3))

    def test_errors_exit_with_two_and_leave_no_output(self):
        model = f"--model={self.model_dir}"
        corrupt = self.root / "corrupt.yoto"
        corrupt.write_bytes(b"YOTO" + bytes(60))
        saved_model = self.root / "fake_saved_model"
        saved_model.mkdir(exist_ok=True)
        (saved_model / "saved_model.pb").write_bytes(b"")
        compress = ["compress", model, "--lmbda=0.01"]
        cases = {
            "lambda_out_of_range": ["compress", model, "--lmbda=5", str(self.photo)],
            "missing_input": ["compress", model, "--lmbda=0.01", str(self.root / "nope.png")],
            "corrupt_file": ["decompress", model, str(corrupt)],
            "missing_model": ["decompress", f"--model={self.root}/none", str(corrupt)],
            "negative_refine_steps": [*compress, "--refine-steps=-3", str(self.photo)],
            "refining_with_a_saved_model": [
                "compress",
                f"--model={saved_model}",
                "--lmbda=0.01",
                "--refine-steps=5",
                str(self.photo),
            ],
        }
        for name, args in cases.items():
            with self.subTest(name):
                output = self.root / f"{name}.out"
                self.assertEqual(codec_cli.run([*args, str(output)]), 2)
                self.assertFalse(output.exists())
                self.assertEmpty(list(self.root.glob("*.tmp")))


if __name__ == "__main__":
    tf.test.main()
