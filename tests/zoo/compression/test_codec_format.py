"""The `.yoto` container (zoo/compression/codec_format.py) on bytes alone, without a model.

The codec's own tests (test_model.py, test_codec.py) write and read files through a
trained model; these pin the format's rules: the header, every refusal, the lambda grid.
"""

import struct
import unittest
import zlib

import numpy as np

from zoo.compression import codec_format

RANGE = (0.0018, 0.18)
FINGERPRINT = b"\x01\x02\x03\x04\x05\x06\x07\x08"


def _with_fresh_crc(data: bytes, version: int = codec_format.FLOAT_INDEX_VERSION) -> bytes:
    """`data` with its CRC recomputed, as a forger would write it."""
    header_size = codec_format.HEADER_SIZES[version]
    crc_offset = header_size - 4
    payload = data[header_size:]
    crc = zlib.crc32(payload, zlib.crc32(data[:crc_offset]))
    return data[:crc_offset] + struct.pack("<I", crc) + payload


class PackAndUnpackTest(unittest.TestCase):
    def test_a_packed_file_unpacks_to_its_header_and_strings(self):
        data = codec_format.pack(0.01, 80, 90, b"side", b"latent!")
        header, side, latent = codec_format.unpack(data)
        self.assertEqual((side, latent), (b"side", b"latent!"))
        self.assertEqual((header.height, header.width, header.lmbda), (80, 90, 0.01))
        self.assertEqual((header.latent_shape, header.side_shape), ((8, 8), (2, 2)))
        self.assertEqual((header.version, header.fingerprint), (1, None))
        self.assertEqual(len(data), codec_format.HEADER_SIZE + len(b"side") + len(b"latent!"))

    def test_a_fingerprint_makes_a_version_2_file_that_keeps_it(self):
        data = codec_format.pack(0.01, 64, 64, b"s", b"l", fingerprint=FINGERPRINT)
        header, _, _ = codec_format.unpack(data)
        self.assertEqual((header.version, header.fingerprint), (2, FINGERPRINT))
        self.assertEqual(len(data), codec_format.HEADER_SIZES[2] + 2)

    def test_bad_values_are_refused_before_anything_is_written(self):
        for name, args, message in (
            ("lambda", (0.0, 8, 8), "lambda must be finite and > 0"),
            ("height", (0.01, 0, 8), "outside 1..16384"),
            ("pixels", (0.01, 1 << 14, 1 << 14, b"", b"", None), None),
            ("fingerprint", (0.01, 8, 8, b"", b"", b"short"), "a fingerprint is 8 bytes"),
        ):
            with self.subTest(name):
                args = args if len(args) > 3 else (*args, b"", b"")
                if message is None:  # 2^28 pixels exactly is the limit, and allowed.
                    codec_format.pack(*args)
                    continue
                with self.assertRaisesRegex(codec_format.FormatError, message):
                    codec_format.pack(*args)

    def test_every_kind_of_damage_is_a_format_error_naming_it(self):
        good = codec_format.pack(0.01, 80, 90, b"side", b"latent")
        forged_size = bytearray(good)
        struct.pack_into("<II", forged_size, 14, 1 << 14, 1 << 14 + 1)
        wrong_shapes = bytearray(good)
        struct.pack_into("<HH", wrong_shapes, 22, 9, 9)
        cases = {
            "not bytes": ("text", "expected bytes, got str"),
            "short": (good[:20], "shorter than the 42-byte header"),
            "magic": (b"JPEG" + good[4:], "not a .yoto file"),
            "version": (good[:4] + b"\x07" + good[5:], "format version 7 is not supported"),
            "flags": (_with_fresh_crc(good[:5] + b"\x01" + good[6:]), "unknown flags 0x01"),
            "lambda": (
                _with_fresh_crc(good[:6] + struct.pack("<d", -1.0) + good[14:]),
                "header lambda -1.0",
            ),
            "huge": (_with_fresh_crc(bytes(forged_size)), "outside 1..16384"),
            "shapes": (_with_fresh_crc(bytes(wrong_shapes)), r"do not match a 80x90 image"),
            "truncated": (good[:-1], "truncated or padded"),
            "padded": (good + b"\x00", "truncated or padded"),
            "bit flip": (good[:-1] + bytes([good[-1] ^ 1]), "checksum mismatch"),
            "short v2": (
                codec_format.pack(0.01, 8, 8, b"", b"", FINGERPRINT)[:45],
                "shorter than the 50-byte version 2 header",
            ),
        }
        for name, (data, message) in cases.items():
            with self.subTest(name):
                with self.assertRaisesRegex(codec_format.FormatError, message):
                    codec_format.unpack(data)


