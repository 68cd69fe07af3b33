"""`.yoto` version 3: the files of codecs that code their latents around predicted means."""

import struct
import time
import zlib

import numpy as np
import pytest
import tensorflow as tf

from tests.codec_fixtures import SEED_0, shared_mean_codec, shared_runlocal_codec
from zoo.compression import codec, codec_eval_lib, codec_format
from zoo.data import photos

FINGERPRINT = bytes(range(8))
STRINGS = (b"first slice", b"", b"third", b"\x00\xff" * 7)


def _context_file(lmbda=0.01, strings=STRINGS, architecture="channel_context/4"):
    return codec_format.pack(lmbda, 70, 100, b"side", strings, FINGERPRINT, architecture)


def _with_crc(data: bytearray, header_size: int) -> bytes:
    """`data` with its CRC recomputed, as a forger who knows the format would write it."""
    crc_offset = header_size - 4
    crc = zlib.crc32(bytes(data[header_size:]), zlib.crc32(bytes(data[:crc_offset])))
    data[crc_offset:header_size] = struct.pack("<I", crc)
    return bytes(data)


class Version3FormatTest(tf.test.TestCase):
    def test_a_file_holds_the_architecture_and_one_string_per_slice(self):
        header, side, latent = codec_format.unpack(_context_file())
        self.assertEqual(header.version, codec_format.MEAN_VERSION)
        self.assertEqual(header.architecture, "channel_context/4")
        self.assertEqual(header.num_slices, 4)
        self.assertEqual(header.fingerprint, FINGERPRINT)
        self.assertEqual(header.latent_lengths, tuple(len(s) for s in STRINGS))
        self.assertEqual((side, latent), (b"side", STRINGS))

    def test_the_header_is_the_version_2_header_with_the_architecture_and_lengths(self):
        data = _context_file()
        self.assertEqual(codec_format.header_size(3, 4), 50 + 2 + 4 * 4)
        self.assertEqual(data[4], 3)
        self.assertEqual(data[46:48], bytes([2, 4]))
        self.assertEqual(struct.unpack_from("<4I", data, 48), tuple(len(s) for s in STRINGS))
        self.assertEqual(len(data), 68 + 4 + sum(map(len, STRINGS)))
        mean_scale = codec_format.pack(0.01, 64, 64, b"s", [b"latent"], FINGERPRINT, "mean_scale")
        self.assertEqual(mean_scale[46:48], bytes([1, 1]))

    def test_versions_1_and_2_are_written_as_before(self):
        for fingerprint, version, size in ((None, 1, 42), (FINGERPRINT, 2, 50)):
            with self.subTest(version=version):
                data = codec_format.pack(0.01, 64, 64, b"side", b"latent", fingerprint)
                self.assertEqual((data[4], len(data)), (version, size + 10))
                header, side, latent = codec_format.unpack(data)
                self.assertEqual((header.architecture, header.num_slices), ("scale", 1))
                self.assertEqual((side, latent), (b"side", b"latent"))

    def test_writing_refuses_a_wrong_string_count_an_unknown_architecture_or_no_fingerprint(self):
        with self.assertRaisesRegex(codec_format.FormatError, "holds 4 latent strings, got 3"):
            _context_file(strings=STRINGS[:3])
        with self.assertRaisesRegex(codec_format.FormatError, "no version 3 coding architecture"):
            _context_file(architecture="checkerboard")
        with self.assertRaisesRegex(codec_format.FormatError, "needs the model's coding finger"):
            codec_format.pack(0.01, 64, 64, b"", [b""], None, "mean_scale")

    def test_a_file_of_another_architecture_is_refused_by_name(self):
        lmbda_range = (0.0018, 0.18)
        header, _, _ = codec_format.unpack(_context_file())
        for architecture in ("mean_scale", "channel_context/2", "scale"):
            with self.subTest(reader=architecture):
                with self.assertRaisesRegex(
                    codec_format.FormatError,
                    f"written by a channel_context/4 codec; this codec is {architecture}",
                ):
                    codec_format.check_header(header, FINGERPRINT, lmbda_range, architecture)
        old, _, _ = codec_format.unpack(codec_format.pack(0.01, 64, 64, b"", b"", FINGERPRINT))
        with self.assertRaisesRegex(
            codec_format.FormatError, "written by a scale codec; this codec is mean_scale"
        ):
            codec_format.check_header(old, FINGERPRINT, lmbda_range, "mean_scale")

    def test_hundreds_of_mutations_and_every_truncation_give_a_format_error_quickly(self):
        data = _context_file()
        rng = np.random.default_rng(0)
        corruptions = [data[:n] for n in range(len(data))] + [data + b"\0"]
        for _ in range(400):
            mutated = bytearray(data)
            for position in rng.integers(len(mutated), size=rng.integers(1, 4)):
                mutated[position] ^= 1 << rng.integers(8)
            corruptions.append(bytes(mutated))
        start = time.perf_counter()
        for corrupted in corruptions:
            with self.assertRaises(codec_format.FormatError):
                codec_format.unpack(corrupted)
        self.assertLess(time.perf_counter() - start, 10.0)

    def test_forged_headers_with_a_valid_checksum_give_a_format_error_or_consistent_strings(self):
        data = _context_file()
        size = codec_format.header_size(3, 4)
        rng = np.random.default_rng(1)
        refused = 0
        for _ in range(400):
            forged = bytearray(data)
            # The architecture byte, the slice count and the lengths: what v3 adds.
            position = rng.integers(46, size - 4)
            forged[position] = rng.integers(256)
            try:
                header, side, latent = codec_format.unpack(_with_crc(forged, size))
            except codec_format.FormatError:
                refused += 1
                continue
            self.assertEqual(len(latent), header.num_slices)
            self.assertEqual(b"".join(latent), b"".join(STRINGS))
        self.assertGreater(refused, 300)

    def test_forged_slice_counts_never_read_past_the_data(self):
        data = bytearray(_context_file())
        for count in (0, 1, 2, 5, 200, 255):
            with self.subTest(count=count):
                forged = bytearray(data)
                forged[47] = count
                with self.assertRaises(codec_format.FormatError):
                    codec_format.unpack(bytes(forged))
        mean_scale = bytearray(_context_file())
        mean_scale[46] = 1  # mean_scale has one string
        with self.assertRaisesRegex(codec_format.FormatError, "cannot have 4 latent strings"):
            codec_format.unpack(bytes(mean_scale))
        mean_scale[46] = 9
        with self.assertRaisesRegex(codec_format.FormatError, "unknown coding architecture 9"):
            codec_format.unpack(bytes(mean_scale))


