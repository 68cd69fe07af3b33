"""Where the exported codec spends its time: per-op profiles of `compress` and `decompress`.

    .venv/bin/python experiments/profile_codec.py [--model=releases/work/compression] \
        [--photo=coffee] [--lmbda=0.01] [--calls=5] [--threads=2]

Exports the model with `yoto-export`'s code, loads the SavedModel the way TF Serving runs
it (a TF1 session over the `serve` MetaGraph), and traces --calls calls of each signature
on a held-out photograph: megapixels per second, and op time by op type and by the part of
the model it belongs to (analysis, hyper-analysis, hyper-synthesis, entropy coding, ...).
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

flags.DEFINE_string("model", "releases/work/compression", "Codec: dir, snapshot or release.")
flags.DEFINE_string("photo", "coffee", "Held-out bundled photograph.")
flags.DEFINE_float("lmbda", 0.01, "Rate-distortion weight.")
flags.DEFINE_integer("calls", 5, "Traced calls per signature, after one untraced.")
flags.DEFINE_integer("threads", 2, "Intra-op threads.")
flags.DEFINE_integer("top", 12, "Rows per table.")
FLAGS = flags.FLAGS


def _part(node_name: str) -> str:
    """The model part an op belongs to: the first scope that names a layer of the codec."""
    parts = node_name.split(":")[0].split("/")
    for index, part in enumerate(parts):
        if part.startswith(("analysis", "hyper", "synthesis", "side", "latent", "integer")):
            return "/".join(parts[index : index + 1])
    return parts[-1] if len(parts) < 3 else "/".join(parts[-2:])


def _profile(session, fetches, feed, calls):
    by_type, by_part, wall = collections.Counter(), collections.Counter(), []
    session.run(fetches, feed)
    options = tf_v1().RunOptions(trace_level=tf_v1().RunOptions.FULL_TRACE)
    result = None
    for _ in range(calls):
        metadata = tf_v1().RunMetadata()
        start = time.perf_counter()
        result = session.run(fetches, feed, options=options, run_metadata=metadata)
        wall.append(time.perf_counter() - start)
        for device in metadata.step_stats.dev_stats:
            for node in device.node_stats:
                micros = node.op_end_rel_micros - node.op_start_rel_micros
                op_type = node.timeline_label.split("(")[0].split("=")[-1].strip().split(" ")[0]
                by_type[op_type or node.node_name] += micros
                by_part[_part(node.node_name)] += micros
    return result, statistics.median(wall), by_type, by_part


def tf_v1():
    """TensorFlow's compat.v1 namespace (imported late, after the quiet import)."""
    import tensorflow as tf

    return tf.compat.v1


def main(argv):
    """Exports, profiles both signatures and prints the tables."""
    del argv
    import tensorflow as tf
    import tensorflow_compression  # noqa: F401  Registers the range-coding ops.

    from export import export_lib
    from zoo.compression import codec
    from zoo.data import photos

    model, _, _ = loading.restore_model(FLAGS.model)
    version_dir = export_lib.export_model(
        "compression", model, pathlib.Path(tempfile.mkdtemp()), "codec"
    )
    image = codec.Codec.pad(photos.load_bundled(FLAGS.photo))[None]
    megapixels = image.shape[1] * image.shape[2] / 1e6
    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=FLAGS.threads, inter_op_parallelism_threads=1
    )
    with tf.Graph().as_default(), tf.compat.v1.Session(config=config) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(version_dir))
        signatures = meta_graph.signature_def
        compress = signatures["compress"]
        feed = {
            compress.inputs["images"].name: image,
            compress.inputs["lmbda"].name: [FLAGS.lmbda],
        }
        names = sorted(compress.outputs)
        fetches = [compress.outputs[name].name for name in names]
        outputs, seconds, by_type, by_part = _profile(session, fetches, feed, FLAGS.calls)
        _report("compress", megapixels, seconds, by_type, by_part)
        coded = dict(zip(names, outputs, strict=True))
        decompress = signatures["decompress"]
        feed = {
            decompress.inputs["latent_strings"].name: coded["latent_strings_bytes"],
            decompress.inputs["side_strings"].name: coded["side_strings_bytes"],
            decompress.inputs["lmbda"].name: [FLAGS.lmbda],
            decompress.inputs["side_shape"].name: coded["side_shape"],
        }
        fetch = decompress.outputs["images"].name
        _, seconds, by_type, by_part = _profile(session, fetch, feed, FLAGS.calls)
        _report("decompress", megapixels, seconds, by_type, by_part)


def _report(name, megapixels, seconds, by_type, by_part):
    total = sum(by_type.values())
    print(
        f"\n{name}: {megapixels:.3f} MP in {1000 * seconds:.1f} ms (traced) = "
        f"{megapixels / seconds:.2f} MP/s; op time {total / FLAGS.calls / 1000:.1f} ms per call"
    )
    for title, table in (("op type", by_type), ("part", by_part)):
        print(f"{'share':>6} {'ms/call':>8}  {title}")
        for key, micros in table.most_common(FLAGS.top):
            print(f"{100 * micros / total:5.1f}% {micros / FLAGS.calls / 1000:8.2f}  {key}")


if __name__ == "__main__":
    app.run(main)
