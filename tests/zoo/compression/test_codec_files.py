"""Image files to `.yoto` files and back (zoo/compression/codec_files.py) with a stand-in coder.

What `yoto-codec` and `yoto-serving` share, without a model: the codec itself is tested
in test_codec.py and test_model.py, the binaries in test_codec_cli.py and
tests/serving/test_serving.py.
"""

import pathlib
import tempfile
import unittest

import numpy as np
from PIL import Image

from zoo.compression import codec_files, codec_format


class StandInCoder:
    """Writes a valid `.yoto` file whose latent string is the image's bytes."""

    def __init__(self):
        self.calls = []

    def encode(self, image, lmbda):
        self.calls.append(("encode", lmbda))
        height, width = image.shape[:2]
        return codec_format.pack(lmbda, height, width, b"", image.tobytes())

    def decode(self, data):
        self.calls.append(("decode",))
        header, _, latent = codec_format.unpack(data)
        return np.frombuffer(latent, np.uint8).reshape(header.height, header.width, 3)

    def lmbda_for_target_bpp(self, image, target_bpp):
        self.calls.append(("search", target_bpp))
        return 0.02


class CodecFilesTest(unittest.TestCase):
    def setUp(self):
        self.root = pathlib.Path(tempfile.mkdtemp())
        rng = np.random.default_rng(0)
        self.image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
        self.photo = self.root / "photo.png"
        Image.fromarray(self.image).save(self.photo)
        self.coder = StandInCoder()

    def made(self):
        self.coder.calls.append(("made",))
        return self.coder

    def test_an_image_file_round_trips_and_each_step_reports_what_it_wrote(self):
        coded, back = self.root / "photo.yoto", self.root / "back.png"
        line = codec_files.compress_file(self.made, self.photo, coded, lmbda=0.01)
        size = coded.stat().st_size
        self.assertEqual(line, f"{coded}: {size} bytes, {8 * size / 35:.4f} bpp at lambda 0.01")
        line = codec_files.decompress_file(self.made, coded, back)
        self.assertEqual(line, f"{back}: 7x5 PNG")
        np.testing.assert_array_equal(np.asarray(Image.open(back)), self.image)

    def test_a_target_bpp_asks_the_coder_for_its_lambda(self):
        coded = self.root / "target.yoto"
        line = codec_files.compress_file(self.made, self.photo, coded, target_bpp=0.5)
        self.assertEqual(self.coder.calls, [("made",), ("search", 0.5), ("encode", 0.02)])
        self.assertTrue(line.endswith("at lambda 0.02"))

    def test_bad_inputs_fail_before_the_coder_is_made_and_write_nothing(self):
        corrupt = self.root / "corrupt.yoto"
        corrupt.write_bytes(b"YOTO" + bytes(60))
        output = self.root / "out"
        cases = {
            "target": (
                lambda: codec_files.compress_file(self.made, self.photo, output, target_bpp=-1),
                ValueError,
                "--target-bpp must be a positive number",
            ),
            "no image": (
                lambda: codec_files.compress_file(self.made, self.root / "no.png", output, 0.01),
                FileNotFoundError,
                "no.png",
            ),
            "no file": (
                lambda: codec_files.decompress_file(self.made, self.root / "no.yoto", output),
                FileNotFoundError,
                "no.yoto does not exist",
            ),
            "corrupt": (
                lambda: codec_files.decompress_file(self.made, corrupt, output),
                codec_format.FormatError,
                "",
            ),
        }
        for name, (call, error, message) in cases.items():
            with self.subTest(name):
                with self.assertRaisesRegex(error, message):
                    call()
                self.assertEqual(self.coder.calls, [])
                self.assertFalse(output.exists())

    def test_a_saved_model_cannot_refine_its_latents(self):
        saved_model = self.root / "export"
        saved_model.mkdir()
        (saved_model / "saved_model.pb").write_bytes(b"")
        with self.assertRaisesRegex(ValueError, "--refine-steps needs the model's training"):
            codec_files.load_codec(saved_model, refine_steps=5)


if __name__ == "__main__":
    unittest.main()