class _MeanCodecTest:
    """Mixin: the in-process codec of a tiny `ENTROPY_MODEL` codec writes version 3."""

    ENTROPY_MODEL = ""
    ARCHITECTURE = ""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = shared_mean_codec(cls.ENTROPY_MODEL)
        cls.codec = codec.Codec(cls.model)
        cls.image = photos.load_bundled("coffee")[:70, :100]
        cls.file = cls.codec.encode(cls.image, 0.01)

    def test_files_are_version_3_of_the_models_architecture(self):
        header, _, latent = codec_format.unpack(self.file)
        self.assertEqual(header.version, 3)
        self.assertEqual(header.architecture, self.ARCHITECTURE)
        self.assertEqual(header.fingerprint, self.model.coding_fingerprint())
        self.assertLen(latent, self.model.num_slices)
        self.assertEqual(self.codec.header_size, codec_format.header_size(3, header.num_slices))

    def test_decoding_reproduces_the_quantized_reconstruction_exactly(self):
        for lmbda in (0.0018, 0.18):
            with self.subTest(lmbda=lmbda):
                decoded = self.codec.decode(self.codec.encode(self.image, lmbda))
                self.assertAllEqual(decoded, self.codec.reconstruct(self.image, lmbda))

    def test_corrupted_files_give_a_format_error(self):
        rng = np.random.default_rng(0)
        size = self.codec.header_size
        corruptions = [self.file[:n] for n in (0, 41, 47, size - 1, size, len(self.file) - 1)]
        for _ in range(300):
            flipped = bytearray(self.file)
            flipped[rng.integers(len(flipped))] ^= 1 << rng.integers(8)
            corruptions.append(bytes(flipped))
        for corrupted in corruptions:
            with self.assertRaises(codec_format.FormatError):
                self.codec.decode(corrupted)

    def test_forged_payloads_with_a_valid_checksum_never_crash_the_range_decoder(self):
        size = self.codec.header_size
        rng = np.random.default_rng(1)
        header, side, latent = codec_format.unpack(self.file)
        for case in range(20):
            # Garbage strings of the right count: the header stays consistent.
            strings = [rng.bytes(rng.integers(0, 12)) for _ in latent]
            forged = codec_format.pack(
                header.lmbda, 70, 100, rng.bytes(len(side)), strings,
                header.fingerprint, header.architecture,
            )  # fmt: skip
            if case % 2:
                forged = bytearray(self.file)
                forged[rng.integers(size, len(forged))] ^= 1 << rng.integers(8)
                forged = _with_crc(forged, size)
            try:
                decoded = self.codec.decode(forged)
            except codec_format.FormatError:
                continue
            self.assertEqual(decoded.shape, self.image.shape)  # Garbage, but well-formed.


