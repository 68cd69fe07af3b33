"""Files, checkpoints and SavedModel outputs recorded by earlier code still work today.

The artefacts in tests/golden/ were written by tests/golden/record.py with the code of
their `manifest.json`'s commit (before the zoo became one package per task). Users hold
such `.yoto` files, training dirs and exports: a refactor must decode the files to the
same bytes, resume, export and evaluate the checkpoints (converting old variable paths
on load, or keeping them), and serve the same numbers. Never re-record to make a
failure here go away; record.py's docstring says when re-recording is right.

The recording was made on one machine, and each output is compared by what it promises
on any other (tests/output_promises.py): range-coded bytes, symbols, scale indexes and
coding tables exactly; pixels of float arithmetic within one level; float outputs within
a relative tolerance. `OtherNumericSettingsTest` runs the comparisons again in processes
whose kernels differ from this one's (oneDNN flipped, one thread), so a comparison that
holds only on the recording machine fails here, not on the next contributor's.
"""

import csv
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests import cross_platform_worker, golden_files, output_promises
from zoo import loading
from zoo.compression import codec, codec_cli
from zoo.data import photos

REPO = pathlib.Path(__file__).resolve().parents[1]

# Small grids for the evaluation smoke runs: both ends of each task's swept weight.
EVALUATION_GRIDS = {
    "beta_vae": "0.125,512",
    "compression": "0.0018,0.18",
    "style_transfer": "0.1,10",
}


# yoto-evaluate reads a SavedModel through a `loss_terms` signature that takes the swept
# weight alone: the VAE's. The codec exports have no `loss_terms`, and the style net's
# takes the whole weight matrix, so for them it evaluates the training dir only.
EVALUATES_SAVED_MODELS = {"beta_vae"}


