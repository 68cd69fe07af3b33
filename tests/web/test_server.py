"""The web app's HTTP API on an ephemeral 127.0.0.1 port, with stand-in models (fast).

The models here are small stand-ins with the interface of `web.models.Models`: the codec
is zoo's real `Codec` (file format, padding, lambda checks) over a backend that codes a
coarsened copy of the image, so every answer's shape, check and error is the app's own
while nothing loads a network. `tests/web/test_browser.py` runs the released models.
"""

from __future__ import annotations

import io
import json
import threading
import unittest
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

from web import app as web_app
from web import images as web_images
from web import server as web_server
from zoo.compression import codec as zoo_codec

LMBDA_RANGE = (0.0018, 0.18)


class CoarseBackend(zoo_codec.CodecBackend):
    """Codes each pixel to a multiple of a step that shrinks as lambda grows, zlib-packed."""

    lmbda_range = LMBDA_RANGE
    fingerprint = None

    @staticmethod
    def _step(lmbda: float) -> int:
        return int(np.clip(round(2 / np.sqrt(lmbda)), 1, 64))

    def compress(self, padded, lmbda):
        import zlib

        step = self._step(lmbda)
        latent = zlib.compress((np.asarray(padded) // step).astype(np.uint8).tobytes(), 9)
        return latent, np.asarray(padded.shape[1:3], np.int32).tobytes()

    def decompress(self, latent, side, lmbda, side_shape):
        import zlib

        height, width = np.frombuffer(side, np.int32)
        values = np.frombuffer(zlib.decompress(latent), np.uint8).reshape(1, height, width, 3)
        step = self._step(lmbda)
        return np.minimum(values.astype(np.int32) * step + step // 2, 255).astype(np.uint8)

    def reconstruct(self, padded, lmbda):
        return self.decompress(*self.compress(padded, lmbda), lmbda, None)

    def estimated_bits(self, padded, lmbda):
        return 8.0 * len(self.compress(padded, lmbda)[0])


class StandInModels:
    """`web.models.Models`' interface over stand-ins; `fail_style` makes stylize raise."""

    def __init__(self):
        self.codec = zoo_codec.Codec(CoarseBackend())
        self.locks = {name: threading.Lock() for name in ("compression", "style_transfer")}
        self.locks["beta_vae"] = threading.Lock()
        self.styles = [(f"style{i}", np.full((8, 8, 3), 60 * i, np.uint8)) for i in range(4)]
        self.content_range = (0.1, 10.0)
        self.strength_range = (0.1, 10.0)
        self.beta_range = (0.125, 512.0)
        self.fail_style = False

    def stylize(self, image, weights):
        if self.fail_style:
            raise RuntimeError("the stand-in style network broke")
        return (255 - image).astype(np.uint8)

    def reconstruct_digits(self, images, beta):
        return np.clip(images * (1 / (1 + np.log2(beta + 1))), 0, 1)

    def digit_terms(self, images, beta):
        return {"reconstruction": float(beta), "kl": 1.0 / float(beta)}

    def sample_digits(self, beta, seeds):
        rng = np.random.default_rng(0)
        return rng.uniform(size=(len(seeds), 28, 28, 1)).astype(np.float32)


def png(array) -> bytes:
    """PNG bytes of `array` (uint16 greyscale is written as a 16-bit PNG)."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


class WebServerTest(unittest.TestCase):
    """Requests as the page sends them, and the bad ones a person can make."""

    @classmethod
    def setUpClass(cls):
        cls.models = StandInModels()
        cls.app = web_app.App(cls.models)
        cls.server, cls.url = web_server.serve_in_thread(cls.app)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def request(self, path, body=None, content_type="application/json", method=None):
        """`(status, headers, body bytes)` of one request; errors are answers too."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def post_json(self, path, body):
        status, _, data = self.request(path, body)
        return status, json.loads(data)

    def assert_still_serving(self):
        status, reply = self.post_json("/api/vae", {"beta": 4})
        self.assertEqual(status, 200, reply)

    def test_the_page_and_its_static_files_are_served_from_the_package(self):
        status, headers, body = self.request("/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        for asset in (b"/static/app.js", b"/static/style.css"):
            self.assertIn(asset, body)
            self.assertEqual(self.request(asset.decode())[0], 200)
        # Everything is local: no script, style or font from another host.
        self.assertNotIn(b"https://", body)
        self.assertNotIn(b"http://", body)

    def test_the_server_listens_on_loopback_only(self):
        self.assertEqual(self.server.server_address[0], "127.0.0.1")

    def test_info_gives_the_ranges_the_sliders_run_over(self):
        status, _, body = self.request("/api/info")
        info = json.loads(body)
        self.assertEqual(status, 200)
        self.assertEqual(info["lmbda_range"], list(LMBDA_RANGE))
        self.assertEqual(info["beta_range"], [0.125, 512.0])
        self.assertEqual(
            [s["name"] for s in info["styles"]], ["style0", "style1", "style2", "style3"]
        )
        self.assertIn("coffee", info["photos"])

    def test_a_codec_update_reports_the_files_own_numbers_and_its_downloads(self):
        status, reply = self.post_json(
            "/api/codec", {"photo": "coffee", "lmbda": 0.01, "size": 192}
        )
        self.assertEqual(status, 200, reply)
        image = web_images.preview(self.app.photo("coffee"), 192)
        data = self.models.codec.encode(image, 0.01)
        self.assertEqual((reply["height"], reply["width"]), image.shape[:2])
        self.assertEqual(reply["bytes"], len(data))
        self.assertAlmostEqual(reply["bpp"], 8 * len(data) / image.shape[0] / image.shape[1], 12)
        decoded = self.models.codec.decode(data)
        from yoto_tf import metrics

        self.assertAlmostEqual(reply["psnr"], metrics.psnr(image, decoded), 9)
        self.assertAlmostEqual(reply["ms_ssim"], metrics.ms_ssim(image, decoded), 5)
        self.assertEqual(set(reply["panels"]), {"YOTO", "JPEG", "WebP", "AVIF"})
        self.assertEqual(set(reply["crops"]), {"original", "YOTO", "JPEG", "WebP", "AVIF"})
        for label in ("JPEG", "WebP", "AVIF"):
            panel = reply["panels"][label]
            fits = panel["bytes"] <= len(data)
            self.assertTrue(fits or any(label in note for note in reply["notes"]), panel)
        status, headers, body = self.request(reply["downloads"]["yoto"])
        self.assertEqual((status, body), (200, data))
        self.assertIn(".yoto", headers["Content-Disposition"])
        status, _, body = self.request(reply["downloads"]["png"])
        self.assertEqual(status, 200)
        np.testing.assert_array_equal(web_images.decode_file(body), decoded)

    def test_a_codec_update_without_comparison_leaves_out_the_baselines_and_ms_ssim(self):
        status, reply = self.post_json(
            "/api/codec", {"photo": "china", "lmbda": 0.05, "compare": False}
        )
        self.assertEqual(status, 200, reply)
        self.assertEqual(set(reply["panels"]), {"YOTO"})
        self.assertIsNone(reply["ms_ssim"])
        self.assertFalse(reply["compared"])
        # The comparison that follows codes nothing again: the file is kept.
        status, again = self.post_json("/api/codec", {"photo": "china", "lmbda": 0.05})
        self.assertEqual(status, 200, again)
        self.assertEqual((reply["cached"], again["cached"]), (False, True))
        self.assertEqual(again["bytes"], reply["bytes"])
        self.assertEqual(set(again["panels"]), {"YOTO", "JPEG", "WebP", "AVIF"})

    def test_a_target_bpp_gives_the_largest_file_within_it(self):
        image = web_images.preview(self.app.photo("coffee"), 192)
        rates = [
            8 * len(self.models.codec.encode(image, lmbda)) / image.shape[0] / image.shape[1]
            for lmbda in LMBDA_RANGE
        ]
        target = round(sum(rates) / 2, 2)
        status, reply = self.post_json(
            "/api/codec",
            {"photo": "coffee", "size": 192, "target_bpp": target, "compare": False},
        )
        self.assertEqual(status, 200, reply)
        self.assertLessEqual(reply["bpp"], target)
        self.assertGreater(reply["bpp"], rates[0])
        self.assertEqual(reply["target_bpp"], target)
        status, reply = self.post_json(
            "/api/codec",
            {"photo": "coffee", "size": 192, "target_bpp": 0.02, "compare": False},
        )
        self.assertEqual(status, 200, reply)
        self.assertIn("above the target 0.02", " ".join(reply["notes"]))

    def test_an_out_of_range_lambda_is_refused_with_its_range(self):
        for typed in (5, "5", -1, "abc", None, "nan"):
            status, reply = self.post_json("/api/codec", {"photo": "coffee", "lmbda": typed})
            self.assertEqual(status, 400, (typed, reply))
            self.assertIn("lmbda", reply["error"])
            self.assertIn("0.0018", reply["error"])
        self.assert_still_serving()

    def test_out_of_range_boxes_of_every_tab_are_refused_naming_the_box(self):
        cases = [
            ("/api/codec", {"photo": "coffee", "target_bpp": 50}, "target_bpp must be in"),
            ("/api/codec", {"photo": "coffee", "lmbda": 0.01, "size": 100}, "preview size"),
            ("/api/codec", {"photo": "nope", "lmbda": 0.01}, "Unknown photo 'nope'"),
            ("/api/codec", {"lmbda": 0.01}, "photo is missing"),
            ("/api/style", {"photo": "coffee", "content": 20, "styles": [1, 0, 0, 0],
                            "strength": 1}, "content must be in [0.1, 10], got 20"),
            ("/api/style", {"photo": "coffee", "content": 1, "styles": [1, 0, 0, 0],
                            "strength": 0.01}, "strength must be in"),
            ("/api/style", {"photo": "coffee", "content": 1, "styles": [2, 0, 0, 0],
                            "strength": 1}, "style must be in [0, 1]"),
            ("/api/style", {"photo": "coffee", "content": 1, "styles": [1, 0],
                            "strength": 1}, "styles must be four numbers"),
            ("/api/vae", {"beta": 1000}, "beta must be in [0.125, 512], got 1000"),
            ("/api/vae", {"beta": "inf"}, "beta must be in"),
        ]  # fmt: skip
        for path, body, message in cases:
            status, reply = self.post_json(path, body)
            self.assertEqual(status, 400, (path, body, reply))
            self.assertIn(message, reply["error"])
        self.assert_still_serving()

    def test_malformed_requests_get_a_message_not_a_dropped_connection(self):
        status, _, body = self.request("/api/codec", b"{not json")
        self.assertEqual(status, 400)
        self.assertIn("not JSON", json.loads(body)["error"])
        status, _, body = self.request("/api/codec", b"[1, 2]")
        self.assertIn("JSON object", json.loads(body)["error"])
        self.assertEqual(self.request("/api/nothing", b"{}")[0], 404)
        self.assertEqual(self.request("/static/../server.py")[0], 404)
        self.assertEqual(self.request("/download/abc.yoto")[0], 404)
        self.assert_still_serving()

    def test_a_style_update_splits_the_strength_over_the_blend(self):
        status, reply = self.post_json(
            "/api/style",
            {"photo": "coffee", "content": 2, "styles": [1, 0, 1, 0], "strength": 4},
        )
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["weights"], [2.0, 2.0, 0.0, 2.0, 0.0])
        status, reply = self.post_json(
            "/api/style",
            {"photo": "coffee", "content": 2, "styles": [0, 0, 0, 0], "strength": 4},
        )
        self.assertEqual(reply["weights"], [2.0, 0.0, 0.0, 0.0, 0.0])

    def test_a_failing_model_is_a_500_with_its_message_and_the_server_keeps_serving(self):
        self.models.fail_style = True
        try:
            with self.assertLogs("web", level="ERROR"):
                status, reply = self.post_json(
                    "/api/style",
                    {"photo": "coffee", "content": 1, "styles": [1, 0, 0, 0], "strength": 1},
                )
        finally:
            self.models.fail_style = False
        self.assertEqual(status, 500)
        self.assertIn("the stand-in style network broke", reply["error"])
        self.assert_still_serving()

    def test_a_vae_update_draws_digits_reconstructions_and_samples(self):
        status, reply = self.post_json("/api/vae", {"beta": 8})
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["terms"], {"reconstruction": 8.0, "kl": 0.125})
        for key in ("digits", "reconstructions", "samples"):
            self.assertTrue(reply[key].startswith("data:image/png;base64,"))

    def test_an_upload_is_kept_and_coded_like_a_bundled_photo(self):
        rng = np.random.default_rng(1)
        picture = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
        status, reply = self.post_json_bytes(png(picture))
        self.assertEqual(status, 200, reply)
        self.assertEqual((reply["width"], reply["height"], reply["notes"]), (300, 200, []))
        status, coded = self.post_json(
            "/api/codec", {"photo": reply["photo"], "lmbda": 0.02, "compare": False}
        )
        self.assertEqual(status, 200, coded)
        status, _, body = self.request(f"/photo/{reply['photo']}.png?size=192")
        self.assertEqual(web_images.decode_file(body).shape, (192, 288, 3))

    def post_json_bytes(self, data: bytes):
        status, _, body = self.request("/api/upload", data, "application/octet-stream")
        return status, json.loads(body)

    def test_a_file_that_is_not_an_image_is_refused_with_a_message(self):
        for data in (b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\n truncated"):
            status, reply = self.post_json_bytes(data)
            self.assertEqual(status, 400, reply)
            self.assertTrue(
                "not an image file" in reply["error"] or "could not be decoded" in reply["error"],
                reply,
            )
        status, reply = self.post_json_bytes(b"")
        self.assertEqual(status, 400)
        self.assertIn("empty", reply["error"])
        self.assert_still_serving()

    def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded(self):
        # A 10000x5000 PNG of one colour is small on disk and 50 megapixels in memory.
        status, reply = self.post_json_bytes(png(np.zeros((5000, 10000), np.uint8)))
        self.assertEqual(status, 400, reply)
        self.assertIn("10000x5000 = 50.0 megapixels; the limit is 40 megapixels", reply["error"])
        self.assert_still_serving()

    def test_an_upload_over_the_byte_limit_is_a_413_before_its_body_is_read(self):
        request = urllib.request.Request(
            self.url + "/api/upload",
            data=b"x",
            headers={"Content-Length": str(web_images.MAX_UPLOAD_BYTES + 1)},
        )
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(raised.exception.code, 413)
        self.assertIn("the limit is 32 MiB", json.loads(raised.exception.read())["error"])
        self.assert_still_serving()

    def test_sixteen_bit_and_rgba_pngs_are_converted_with_a_note(self):
        grey16 = (np.arange(200 * 200, dtype=np.uint32).reshape(200, 200) % 65536).astype(np.uint16)
        status, reply = self.post_json_bytes(png(grey16))
        self.assertEqual(status, 200, reply)
        self.assertIn("16-bit channels; they were reduced to 8 bits", " ".join(reply["notes"]))
        image = self.app.photo(reply["photo"])
        np.testing.assert_array_equal(image[..., 0], np.round(grey16 / 257).astype(np.uint8))
        rgba = np.zeros((180, 180, 4), np.uint8)
        rgba[..., 0] = 200
        rgba[:90, :, 3] = 255  # top half opaque red, bottom half transparent
        status, reply = self.post_json_bytes(png(rgba))
        self.assertEqual(status, 200, reply)
        self.assertIn("alpha channel; it was flattened onto white", " ".join(reply["notes"]))
        image = self.app.photo(reply["photo"])
        np.testing.assert_array_equal(image[0, 0], [200, 0, 0])
        np.testing.assert_array_equal(image[-1, -1], [255, 255, 255])
        status, coded = self.post_json(
            "/api/codec", {"photo": reply["photo"], "lmbda": 0.02, "compare": False}
        )
        self.assertEqual(status, 200, coded)

    def test_sixteen_bit_rgb_pngs_are_noted_too(self):
        # Pillow writes no 48-bit PNG; the header's bit depth is what the reader sees.
        import struct
        import zlib

        height, width = 170, 170
        rows = b"".join(b"\x00" + bytes(6 * width) for _ in range(height))

        def chunk(kind, payload):
            return (
                struct.pack(">I", len(payload))
                + kind
                + payload
                + struct.pack(">I", zlib.crc32(kind + payload))
            )

        data = (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b"")
        )
        status, reply = self.post_json_bytes(data)
        self.assertEqual(status, 200, reply)
        self.assertIn("16-bit channels", " ".join(reply["notes"]))


class PreviewTest(unittest.TestCase):
    """Previews and the baselines' search, without a server."""

    def test_a_preview_shrinks_the_shorter_side_and_never_enlarges(self):
        image = np.zeros((400, 600, 3), np.uint8)
        self.assertEqual(web_images.preview(image, 256).shape, (256, 384, 3))
        self.assertEqual(web_images.preview(image, 512).shape, (400, 600, 3))

    def test_the_baseline_is_the_best_quality_within_the_budget(self):
        rng = np.random.default_rng(2)
        image = np.clip(rng.normal(128, 40, (64, 64, 3)).cumsum(axis=1) / 8, 0, 255).astype(
            np.uint8
        )
        budget = len(web_images.encode_baseline(image, "JPEG", 50))
        quality, data = web_images.baseline_within(image, "JPEG", budget)
        self.assertLessEqual(len(data), budget)
        self.assertGreaterEqual(quality, 50)
        self.assertGreater(len(web_images.encode_baseline(image, "JPEG", quality + 1)), budget)


if __name__ == "__main__":
    unittest.main()
