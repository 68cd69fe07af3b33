"""The page's models in this process and through a ModelServer give the same answers (slow).

The ModelServer is the TF Serving test double (`tests/serving_double.py`) on the export's
own `models.config`, the file a real `tensorflow_model_server` would be started with; the
app talks to it with the project's gRPC and REST clients, as `make web
WEB_FLAGS=--grpc=...` does. The export is runs/web/serving (made on first use, as `make
web` makes it).
"""

from __future__ import annotations

import base64
import io
import pathlib
import unittest

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).absolute().parents[2]
SERVING_DIR = ROOT / "runs" / "web" / "serving"


def pixels(url: str) -> np.ndarray:
    """The pixels of a PNG data URL."""
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.mark.slow
class ServedModelsTest(unittest.TestCase):
    """One export, three ways to call it: in process, gRPC and REST."""

    @classmethod
    def setUpClass(cls):
        from tests.serving_double import ModelServer
        from web import models as web_models
        from web.app import App

        web_models.export_releases(SERVING_DIR)
        cls.server = ModelServer(SERVING_DIR / "models.config")
        cls.apps = {
            "in process": App(web_models.Models.load(SERVING_DIR)),
            "gRPC": App(web_models.Models.load(SERVING_DIR, grpc=cls.server.grpc_address)),
            "REST": App(web_models.Models.load(SERVING_DIR, rest=cls.server.rest_url)),
        }

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_the_codec_writes_the_same_file_every_way(self):
        files = {}
        for way, app in self.apps.items():
            reply = app.codec({"photo": "china", "lmbda": 0.02, "size": 192, "compare": False})
            files[way] = app.result(reply["downloads"]["yoto"].split("/")[-1][: -len(".yoto")])
        reference = files.pop("in process")
        for way, result in files.items():
            self.assertEqual(result["yoto"], reference["yoto"], way)
            self.assertEqual(result["png"], reference["png"], way)

    def test_the_style_network_and_the_vae_answer_the_same_every_way(self):
        params = {"photo": "coffee", "content": 0.5, "styles": [1, 0, 1, 0], "strength": 3}
        style = {way: pixels(app.style(params)["stylized"]) for way, app in self.apps.items()}
        vae = {way: app.vae({"beta": 8.0}) for way, app in self.apps.items()}
        for way in ("gRPC", "REST"):
            # One graph in two runtimes (a SavedModel function, a TF1 session): equal pixels.
            np.testing.assert_array_equal(style[way], style["in process"], way)
            for term in ("reconstruction", "kl"):
                self.assertAlmostEqual(
                    vae[way]["terms"][term], vae["in process"]["terms"][term], delta=1e-4
                )
            np.testing.assert_array_equal(
                pixels(vae[way]["samples"]), pixels(vae["in process"]["samples"]), way
            )