def _run_binary(module: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Runs a project binary (`python -m module`) the way a user's shell would."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _first_difference(data: bytes, recorded: bytes) -> str:
    """Where two byte strings part, for a failure message."""
    at = next(
        (i for i, (a, b) in enumerate(zip(data, recorded, strict=False)) if a != b),
        min(len(data), len(recorded)),
    )
    return f"{len(data)} bytes, the recording {len(recorded)}; first difference at byte {at}"


def _training_flags(task: str, model_dir, steps: int) -> list[str]:
    """The flags the recording trained with (a resumed run must repeat them), at `steps`."""
    return [
        f"--task={task}",
        f"--model_dir={model_dir}",
        "--runlocal",
        f"--steps={steps}",
        f"--seed={golden_files.SEED}",
        "--log_every=1",
        "--checkpoint_every=1000",
        "--image_every=0",
    ]


class RecordedCodecFilesTest(tf.test.TestCase):
    """The codec's `.yoto` files and the training dir that wrote them, in this process."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with tempfile.TemporaryDirectory() as scratch:
            model_dir = golden_files.copy_run("compression", pathlib.Path(scratch) / "run")
            # What `yoto-codec --model=DIR` builds; one Codec, so its functions trace once
            # (RecordedBinariesTest runs the binary itself).
            cls.codec = codec.Codec(loading.restore_model(model_dir)[0])

    @classmethod
    def tearDownClass(cls):
        del cls.codec  # Its model and traced functions are large; the class is done.
        super().tearDownClass()

    def test_a_yoto_file_recorded_before_the_move_decodes_to_the_same_pixels(self):
        for lmbda in golden_files.LMBDAS:
            with self.subTest(lmbda=lmbda):
                decoded = self.codec.decode(golden_files.codec_file(lmbda, "yoto").read_bytes())
                recorded = np.asarray(Image.open(golden_files.codec_file(lmbda, "png")))
                # The symbols are exact; the pixels come from the float synthesis.
                output_promises.assert_pixels_agree(self, decoded, recorded, f"lambda {lmbda}")

    def test_compressing_the_recorded_photo_with_the_recorded_checkpoint_gives_the_same_bytes(
        self,
    ):
        image = photos.read_rgb8(golden_files.photo_file())
        for lmbda in golden_files.LMBDAS:
            with self.subTest(lmbda=lmbda):
                data = self.codec.encode(image, lmbda)
                recorded = golden_files.codec_file(lmbda, "yoto").read_bytes()
                self.assertEqual(data, recorded, _first_difference(data, recorded))


class RecordedCheckpointsTest(tf.test.TestCase):
    """Every task's recorded checkpoint restores completely into today's model."""

    def test_every_value_of_a_recorded_checkpoint_lands_in_todays_model(self):
        for task in golden_files.TASKS:
            with self.subTest(task=task), tempfile.TemporaryDirectory() as scratch:
                model_dir = golden_files.copy_run(task, f"{scratch}/run")
                recorded = {
                    key: value
                    for key, value in golden_files.checkpoint_values(
                        golden_files.latest_checkpoint(model_dir)
                    ).items()
                    if key.startswith("model/")
                }
                # restore_model is what export, evaluation and the codec load through; it
                # may rename old variable paths, so values are matched, not paths.
                model, _, task_name = loading.restore_model(model_dir)
                self.assertEqual(task_name, task)
                with tempfile.TemporaryDirectory() as scratch:
                    prefix = tf.train.Checkpoint(model=model).write(f"{scratch}/today")
                    today = golden_files.checkpoint_values(prefix)
                today_values = {
                    (value.shape, golden_files.sha256(value.tobytes()))
                    for key, value in today.items()
                    if key.startswith("model/")
                }
                lost = sorted(
                    key
                    for key, value in recorded.items()
                    if (value.shape, golden_files.sha256(value.tobytes())) not in today_values
                )
                self.assertEqual(
                    len(lost),
                    0,
                    f"{len(lost)} of {len(recorded)} recorded {task} values are not in the "
                    "restored model (a variable path changed: convert old checkpoints on "
                    f"load, or keep the paths): {lost[:5]}",
                )


class RecordedSavedModelOutputsTest(tf.test.TestCase):
    """Re-exporting a recorded checkpoint serves the recorded outputs."""

    def assert_reproduces_the_recording(self, task: str):
        with tempfile.TemporaryDirectory() as scratch:
            model_dir = golden_files.copy_run(task, f"{scratch}/run")
            exported = golden_files.exported_outputs(task, model_dir, f"{scratch}/serving")
        for model_name, outputs in exported.items():
            recorded = golden_files.load_arrays(golden_files.outputs_file(model_name))
            # Export format 2 renamed the string outputs (to `*_bytes`, for TF Serving's
            # REST API); every recorded value is still checked, under its new name.
            recorded = {golden_files.RENAMED_OUTPUTS.get(k, k): v for k, v in recorded.items()}
            self.assertEqual(sorted(outputs), sorted(recorded), f"{model_name}'s signatures")
            for key, expected in recorded.items():
                with self.subTest(saved_model=model_name, output=key):
                    output_promises.assert_output_agrees(self, key, outputs[key], expected)

    def test_the_exported_beta_vae_reproduces_the_recorded_outputs(self):
        self.assert_reproduces_the_recording("beta_vae")

    def test_the_exported_style_transfer_net_reproduces_the_recorded_outputs(self):
        self.assert_reproduces_the_recording("style_transfer")

    @pytest.mark.slow
    def test_the_exported_codecs_reproduce_the_recorded_outputs(self):
        # Slow: exporting the codec and its stock-op twin traces both for about 40 s.
        self.assert_reproduces_the_recording("compression")


@pytest.mark.slow
class RecordedBinariesTest(tf.test.TestCase):
    """With the binaries a user runs: recorded files decode, recorded runs continue."""

    def test_yoto_codec_decompresses_a_recorded_file_to_the_recorded_pixels_and_back(self):
        with tempfile.TemporaryDirectory() as scratch:
            scratch = pathlib.Path(scratch)
            model = f"--model={golden_files.copy_run('compression', scratch / 'run')}"
            for lmbda in golden_files.LMBDAS:
                with self.subTest(lmbda=lmbda):
                    decoded, coded = scratch / f"{lmbda:g}.png", scratch / f"{lmbda:g}.yoto"
                    recorded = golden_files.codec_file(lmbda, "yoto")
                    arguments = ["decompress", model, str(recorded), str(decoded)]
                    self.assertEqual(codec_cli.run(arguments), 0)
                    output_promises.assert_pixels_agree(
                        self,
                        np.asarray(Image.open(decoded)),
                        np.asarray(Image.open(golden_files.codec_file(lmbda, "png"))),
                        f"{decoded.name} decoded by yoto-codec",
                    )
                    photo = str(golden_files.photo_file())
                    arguments = ["compress", model, f"--lmbda={lmbda}", photo, str(coded)]
                    self.assertEqual(codec_cli.run(arguments), 0)
                    data = coded.read_bytes()
                    self.assertEqual(
                        data, recorded.read_bytes(), _first_difference(data, recorded.read_bytes())
                    )

    def test_a_recorded_run_resumes_for_a_step_exports_and_evaluates(self):
        for task in golden_files.TASKS:
            with self.subTest(task=task), tempfile.TemporaryDirectory() as scratch:
                model_dir = golden_files.copy_run(task, f"{scratch}/run")
                recorded_steps = golden_files.RECORDED_STEPS[task]
                steps = recorded_steps + 1
                trained = _run_binary(
                    "zoo.training.train", *_training_flags(task, model_dir, steps)
                )
                self.assertEqual(trained.returncode, 0, trained.stderr[-3000:])
                self.assertIn(f"Resuming from step {recorded_steps} ", trained.stdout)
                latest = golden_files.latest_checkpoint(model_dir)
                self.assertEqual(loading.checkpoint_step(latest), steps)

                base_dir = pathlib.Path(scratch) / "serving"
                exported = _run_binary(
                    "export.export_saved_model",
                    f"--model_dir={model_dir}",
                    f"--base_dir={base_dir}",
                )
                self.assertEqual(exported.returncode, 0, exported.stderr[-3000:])
                version_dir = base_dir / task / "1"
                self.assertTrue((version_dir / "saved_model.pb").is_file())

                evaluated_dirs = {"trained": model_dir}
                if task in EVALUATES_SAVED_MODELS:
                    evaluated_dirs["exported"] = version_dir
                for name, evaluated_dir in evaluated_dirs.items():
                    with self.subTest(evaluated=name):
                        output_dir = pathlib.Path(scratch) / f"evaluation_{name}"
                        rows = self.evaluation_rows(task, evaluated_dir, output_dir)
                        grid = EVALUATION_GRIDS[task].split(",")
                        self.assertLen(rows, len(grid))
                        for row in rows:
                            self.assertTrue(all(np.isfinite(list(row.values()))), row)

    def evaluation_rows(self, task: str, evaluated_dir, output_dir) -> list[dict]:
        """Evaluates on a tiny setting; returns one row of measured numbers per grid weight."""
        grid = f"--grid={EVALUATION_GRIDS[task]}"
        if task == "compression":
            # The codec's evaluation binary, on the recorded photo: yoto-evaluate cannot run
            # a codec on photos whose sides are not multiples of 64 (its held-out ones).
            folder = output_dir / "photos"
            folder.mkdir(parents=True)
            shutil.copy(golden_files.photo_file(), folder)
            result = _run_binary(
                "zoo.compression.codec_eval",
                f"--models={evaluated_dir}",
                grid,
                f"--image_folder={folder}",
                f"--output_dir={output_dir}",
            )
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            rows = csv.DictReader((output_dir / "rd.csv").read_text().splitlines())
            label = pathlib.Path(evaluated_dir).name
            return [
                {key: float(row[key]) for key in ("lmbda", "bpp", "estimated_bpp", "psnr")}
                for row in rows
                if row["model"] == label
            ]
        result = _run_binary(
            "zoo.evaluation.evaluate",
            f"--task={task}",
            f"--model_dirs={evaluated_dir}",
            grid,
            "--examples=1",
            f"--output_dir={output_dir}",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        rows = csv.DictReader((output_dir / "terms.csv").read_text().splitlines())
        return [{key: float(value) for key, value in row.items() if key != "model"} for row in rows]


def _flipped_onednn() -> str:
    """TF_ENABLE_ONEDNN_OPTS opposite to this process's (TensorFlow 2.14 on x86: on by default)."""
    return "1" if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") == "0" else "0"


def _run_golden_comparisons(settings: dict[str, str]) -> subprocess.CompletedProcess:
    """Runs the fast golden comparisons in a pytest process with `settings` in its environment."""
    selected = [
        f"tests/test_golden.py::{name}"
        for name in ("RecordedCodecFilesTest", "RecordedSavedModelOutputsTest")
    ]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
        + selected,
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **settings},
        capture_output=True,
        text=True,
        timeout=900,
    )


