"""Codec speed beside Pillow JPEG, and the YOTO-over-fixed train-step ratio, in one run.

    .venv/bin/python bench/bench_codec.py [--model=runs/codec] [--repeats=5]

Encode and decode megapixels per second of the YOTO codec (a trained model dir if
--model is given, else the default config untrained: range coding then sees fewer
bits than a trained model writes), both in process and as the exported SavedModel
(`zoo/compression/serving.py`, what a server runs), and of Pillow JPEG at quality 75, on
the held-out photographs (and, with --refine_steps, the in-process encoder refining
each image's latents that many steps); then median train-step times of the YOTO
model and of the same architecture without conditioning at a fixed lambda
(`--fixed_config` changes the latter, e.g. its width), interleaved, and their ratio.
"""

from __future__ import annotations

import dataclasses
import io
import sys
import tempfile

import timing
from absl import app, flags

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("model", None, "Trained compression dir (default: untrained default config).")
flags.DEFINE_float("lmbda", 0.01, "Lambda to encode at.")
flags.DEFINE_integer("repeats", 5, "Timed repeats per image (the median is reported).")
flags.DEFINE_integer("refine_steps", 0, "Also time encoding with this many refinement steps.")
flags.DEFINE_integer("train_rounds", 7, "Timed train-step rounds per model.")
flags.DEFINE_integer("steps_per_round", 5, "Train steps per round.")
flags.DEFINE_multi_string(
    "fixed_config",
    [],
    "Config override field=value for the fixed-lambda model of the train-step ratio only, "
    "repeatable (e.g. num_filters=64 to time a wider YOTO model against the default fixed one).",
)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from PIL import Image

    from export import export_lib
    from zoo import flags_util
    from zoo.compression import codec
    from zoo.compression import config as compression_config
    from zoo.compression import data as compression_data
    from zoo.compression import model as compression

    # Parsed first, so that a bad value fails before minutes of timing, not after.
    try:
        fixed_overrides = flags_util.parse_overrides(
            FLAGS.fixed_config, compression_config.Config, flag_name="--fixed_config"
        )
    except ValueError as error:
        print(f"bench_codec: error: {error}", file=sys.stderr)
        return 2
    if FLAGS.model:
        model, config, _ = loading.restore_model(FLAGS.model)
    else:
        config = compression_config.Config()
        model = compression.build_model(config)
    yoto_codec = codec.Codec(model)
    version_dir = export_lib.export_model("compression", model, tempfile.mkdtemp(), "bench")
    exported_codec = codec.Codec.from_saved_model(version_dir)
    images = compression_data.evaluation_images()
    megapixels = sum(i.shape[0] * i.shape[1] for i in images) / 1e6

    encoded = [yoto_codec.encode(i, FLAGS.lmbda) for i in images]  # Also warms up tracing.
    [yoto_codec.decode(d) for d in encoded]
    if [exported_codec.encode(i, FLAGS.lmbda) for i in images] != encoded:
        raise AssertionError("The exported codec wrote different bytes from the model.")
    [exported_codec.decode(d) for d in encoded]

    def jpeg_encode():
        for image in images:
            Image.fromarray(image).save(io.BytesIO(), format="JPEG", quality=75)

    jpegs = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=75)
        jpegs.append(buffer.getvalue())

    def jpeg_decode():
        for data in jpegs:
            Image.open(io.BytesIO(data)).load()

    timings = {
        "yoto encode": timing.median_seconds(
            lambda: [yoto_codec.encode(i, FLAGS.lmbda) for i in images], FLAGS.repeats
        ),
        "yoto decode": timing.median_seconds(
            lambda: [yoto_codec.decode(d) for d in encoded], FLAGS.repeats
        ),
        "exported encode": timing.median_seconds(
            lambda: [exported_codec.encode(i, FLAGS.lmbda) for i in images], FLAGS.repeats
        ),
        "exported decode": timing.median_seconds(
            lambda: [exported_codec.decode(d) for d in encoded], FLAGS.repeats
        ),
        "jpeg encode": timing.median_seconds(jpeg_encode, FLAGS.repeats),
        "jpeg decode": timing.median_seconds(jpeg_decode, FLAGS.repeats),
    }
    if FLAGS.refine_steps:
        refining_codec = codec.Codec(model, refine_steps=FLAGS.refine_steps)

        def refined_encode():
            for image in images:
                refining_codec.clear_refinement_cache()
                refining_codec.encode(image, FLAGS.lmbda)

        refined_encode()  # Traces the refinement graph.
        timings[f"refined encode ({FLAGS.refine_steps} steps)"] = timing.median_seconds(
            refined_encode, max(1, FLAGS.repeats // 2)
        )
    print(f"{len(images)} held-out photographs, {megapixels:.3f} MP, lambda {FLAGS.lmbda}")
    for name, seconds in timings.items():
        print(f"{name:28s} {megapixels / seconds:9.3f} MP/s")
    for step in ("encode", "decode"):
        for codec_name in ("yoto", "exported"):
            ratio = timings[f"{codec_name} {step}"] / timings[f"jpeg {step}"]
            print(f"{step}: {codec_name} takes {ratio:.1f}x the time of Pillow JPEG")
    if FLAGS.refine_steps:
        refined = timings[f"refined encode ({FLAGS.refine_steps} steps)"]
        print(f"encode: refining takes {refined / timings['yoto encode']:.0f}x the time of yoto")

    batch = next(iter(compression_data.train_dataset(config, seed=0)))
    fixed_config = dataclasses.replace(
        config, conditioned=False, fixed_lmbda=FLAGS.lmbda, **fixed_overrides
    )
    print(f"train steps: yoto {config.num_filters} filters, fixed {fixed_config.num_filters}")
    fixed = compression.build_model(fixed_config)
    models = {"yoto": compression.build_model(config), "fixed": fixed}
    for candidate in models.values():
        candidate.compile(optimizer=compression.optimizer(config))
    medians = timing.median_train_steps(models, batch, FLAGS.train_rounds, FLAGS.steps_per_round)
    timing.print_yoto_over_fixed(medians, config.batch_size)


if __name__ == "__main__":
    app.run(main)
