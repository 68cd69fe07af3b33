"""experiments/release_runs.sh pauses a background run and lets it go on."""

import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "experiments" / "release_runs.sh"


def process_state(pid: int) -> str:
    """The kernel's one-letter state of process `pid` (T: stopped)."""
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


class PausingARunTest(unittest.TestCase):
    def setUp(self):
        super().setUp()
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        checkout = pathlib.Path(folder.name)
        (checkout / "experiments").mkdir()
        self.script = checkout / "experiments" / "release_runs.sh"
        shutil.copy(SCRIPT, self.script)
        # Stands in for a run: what the script finds a run by is its --model_dir and its
        # working directory (the checkout).
        self.run_process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import time; time.sleep(300)",
                "--model_dir=runs/long/beta_vae",
            ],
            cwd=checkout,
        )
        self.addCleanup(self.run_process.wait)
        self.addCleanup(self.run_process.kill)

    def release_runs(self, *arguments: str) -> str:
        return subprocess.run(
            ["bash", str(self.script), *arguments], capture_output=True, text=True, check=True
        ).stdout

    def wait_for_state(self, wanted) -> str:
        deadline = time.monotonic() + 10
        while not wanted(state := process_state(self.run_process.pid)):
            self.assertLess(time.monotonic(), deadline, f"the run's state stayed {state}")
            time.sleep(0.05)
        return state

    def test_pause_stops_the_run_and_status_says_so(self):
        pid = self.run_process.pid
        self.assertIn(f"beta_vae: paused (pid {pid})", self.release_runs("pause", "beta_vae"))
        self.wait_for_state(lambda state: state == "T")
        self.assertIn(f"beta_vae: process {pid} (paused)", self.release_runs("status"))
        self.assertIn("paused", self.release_runs("start", "beta_vae"))

    def test_resume_lets_a_paused_run_go_on(self):
        pid = self.run_process.pid
        self.release_runs("pause", "beta_vae")
        self.wait_for_state(lambda state: state == "T")
        self.assertIn(f"beta_vae: resumed (pid {pid})", self.release_runs("resume", "beta_vae"))
        self.wait_for_state(lambda state: state != "T")
        self.assertIn(f"beta_vae: process {pid}, committed", self.release_runs("status"))

    def test_pausing_a_run_that_is_not_running_changes_nothing(self):
        self.assertIn("compression: not running", self.release_runs("pause", "compression"))
        self.assertNotEqual(process_state(self.run_process.pid), "T")

    def test_an_unknown_run_is_refused_by_name(self):
        result = subprocess.run(
            ["bash", str(self.script), "pause", "codec"], capture_output=True, text=True
        )
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown run codec", result.stderr)


if __name__ == "__main__":
    unittest.main()
