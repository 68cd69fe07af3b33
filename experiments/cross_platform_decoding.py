"""How many files of a trained codec decode under other numeric settings (any entropy model).

    .venv/bin/python experiments/cross_platform_decoding.py --model_dir=runs/cmp/float \
        [--crops=20] [--other_python=/path/to/venv-with-newer-tf/bin/python]

Encodes `--crops` 256x256 crops of the bundled photographs (training and held-out
alike: this measures decoding, not quality) at lambda 0.0018, 0.018 and 0.18 in this
process with TensorFlow's defaults, then decodes every file in one process per
setting of `tests/cross_platform_worker.SETTINGS` (oneDNN off and on, AVX2 only, one
thread, XLA auto-jit) through the model's stock-op servable, and counts per setting
the files that failed to decode and those that decoded to other latents than the
encoder's. With `--other_python`, that interpreter's TensorFlow computes the
`scale_indexes` of every file's side symbols (stock ops only: no range coding there),
compared with the encoder's (a context model's servable also gets the latent symbols:
each slice's indexes read the slices before it).

Mean-scale and channel-context codecs (`Config.entropy_model`, `.yoto` version 3) decode
through the same servable slice by slice; their means and context networks are integer
networks like the scale indexes', so the same counts must be 0.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

from absl import app, flags

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

flags.DEFINE_string("model_dir", None, "Trained compression dir.")
flags.DEFINE_integer("crops", 20, "256x256 crops to encode (each at three lambdas).")
flags.DEFINE_string("other_python", None, "Another venv's python for the scale_indexes check.")
flags.mark_flag_as_required("model_dir")
FLAGS = flags.FLAGS
LMBDAS = (0.0018, 0.018, 0.18)


def main(argv):
    """Encodes, decodes per setting, and prints the counts."""
    del argv
    import numpy as np
    import tensorflow as tf

    from export import export_lib
    from tests import cross_platform_worker
    from zoo.compression import codec
    from zoo.data import photos

    model, _, _ = loading.restore_model(FLAGS.model_dir)
    temp = pathlib.Path(tempfile.mkdtemp())
    stock_dir = export_lib.export_model("compression", model, temp / "serving", "s", stock=True)
    in_process = codec.Codec(model)
    files = temp / "files"
    files.mkdir()
    rng = np.random.default_rng(0)
    names = [*photos.TRAINING, *photos.HELD_OUT]
    expected, requests = {}, {}
    for crop in range(FLAGS.crops):
        image = photos.load_bundled(names[crop % len(names)])
        top = rng.integers(0, image.shape[0] - 256 + 1)
        left = rng.integers(0, image.shape[1] - 256 + 1)
        image = image[top : top + 256, left : left + 256]
        for lmbda in LMBDAS:
            name = f"crop{crop:02d}_lmbda{lmbda}"
            (files / f"{name}.yoto").write_bytes(in_process.encode(image, lmbda))
            coded = tf.constant([in_process.check_lmbda(lmbda)], tf.float32)
            symbols = model.coding_symbols(tf.constant(image[np.newaxis]), coded)
            expected[name] = {key: value.numpy()[0] for key, value in symbols.items()}
            requests[f"{name}/side_symbols"] = symbols["side_symbols"].numpy()
            requests[f"{name}/lmbda"] = coded.numpy()
            if model.num_slices > 1:
                requests[f"{name}/latent_symbols"] = symbols["latent_symbols"].numpy()
    kind = "integer" if model.integer_entropy_parameters else "float"
    print(
        f"{FLAGS.model_dir} ({kind} indexes, {model.coding_architecture()}): {len(expected)} "
        f"files, {FLAGS.crops} crops x {LMBDAS}"
    )
    results = cross_platform_worker.decode_in_processes(stock_dir, files, temp)
    for setting, (arrays, errors) in results.items():
        wrong = [
            name
            for name in expected
            if name not in errors
            and not np.array_equal(
                arrays[f"{name}/latent_symbols"], expected[name]["latent_symbols"]
            )
        ]
        print(
            f"{setting:18s} failed to decode {len(errors):3d}, decoded other latents "
            f"{len(wrong):3d}, identical {len(expected) - len(errors) - len(wrong):3d}"
        )
    if FLAGS.other_python:
        np.savez(temp / "requests.npz", **requests)
        results = cross_platform_worker.decode_in_processes(
            stock_dir,
            temp / "requests.npz",
            temp,
            settings={"other_tensorflow": {}},
            mode="indexes",
            python=FLAGS.other_python,
        )
        arrays, errors = results["other_tensorflow"]
        differ = [
            name
            for name in expected
            if name not in errors
            and not np.array_equal(arrays[f"{name}/scale_indexes"], expected[name]["scale_indexes"])
        ]
        print(
            f"{'other_tensorflow':18s} scale_indexes failed {len(errors)}, differ {len(differ)} "
            f"of {len(expected)} ({FLAGS.other_python})"
        )
    return 0


if __name__ == "__main__":
    app.run(main)
