"""Where the exported `stylize` spends its time: a per-op profile, as TF Serving runs it.

    .venv/bin/python experiments/profile_stylize.py [--model=DIR|pretrained:NAME] \
        [--size=256] [--batch=1] [--calls=10] [--threads=2]

Exports the model (default: the default config, untrained) and loads the SavedModel the
way TF Serving does (a TF1 session over the `serve` MetaGraph), runs `stylize` with full
tracing, and sums each op's time over --calls calls: by op type, and by the layer the op
belongs to (the first two parts of its name). Also times the signature against the bare
Keras model call (`model(images, weights)` in a tf.function), which is what the input
checks, casts and rounding cost.
"""

from __future__ import annotations

import collections
import pathlib
import statistics
import sys
import tempfile
import time

from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

flags.DEFINE_string("model", None, "A style-transfer training dir or release (default: fresh).")
flags.DEFINE_integer("size", 256, "Square image side.")
flags.DEFINE_integer("batch", 1, "Images per call.")
flags.DEFINE_integer("calls", 10, "Traced calls, after two untraced ones.")
flags.DEFINE_integer("threads", 2, "Intra-op threads.")
flags.DEFINE_integer("top", 12, "Rows per table.")
flags.DEFINE_multi_string(
    "config", [], "Config override of the fresh model, e.g. --config=widths=(32,32,32,8,4)."
)
FLAGS = flags.FLAGS


def main(argv):
    """Exports, profiles and prints the tables."""
    del argv
    import numpy as np
    import tensorflow as tf

    from export import export_lib
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import model as style_transfer
    from zoo.training import train_lib

    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if FLAGS.model:
        model, _, _ = loading.restore_model(FLAGS.model)
    else:
        from zoo import flags_util

        overrides = flags_util.parse_overrides(FLAGS.config, style_config.Config)
        tf.keras.utils.set_random_seed(0)
        model = style_transfer.build_model(train_lib.make_config("style_transfer", overrides))
    version_dir = export_lib.export_model(
        "style_transfer", model, pathlib.Path(tempfile.mkdtemp()), "style_transfer"
    )
    images = np.random.default_rng(0).integers(
        0, 256, [FLAGS.batch, FLAGS.size, FLAGS.size, 3], dtype=np.uint8
    )
    weights = np.array([[1.0, 1.0, 0.0, 0.0, 0.0]] * FLAGS.batch, np.float32)

    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=FLAGS.threads, inter_op_parallelism_threads=1
    )
    by_type, by_layer = collections.Counter(), collections.Counter()
    with tf.Graph().as_default(), tf.compat.v1.Session(config=config) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(version_dir))
        signature = meta_graph.signature_def["stylize"]
        feed = {
            signature.inputs["images"].name: images,
            signature.inputs["loss_weights"].name: weights,
        }
        fetch = signature.outputs["stylized"].name
        for _ in range(2):
            session.run(fetch, feed)
        options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        wall = []
        for _ in range(FLAGS.calls):
            metadata = tf.compat.v1.RunMetadata()
            start = time.perf_counter()
            session.run(fetch, feed, options=options, run_metadata=metadata)
            wall.append(time.perf_counter() - start)
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    micros = node.op_end_rel_micros - node.op_start_rel_micros
                    name = node.node_name.split(":")[0]
                    op_type = node.timeline_label.split("(")[0].split("=")[-1].strip() or name
                    by_type[op_type.split(" ")[0]] += micros
                    # Inside the network: its block and layer (down/conv...); else the op.
                    inner = name.split("style_transfer_net/", 1)[-1]
                    by_layer["/".join(inner.split("/")[:2])] += micros
    total = sum(by_type.values())
    print(
        f"stylize, {FLAGS.batch} x {FLAGS.size}x{FLAGS.size}, {FLAGS.threads} threads: median "
        f"{1000 * statistics.median(wall):.1f} ms per traced call; summed op time per call "
        f"{total / FLAGS.calls / 1000:.1f} ms"
    )
    for title, table in (("op type", by_type), ("layer", by_layer)):
        print(f"\n{'share':>6} {'ms/call':>8}  {title}")
        for key, micros in table.most_common(FLAGS.top):
            print(f"{100 * micros / total:5.1f}% {micros / FLAGS.calls / 1000:8.2f}  {key}")

    signature = tf.saved_model.load(str(version_dir)).signatures["stylize"]
    bare = tf.function(lambda x, w: model(tf.cast(x, tf.float32), w, training=False))
    tv = tf.constant([[model.config.tv_weight]] * FLAGS.batch)
    calls = {
        "exported stylize (checks, casts, rounding)": lambda: signature(
            images=tf.constant(images), loss_weights=tf.constant(weights)
        )["stylized"].numpy(),
        "Keras model call only": lambda: bare(
            tf.constant(images), tf.concat([tf.constant(weights), tv], 1)
        ).numpy(),
    }
    times = {name: [] for name in calls}
    for function in [*calls.values()] * 2:
        function()
    for _ in range(FLAGS.calls):
        for name, function in calls.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    print()
    for name, values in times.items():
        print(f"{1000 * statistics.median(values):8.1f} ms  {name}")


if __name__ == "__main__":
    app.run(main)
