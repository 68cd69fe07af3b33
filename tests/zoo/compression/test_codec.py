"""The Codec's own work (checks, padding, file format) over a backend that runs no model."""

import numpy as np
import tensorflow as tf

from zoo.compression import codec, codec_format

LMBDA_RANGE = (0.0018, 0.18)


class RecordingBackend(codec.CodecBackend):
    """A backend whose "coding" stores the padded image itself, and records its calls."""

    lmbda_range = LMBDA_RANGE
    fingerprint = None

    def __init__(self, fail_decoding: bool = False):
        self.fail_decoding = fail_decoding
        self.calls = []

    def compress(self, padded, lmbda):
        self.calls.append(("compress", padded.shape, lmbda))
        shape = np.array(padded.shape[1:3], np.int32).tobytes()
        return padded.tobytes(), shape

    def decompress(self, latent, side, lmbda, side_shape):
        self.calls.append(("decompress", tuple(side_shape), lmbda))
        if self.fail_decoding:
            raise tf.errors.InvalidArgumentError(None, None, "ran out of data\nmore detail")
        height, width = np.frombuffer(side, np.int32)
        return np.frombuffer(latent, np.uint8).reshape([1, height, width, 3])

    def reconstruct(self, padded, lmbda):
        return padded

    def estimated_bits(self, padded, lmbda):
        return 8.0 * padded.size


def _image(height=50, width=70, seed=0):
    return np.random.default_rng(seed).integers(0, 256, [height, width, 3], dtype=np.uint8)


class CodecOverABackendTest(tf.test.TestCase):
    def test_the_backend_gets_the_padded_image_and_the_codec_crops_what_it_decodes(self):
        backend = RecordingBackend()
        yoto = codec.Codec(backend)
        image = _image()
        data = yoto.encode(image, 0.01)
        self.assertEqual(backend.calls[0], ("compress", (1, 64, 128, 3), 0.01))
        self.assertAllEqual(yoto.decode(data), image)
        self.assertAllEqual(yoto.reconstruct(image, 0.01), image)
        self.assertEqual(yoto.estimated_bits(image, 0.01), 8.0 * 64 * 128 * 3)

    def test_the_file_header_holds_the_image_size_and_lambda(self):
        header, _, _ = codec_format.unpack(codec.Codec(RecordingBackend()).encode(_image(), 0.02))
        self.assertEqual((header.height, header.width), (50, 70))
        self.assertAlmostEqual(header.lmbda, 0.02, places=6)

    def test_the_codec_checks_images_and_lambdas_before_the_backend_runs(self):
        backend = RecordingBackend()
        yoto = codec.Codec(backend)
        with self.assertRaisesRegex(ValueError, r"\[0.0018, 0.18\]"):
            yoto.encode(_image(), 0.5)
        with self.assertRaises(ValueError):
            yoto.encode(np.zeros([8, 8], np.uint8), 0.01)
        self.assertEqual(backend.calls, [])

    def test_a_decoding_error_of_the_backend_is_a_format_error_naming_its_first_line(self):
        data = codec.Codec(RecordingBackend()).encode(_image(), 0.01)
        failing = codec.Codec(RecordingBackend(fail_decoding=True))
        with self.assertRaisesRegex(
            codec_format.FormatError, r"the range-coded data is corrupt \(ran out of data\)"
        ):
            failing.decode(data)

    def test_only_the_model_in_this_process_can_refine_latents(self):
        with self.assertRaisesRegex(ValueError, "refine_steps needs the model in this process"):
            codec.Codec(RecordingBackend(), refine_steps=3)
        self.assertEqual(codec.Codec(RecordingBackend()).refine_steps, 0)


if __name__ == "__main__":
    tf.test.main()
