"""Records the golden artefacts that tests/test_golden.py holds today's code to.

    cd <repository root> && PYTHONPATH=$PWD .venv/bin/python tests/golden/record.py

RE-RUN ONLY DELIBERATELY, when a change of the `.yoto` format, of the checkpoints'
variable paths or of what the exported signatures compute is intended, and say so in
the commit. These files are the project's memory of what earlier code wrote: files,
checkpoints and SavedModels that users already have. Re-recording makes
test_golden pass by definition, so re-recording to silence a failure defeats it; a
failure after a refactor means old files or checkpoints no longer work (convert them
on load, or keep the paths).

What it does, with the real binaries (tests/golden_files.py describes the layout):

1. For each task (beta_vae, compression, style_transfer), `yoto-train --runlocal
   --seed=0` for `golden_files.RECORDED_STEPS` steps (2, or 200 for the codec) into
   `<task>/run/`; the TensorBoard events (timestamps and the host name, nothing a
   resumed run reads) are dropped.
2. A 48 x 64 crop of a bundled photograph to `compression/photo.png`, compressed with
   `yoto-codec compress` from that training dir at lambda 0.0018 and 0.18, and each
   `.yoto` file decoded with `yoto-codec decompress` to a PNG.
3. Each run exported as `yoto-export` does (`export_lib.export_all`, in this process so
   that the seed can be set: see `golden_files.exported_outputs`), every signature run
   on fixed inputs, inputs and outputs saved as `.npz`. The SavedModels themselves
   (0.7 to 19 MB each) are not kept: the test re-exports the recorded checkpoints.
4. style_transfer's checkpoint rewritten without its random frozen VGG16 (11.8 MB of
   its 11.8), after checking that `golden_files.restore_left_out` regenerates it and
   reassembles files byte-identical to the ones yoto-train wrote.
5. `manifest.json`: the commit, the commands, TensorFlow's version and every file's sha256.

Everything is written to a staging folder first and moved into place at the end, so
an interrupted run leaves the previous recording as it was. Took 4 minutes on a
loaded 2-core machine.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from tests import golden_files  # noqa: E402


def _binary(module: str, *args: str) -> list[str]:
    """Runs `python -m module args` from the repository root; returns the command shown."""
    command = [sys.executable, "-m", module, *args]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return [module, *args]


def _train(task: str, root: pathlib.Path) -> list[str]:
    run = golden_files.run_dir(task, root)
    command = _binary(
        "zoo.training.train",
        f"--task={task}",
        f"--model_dir={run}",
        "--runlocal",
        f"--steps={golden_files.RECORDED_STEPS[task]}",
        f"--seed={golden_files.SEED}",
        f"--log_every={golden_files.RECORDED_STEPS[task]}",
        "--checkpoint_every=1000",  # One checkpoint, at the last step.
        "--image_every=0",
    )
    shutil.rmtree(run / "train")
    return command


def _codec_files(root: pathlib.Path) -> list[list[str]]:
    photo = golden_files.photo_file(root)
    buffer = io.BytesIO()
    Image.fromarray(golden_files.photo()).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    model = f"--model={golden_files.run_dir('compression', root)}"
    commands = []
    for lmbda in golden_files.LMBDAS:
        coded = golden_files.codec_file(lmbda, "yoto", root)
        decoded = golden_files.codec_file(lmbda, "png", root)
        commands.append(
            _binary(
                "zoo.compression.codec_cli",
                "compress",
                model,
                f"--lmbda={lmbda}",
                str(photo),
                str(coded),
            )
        )
        commands.append(
            _binary("zoo.compression.codec_cli", "decompress", model, str(coded), str(decoded))
        )
    return commands


def _relative(command: list[str], root: pathlib.Path) -> str:
    """The command as a user would type it, with paths relative to tests/golden/."""
    names = {
        "zoo.training.train": "yoto-train",
        "zoo.compression.codec_cli": "yoto-codec",
    }
    text = " ".join([names[command[0]], *command[1:]])
    return text.replace(f"{root}/", "")


def record(golden: pathlib.Path = golden_files.GOLDEN) -> dict:
    """Writes every golden artefact into `golden` (replacing the previous recording)."""
    staging = pathlib.Path(tempfile.mkdtemp(dir=golden, prefix=".staging-"))
    try:
        commands = []
        for task in golden_files.TASKS:
            commands.append(_train(task, staging))
        commands.extend(_codec_files(staging))
        with tempfile.TemporaryDirectory() as scratch:
            for task in golden_files.TASKS:
                run = golden_files.run_dir(task, staging)
                exported = golden_files.exported_outputs(task, run, pathlib.Path(scratch) / task)
                for model_name, arrays in exported.items():
                    golden_files.save_arrays(golden_files.outputs_file(model_name, staging), arrays)
            style_run = golden_files.run_dir("style_transfer", staging)
            golden_files.leave_out_loss_network(style_run, golden_files.SEED)
            # The committed run must come back complete, byte for byte.
            golden_files.copy_run("style_transfer", pathlib.Path(scratch) / "check", staging)
        files = sorted(
            path for path in staging.rglob("*") if path.is_file() and path.name != "manifest.json"
        )
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        manifest = {
            "recorded_at_commit": commit,
            "tensorflow": tf.__version__,
            "commands": [_relative(command, staging) for command in commands],
            "exports": "export_lib.export_all (yoto-export's library call) of each run, "
            f"global seed {golden_files.SEED}",
            "sha256": {
                str(path.relative_to(staging)): golden_files.sha256(path.read_bytes())
                for path in files
            },
        }
        (staging / golden_files.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        for entry in staging.iterdir():
            target = golden / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            os.replace(entry, target)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    recorded = record()
    for name in recorded["sha256"]:
        print(f"wrote tests/golden/{name}")
