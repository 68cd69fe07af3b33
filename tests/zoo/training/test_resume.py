"""A training run killed with SIGKILL resumes from its last checkpoint with the same command."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

REPO = pathlib.Path(__file__).resolve().parents[3]


# Trains up to 400 steps in two processes; `make test` checks resuming from a checkpoint
# and from an interrupted save in process (test_train_lib).
@pytest.mark.slow
class CrashSafeResumeTest(tf.test.TestCase):
    def test_a_run_killed_mid_way_resumes_and_stops_at_the_requested_step(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "killed"
        command = [
            sys.executable,
            "-m",
            "zoo.training.train",
            "--task=beta_vae",
            f"--model_dir={model_dir}",
            "--runlocal",
            "--steps=400",
            "--log_every=10",
            "--checkpoint_every=10",
        ]
        checkpoints = model_dir / "checkpoints"
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 240
            # Kill it once two checkpoints exist, so it is killed between or during saves.
            while len(list(checkpoints.glob("ckpt-*.index"))) < 2:
                self.assertIsNone(process.poll(), "training ended before it could be killed")
                self.assertLess(time.monotonic(), deadline, "no checkpoint within 240 s")
                time.sleep(0.2)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        self.assertEqual(process.returncode, -signal.SIGKILL)
        killed_at = int(tf.train.latest_checkpoint(str(checkpoints)).rsplit("-", 1)[1])
        self.assertLess(killed_at, 400)

        resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
        self.assertEqual(resumed.returncode, 0, resumed.stderr[-3000:])
        self.assertIn(f"Resuming from step {killed_at} ", resumed.stdout)
        latest = tf.train.latest_checkpoint(str(checkpoints))
        self.assertEqual(latest.rsplit("-", 1)[1], "400")
        # No temporary files are left behind by the interrupted save.
        leftovers = [p.name for p in checkpoints.iterdir() if "tmp" in p.name or "temp" in p.name]
        self.assertEqual(leftovers, [])