class OtherNumericSettingsTest(tf.test.TestCase):
    """The golden comparisons hold when TensorFlow picks other kernels than this process."""

    def assert_golden_comparisons_pass(self, settings: dict[str, str]):
        result = _run_golden_comparisons(settings)
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        self.assertEqual(
            result.returncode, 0, f"{settings}: {result.stdout[-4000:]}{result.stderr[-2000:]}"
        )
        self.assertRegex(summary, r"\b[1-9]\d* passed", f"{settings}: ran no test ({summary})")
        self.assertNotIn("failed", summary, settings)

    # Slow: a second pytest process redoes the fast golden comparisons (~10 minutes on a
    # loaded 2-core machine). The fast suite keeps the codec's files decoding alike with
    # oneDNN off and on one thread (tests/zoo/compression/test_cross_platform_decoding.py).
    @pytest.mark.slow
    def test_the_golden_outputs_hold_with_onednn_flipped_and_one_thread(self):
        self.assert_golden_comparisons_pass(
            {
                "TF_ENABLE_ONEDNN_OPTS": _flipped_onednn(),
                "TF_NUM_INTRAOP_THREADS": "1",
                "TF_NUM_INTEROP_THREADS": "1",
            }
        )

    @pytest.mark.slow
    def test_the_golden_outputs_hold_in_every_cross_platform_setting(self):
        for name, settings in cross_platform_worker.SETTINGS.items():
            with self.subTest(setting=name):
                self.assert_golden_comparisons_pass(settings)


if __name__ == "__main__":
    tf.test.main()