# The channel-context class covers what this one does with slices; the fast suite runs that.
@pytest.mark.slow
class MeanScaleCodecTest(_MeanCodecTest, tf.test.TestCase):
    ENTROPY_MODEL = "mean_scale"
    ARCHITECTURE = "mean_scale"


class ChannelContextCodecTest(_MeanCodecTest, tf.test.TestCase):
    ENTROPY_MODEL = "channel_context"
    ARCHITECTURE = "channel_context/4"

    @pytest.mark.slow
    def test_refinement_target_bpp_and_evaluation_code_the_context_model(self):
        refining = codec.Codec(self.model, refine_steps=3)
        data = refining.encode(self.image, 0.05)
        self.assertEqual(codec_format.unpack(data)[0].architecture, "channel_context/4")
        self.assertAllEqual(self.codec.decode(data), refining.reconstruct(self.image, 0.05))
        estimated = refining.estimated_bits(self.image, 0.05)
        self.assertTrue(np.isfinite(estimated) and estimated > 0, estimated)
        lmbda = self.codec.lmbda_for_target_bpp(self.image, 1.0, iterations=3)
        low, high = self.model.lmbda_range
        self.assertBetween(lmbda, low, high)
        (row,) = codec_eval_lib.codec_curve(self.codec, self.image, [0.05], check_decoding=True)
        self.assertEqual(row["decode_error"], 0.0)
        self.assertAlmostEqual(row["bpp"], 8 * len(self.codec.encode(self.image, 0.05)) / 7000)

    def test_codecs_refuse_each_others_files_by_architecture(self):
        scale_codec = codec.Codec(shared_runlocal_codec(**SEED_0)[0])
        mean_codec = codec.Codec(shared_mean_codec("mean_scale"))
        image = self.image
        cases = (
            (scale_codec, self.file, "channel_context/4 codec; this codec is scale"),
            (mean_codec, self.file, "channel_context/4 codec; this codec is mean_scale"),
            (self.codec, mean_codec.encode(image, 0.01), "a mean_scale codec; this codec is chan"),
            (self.codec, scale_codec.encode(image, 0.01), "a scale codec; this codec is channel"),
        )
        for reader, data, message in cases:
            with self.subTest(message), self.assertRaisesRegex(codec_format.FormatError, message):
                reader.decode(data)


if __name__ == "__main__":
    tf.test.main()
