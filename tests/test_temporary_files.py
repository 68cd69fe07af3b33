"""A test run leaves nothing in the temporary folder it was given (tests/conftest.py)."""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[1]

LEAVING_TEST = """
import subprocess
import sys
import tempfile


def test_leaves_a_folder_and_a_subprocess_leaves_another():
    print("LEFT", tempfile.mkdtemp())
    child = "import tempfile; print(tempfile.mkdtemp())"
    print("LEFT", subprocess.check_output([sys.executable, "-c", child], text=True).strip())
"""


class ATestRunsTemporaryFiles(unittest.TestCase):
    def test_are_removed_with_the_folder_the_run_made_for_them(self):
        scratch = pathlib.Path(tempfile.mkdtemp())
        (scratch / "test_leaving.py").write_text(LEAVING_TEST)
        given = scratch / "given_tmpdir"
        given.mkdir()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"]
            + ["-q", "-s", "--rootdir", str(scratch), str(scratch / "test_leaving.py")],
            cwd=REPO,
            env={**os.environ, "TMPDIR": str(given), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        left = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if "LEFT " in line]
        self.assertEqual(len(left), 2, result.stdout)
        for folder in left:
            self.assertTrue(folder.startswith(str(given) + os.sep), folder)
            self.assertFalse(os.path.exists(folder), f"{folder} outlived the run")
        self.assertEqual(list(given.iterdir()), [])


if __name__ == "__main__":
    unittest.main()