class GeometryTest(unittest.TestCase):
    def test_sides_are_padded_to_the_stride_and_shapes_follow(self):
        self.assertEqual(codec_format.STRIDE, 64)
        self.assertEqual(
            [codec_format.padded_size(n) for n in (1, 64, 65, 128)], [64, 64, 128, 128]
        )
        self.assertEqual(codec_format.expected_shapes(65, 1), ((8, 4), (2, 1)))

    def test_padding_repeats_the_last_row_and_column(self):
        image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
        padded = codec_format.pad_image(image)
        self.assertEqual(padded.shape, (64, 64, 3))
        np.testing.assert_array_equal(padded[:2, :3], image)
        np.testing.assert_array_equal(padded[63, 63], image[1, 2])
        np.testing.assert_array_equal(padded[0, 63], image[0, 2])

    def test_images_of_the_wrong_kind_are_refused_with_the_fix(self):
        for image, message in (
            (np.zeros((4, 4, 3), np.float32), "convert 16-bit or float images"),
            (np.zeros((4, 4), np.uint8), "convert greyscale to RGB"),
            (np.zeros((4, 4, 4), np.uint8), "drop alpha channels"),
            (np.zeros((0, 4, 3), np.uint8), "outside 1..16384"),
        ):
            with self.subTest(shape=image.shape, dtype=str(image.dtype)):
                with self.assertRaisesRegex(ValueError, message):
                    codec_format.check_image(image)


class LambdaGridTest(unittest.TestCase):
    def test_the_range_ends_are_the_first_and_last_levels(self):
        self.assertEqual(codec_format.lmbda_level(RANGE[0], *RANGE), 0)
        self.assertEqual(codec_format.lmbda_level(RANGE[1], *RANGE), codec_format.LMBDA_LEVELS)
        self.assertEqual(codec_format.lmbda_level(1.0, *RANGE), codec_format.LMBDA_LEVELS)

    def test_snapping_lands_on_a_level_and_is_stable(self):
        for lmbda in (0.0018, 0.00731, 0.01, 0.05, 0.18):
            with self.subTest(lmbda=lmbda):
                snapped = codec_format.snap_lmbda(lmbda, *RANGE)
                self.assertEqual(codec_format.snap_lmbda(snapped, *RANGE), snapped)
                # Half a level's step (0.45%) at most.
                self.assertLess(abs(snapped / lmbda - 1), 0.0023)

    def test_neighbouring_levels_are_a_fixed_ratio_apart(self):
        levels = [codec_format.level_lmbda(q, *RANGE) for q in (0, 1, 512, 513)]
        ratio = (RANGE[1] / RANGE[0]) ** (1 / codec_format.LMBDA_LEVELS)
        self.assertAlmostEqual(levels[1] / levels[0], ratio, delta=1e-6)
        self.assertAlmostEqual(levels[3] / levels[2], ratio, delta=1e-6)

    def test_a_lambda_outside_the_trained_range_is_refused_with_the_range(self):
        self.assertEqual(codec_format.check_lmbda("0.01", RANGE), 0.01)
        for lmbda in (0.5, 0.0001, float("nan")):
            with self.subTest(lmbda=lmbda):
                with self.assertRaisesRegex(ValueError, r"trained for \[0.0018, 0.18\]"):
                    codec_format.check_lmbda(lmbda, RANGE)
        with self.assertRaisesRegex(ValueError, "lambda must be a number, got 'x'"):
            codec_format.check_lmbda("x", RANGE)


class CheckHeaderTest(unittest.TestCase):
    def header(self, lmbda=0.01, fingerprint=None):
        data = codec_format.pack(lmbda, 8, 8, b"", b"", fingerprint=fingerprint)
        return codec_format.unpack(data)[0]

    def test_a_file_of_the_right_kind_gives_its_lambda(self):
        self.assertEqual(codec_format.check_header(self.header(), None, RANGE), 0.01)
        on_grid = codec_format.snap_lmbda(0.01, *RANGE)
        header = self.header(on_grid, FINGERPRINT)
        self.assertEqual(codec_format.check_header(header, FINGERPRINT, RANGE), on_grid)

    def test_each_kind_of_codec_refuses_the_other_kinds_files(self):
        with self.assertRaisesRegex(codec_format.FormatError, "has a float hyper-synthesis"):
            codec_format.check_header(self.header(fingerprint=FINGERPRINT), None, RANGE)
        with self.assertRaisesRegex(codec_format.FormatError, "written by a codec with a float"):
            codec_format.check_header(self.header(), FINGERPRINT, RANGE)

    def test_another_models_file_or_an_off_grid_lambda_is_refused(self):
        other = b"\x09" * 8
        on_grid = codec_format.snap_lmbda(0.01, *RANGE)
        with self.assertRaisesRegex(codec_format.FormatError, "written by another model"):
            codec_format.check_header(self.header(on_grid, other), FINGERPRINT, RANGE)
        off_grid = on_grid * 1.001
        with self.assertRaisesRegex(codec_format.FormatError, "not on this model's lambda grid"):
            codec_format.check_header(self.header(off_grid, FINGERPRINT), FINGERPRINT, RANGE)


if __name__ == "__main__":
    unittest.main()
