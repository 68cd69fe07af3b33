"""Integer-index codec against float-index codec: encode, decode and train-step speed in one run.

    .venv/bin/python bench/bench_integer_index.py \
        [--integer_model=runs/cmp/integer --float_model=runs/cmp/float] [--repeats=5]

Both codecs (trained dirs if given, else the default config untrained, with
`integer_entropy_parameters` True and False) are exported as SavedModels, as a
server runs them, and timed interleaved on the held-out photographs: encode and
decode megapixels per second, the scale-index computation alone (the stock
servable's `scale_indexes` signature on each file's side symbols), and the median
train step. Prints each and the ratio integer / float.
"""

from __future__ import annotations

import statistics
import tempfile
import time

import timing
from absl import app, flags

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("integer_model", None, "Trained integer-index dir (default: untrained).")
flags.DEFINE_string("float_model", None, "Trained float-index dir (default: untrained).")
flags.DEFINE_float("lmbda", 0.01, "Lambda to encode at.")
flags.DEFINE_integer("repeats", 5, "Timed rounds (the median is reported).")
flags.DEFINE_integer("train_rounds", 7, "Timed train-step rounds per model.")
flags.DEFINE_integer("steps_per_round", 3, "Train steps per round.")
FLAGS = flags.FLAGS


def _model(model_dir, integer: bool):
    from zoo.compression import config as compression_config
    from zoo.compression import model as compression

    if model_dir:
        model, config, _ = loading.restore_model(model_dir)
        if model.integer_entropy_parameters != integer:
            raise SystemExit(f"{model_dir}: integer_entropy_parameters is not {integer}.")
        return model, config
    config = compression_config.Config(integer_entropy_parameters=integer)
    return compression.build_model(config), config


def main(argv):
    del argv
    import numpy as np

    from export import export_lib
    from serving import codec_client, range_coding
    from zoo.compression import codec, codec_format
    from zoo.compression import data as compression_data
    from zoo.compression import model as compression

    images = compression_data.evaluation_images()
    megapixels = sum(i.shape[0] * i.shape[1] for i in images) / 1e6
    codecs, predicts, coders, configs, encoded = {}, {}, {}, {}, {}
    for name, model_dir in (("integer", FLAGS.integer_model), ("float", FLAGS.float_model)):
        model, configs[name] = _model(model_dir, name == "integer")
        base = tempfile.mkdtemp()
        full = export_lib.export_model("compression", model, base, "codec")
        stock = export_lib.export_model("compression", model, base, "stock", stock=True)
        codecs[name] = codec.Codec.from_saved_model(full)
        predicts[name] = codec_client.in_process_predict(stock)
        coders[name] = range_coding.RangeCoder(codec_client.coding_tables(predicts[name]))
        encoded[name] = [codecs[name].encode(i, FLAGS.lmbda) for i in images]  # Warms up.
        [codecs[name].decode(d) for d in encoded[name]]

    def side_symbols(name):
        result = []
        for data in encoded[name]:
            header, side, _ = codec_format.unpack(data)
            lmbda = np.array([header.lmbda], np.float32)
            symbols = coders[name].decode_side(side, header.side_shape)[np.newaxis]
            result.append({"side_symbols": symbols, "lmbda": lmbda})
        return result

    index_inputs = {name: side_symbols(name) for name in codecs}
    for name, inputs in index_inputs.items():
        for request in inputs:
            predicts[name]("scale_indexes", request)  # Warm-up.

    operations = {
        "encode": lambda name: [codecs[name].encode(i, FLAGS.lmbda) for i in images],
        "decode": lambda name: [codecs[name].decode(d) for d in encoded[name]],
        "scale indexes": lambda name: [
            predicts[name]("scale_indexes", r) for r in index_inputs[name]
        ],
    }
    times = {(op, name): [] for op in operations for name in codecs}
    for _ in range(FLAGS.repeats):  # Interleaved, so machine noise hits both alike.
        for op, function in operations.items():
            for name in codecs:
                start = time.perf_counter()
                function(name)
                times[op, name].append(time.perf_counter() - start)
    print(f"{len(images)} held-out photographs, {megapixels:.3f} MP, lambda {FLAGS.lmbda}")
    for op in operations:
        medians = {name: statistics.median(times[op, name]) for name in codecs}
        for name, seconds in medians.items():
            print(f"{op:14s} {name:8s} {megapixels / seconds:9.3f} MP/s ({1000 * seconds:.1f} ms)")
        print(f"{op:14s} time ratio integer / float: {medians['integer'] / medians['float']:.3f}")

    batch = next(iter(compression_data.train_dataset(configs["integer"], seed=0)))
    models = {}
    for name in codecs:
        model = compression.build_model(configs[name])
        model.compile(optimizer=compression.optimizer(configs[name]))
        models[name] = model
    medians = timing.median_train_steps(models, batch, FLAGS.train_rounds, FLAGS.steps_per_round)
    for name, median in medians.items():
        print(f"train step     {name:8s} median {1000 * median:8.1f} ms")
    print(f"train step     time ratio integer / float: {medians['integer'] / medians['float']:.3f}")


if __name__ == "__main__":
    app.run(main)
