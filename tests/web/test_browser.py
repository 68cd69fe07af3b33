"""The real page in headless Chromium over the released models (slow: exports them once).

It loads each tab, moves every slider with real pointer clicks, waits for the new
picture, checks that the picture changed and that the numbers the page shows are the
models' own on the same input, computed here independently: the codec's through
`Codec.from_saved_model` on the full export (tensorflow-compression's range coder, not
the page's stock-op client), the style network's through zoo's `Stylizer`, the
beta-VAE's through its SavedModel's signatures. It then types bad values and uploads bad
files, and checks the message in the page and that the page keeps working. Screenshots
for a person go to runs/web/browser_test/ (the path is printed).

Needs Debian's chromium and chromium-driver (`sudo make browser`); skipped without them.
The first run exports the three releases to runs/web/serving (minutes), as `make web`
does; later runs reuse that export while the releases' weights are unchanged.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import threading
import unittest
import urllib.request

import numpy as np
import pytest
from PIL import Image

from web import browser as web_browser
from web import page

ROOT = pathlib.Path(__file__).absolute().parents[2]
SERVING_DIR = ROOT / "runs" / "web" / "serving"
SCREENSHOTS = ROOT / "runs" / "web" / "browser_test"
FOUND = web_browser.find_chromium()


def data_url_pixels(url: str) -> np.ndarray:
    """The pixels of a `data:image/png;base64,...` URL."""
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.slow
@unittest.skipIf(isinstance(FOUND, str), f"no browser to drive: {FOUND}")
class BrowserTest(unittest.TestCase):
    """One person's session on the page, each tab in turn (the tests run in name order)."""

    @classmethod
    def setUpClass(cls):
        from web import server

        cls.httpd, cls.url = server.start(SERVING_DIR, 0)
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.app = cls.httpd.RequestHandlerClass.app
        cls.browser = web_browser.Browser.start(width=1400, height=1150)
        print(f"\nscreenshots for a person: {SCREENSHOTS}/")

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.httpd.shutdown()
        cls.httpd.server_close()

    def text(self, selector: str) -> str:
        return self.browser.execute(
            "return document.querySelector(arguments[0]).textContent;", selector
        )

    def data_value(self, selector: str) -> str:
        return self.browser.execute(
            "return document.querySelector(arguments[0]).dataset.value;", selector
        )

    def type_into(self, selector: str, text: str, tab: str) -> dict:
        before = page.status(self.browser, tab)
        box = self.browser.find(selector)
        self.browser.clear(box)
        self.browser.send_keys(box, text + "\ue007")  # Enter
        return page.wait_idle_after(self.browser, tab, before["version"], before["errors"])

    def assert_codec_numbers_are_the_codecs_own(self):
        """The numbers on the page against the full export's Codec on the same preview."""
        from web import images as web_images
        from web import models as web_models
        from yoto_tf import metrics
        from zoo.compression.codec import Codec

        if not hasattr(type(self), "codec"):
            full = SERVING_DIR / web_models.CODEC / str(web_models.VERSION)
            type(self).codec = Codec.from_saved_model(full)
        photo = self.browser.execute("return document.getElementById('codec-photo').value;")
        side = int(self.browser.execute("return document.getElementById('codec-size').value;"))
        image = web_images.preview(self.app.photo(photo), side)
        lmbda = float(self.data_value("#codec-lmbda-shown"))
        data = self.codec.encode(image, lmbda)
        decoded = self.codec.decode(data)
        bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
        self.assertEqual(self.text("#codec-bytes"), str(len(data)))
        self.assertEqual(self.text("#codec-bpp"), f"{bpp:.3f}")
        self.assertEqual(self.text("#codec-psnr"), f"{metrics.psnr(image, decoded):.2f}")
        ms_ssim = metrics.ms_ssim(image, decoded)
        # The page's MS-SSIM is the same TensorFlow function traced: equal within 1e-5.
        self.assertAlmostEqual(float(self.data_value("#codec-msssim")), ms_ssim, delta=1e-5)
        self.assertAlmostEqual(float(self.text("#codec-msssim")), ms_ssim, delta=5e-5 + 1e-5)
        self.assertEqual(self.codec.check_lmbda(lmbda), lmbda)
        # The file behind the download link is the same bytes, and the picture the same pixels.
        href = self.browser.execute("return document.getElementById('codec-download-yoto').href;")
        with urllib.request.urlopen(href, timeout=30) as reply:
            self.assertEqual(reply.read(), data)
        shown = data_url_pixels(
            self.browser.execute("return document.getElementById('codec-decoded').src;")
        )
        np.testing.assert_array_equal(shown, decoded)
        return len(data)

    def test_1_codec_lambda_slider_and_target_bpp(self):
        browser = self.browser
        first = page.open_tab(browser, self.url, "codec")
        self.assertEqual(first["error"], "")
        sizes = [self.assert_codec_numbers_are_the_codecs_own()]
        for fraction in (0.9, 0.15):
            before = page.image_source(browser, "#codec-decoded")
            moved = page.move(browser, "codec", "#codec-lmbda", fraction)
            self.assertEqual(moved["error"], "")
            changed = page.image_source(browser, "#codec-decoded") != before
            self.assertTrue(changed, "the lambda slider left the decoded picture as it was")
            sizes.append(self.assert_codec_numbers_are_the_codecs_own())
            # The comparison came back: JPEG, WebP and AVIF no larger than the .yoto file.
            for label in ("JPEG", "WebP", "AVIF"):
                cells = browser.execute(
                    "return [...document.querySelectorAll('#row-' + arguments[0] + ' td')]"
                    ".map(c => c.textContent);",
                    label,
                )
                notes = self.text("#codec-notes")
                self.assertTrue(int(cells[0]) <= sizes[-1] or label in notes, (label, cells))
        self.assertGreater(sizes[1], sizes[0])  # lambda up: more bits
        self.assertLess(sizes[2], sizes[0])
        browser.screenshot(SCREENSHOTS / "codec.png")
        state = self.type_into("#codec-target", "0.5", "codec")
        self.assertEqual(state["error"], "")
        self.assertLessEqual(float(self.text("#codec-bpp")), 0.5)
        self.assert_codec_numbers_are_the_codecs_own()

    def test_2_codec_bad_input_shows_a_message_and_the_page_goes_on(self):
        browser = self.browser
        page.open_tab(browser, self.url, "codec")
        state = self.type_into("#codec-lmbda-box", "5", "codec")
        self.assertIn("lmbda must be in [0.0018, 0.18], got 5", state["error"])
        state = self.type_into("#codec-target", "100", "codec")
        self.assertIn("target_bpp must be in [0.02, 8], got 100", state["error"])
        browser.screenshot(SCREENSHOTS / "codec_bad_value.png")
        tmp = SCREENSHOTS / "uploads"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "notes.txt").write_text("not an image")
        before = page.status(browser, "codec")
        browser.upload(browser.find("#codec-upload"), tmp / "notes.txt")
        message = browser.wait_for(
            "const e = document.getElementById('codec-error');"
            "return !e.hidden && e.textContent.includes('notes.txt') && e.textContent;",
            timeout=60,
        )
        self.assertIn("not an image file", message)
        # An RGBA picture is taken, with a note saying what happened to its alpha.
        rgba = np.zeros((200, 260, 4), np.uint8)
        rgba[..., :3] = np.random.default_rng(0).integers(0, 256, (200, 260, 3))
        rgba[:100, ..., 3] = 255
        Image.fromarray(rgba).save(tmp / "rgba.png")
        before = page.status(browser, "codec")
        browser.upload(browser.find("#codec-upload"), tmp / "rgba.png")
        state = page.wait_idle_after(browser, "codec", before["version"], before["errors"])
        self.assertEqual(state["error"], "")
        self.assertIn("flattened onto white", self.text("#codec-notes"))
        self.assert_codec_numbers_are_the_codecs_own()
        # And the lambda slider works again after all that.
        page.move(browser, "codec", "#codec-lmbda", 0.6)
        self.assertEqual(page.status(browser, "codec")["error"], "")
        self.assert_codec_numbers_are_the_codecs_own()

    def test_3_style_every_slider_changes_the_picture_to_the_networks_own(self):
        from web import images as web_images
        from web import models as web_models
        from zoo.style_transfer.stylizer import Stylizer

        browser = self.browser
        page.open_tab(browser, self.url, "style")
        stylizer = Stylizer.load(SERVING_DIR / web_models.STYLE / str(web_models.VERSION))
        # Style 1 starts alone at full blend: the others come first, so that every move
        # changes the weights (moving a style that is alone keeps its blend at 100%).
        moves = [
            ("#style-content", 0.8),
            ("#style-strength", 0.3),
            ("#style-s2", 0.7),
            ("#style-s3", 0.9),
            ("#style-s4", 0.5),
            ("#style-s1", 0.4),
        ]
        self.assertEqual({s for s, _ in moves}, set(page.SLIDERS["style"]))
        for selector, fraction in moves:
            before = page.image_source(browser, "#style-output")
            state = page.move(browser, "style", selector, fraction)
            self.assertEqual(state["error"], "", selector)
            after = page.image_source(browser, "#style-output")
            self.assertTrue(after != before, f"{selector} left the picture as it was")
            weights = json.loads(self.data_value("#style-weights"))
            image = web_images.preview(self.app.photo("coffee"), 256)
            expected = stylizer.stylize(image, weights)
            shown = data_url_pixels(after)
            # The same graph, called through another path: equal up to one grey level.
            self.assertLessEqual(np.abs(shown.astype(int) - expected).max(), 1, selector)
        browser.screenshot(SCREENSHOTS / "style.png")
        state = self.type_into("#style-content-box", "50", "style")
        self.assertIn("content must be in [0.1, 10], got 50", state["error"])

    def test_4_vae_beta_slider_moves_the_terms_as_the_model_computes_them(self):
        import tensorflow as tf

        from web import models as web_models

        browser = self.browser
        page.open_tab(browser, self.url, "vae")
        loaded = tf.saved_model.load(str(SERVING_DIR / web_models.VAE / str(web_models.VERSION)))
        digits = self.app.digits()
        kls = []
        for fraction in (0.1, 0.9):
            before = page.image_source(browser, "#vae-reconstructions")
            state = page.move(browser, "vae", "#vae-beta", fraction)
            self.assertEqual(state["error"], "")
            changed = page.image_source(browser, "#vae-reconstructions") != before
            self.assertTrue(changed, "the beta slider left the reconstructions as they were")
            beta = float(self.text("#vae-beta-shown"))
            terms = loaded.signatures["loss_terms"](
                images=tf.constant(digits), beta=tf.fill([len(digits)], float(beta))
            )
            for name, selector in (("reconstruction", "#vae-reconstruction"), ("kl", "#vae-kl")):
                expected = float(np.mean(terms[name].numpy()))
                # The page shows 2 decimals of the terms at beta to 4 significant digits.
                self.assertAlmostEqual(
                    float(self.text(selector)), expected, delta=0.02 + 0.002 * abs(expected)
                )
            kls.append(float(self.text("#vae-kl")))
        self.assertGreater(kls[0], kls[1])  # higher beta: a smaller KL
        browser.screenshot(SCREENSHOTS / "vae.png")
