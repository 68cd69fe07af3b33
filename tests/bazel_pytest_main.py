"""The main of every Bazel py_test in BUILD: runs pytest on the test files given as arguments.

The tests are pytest-style (plain asserts, fixtures, tf.test.TestCase classes), so each
py_test runs this file with its test file as argument, from the runfiles tree, where the
Python stub has put the workspace root on PYTHONPATH (`import yoto_tf`, `import zoo`,
`import tests.toy_models` work). Honours Bazel's test protocol: JUnit XML goes to
$XML_OUTPUT_FILE, `--test_filter=EXPR` becomes `-k EXPR`, and exit code 5 ("no tests
collected") is a failure like any other non-zero code, never a silent pass.
"""

import os
import sys

import pytest


def main(argv):
    """Runs pytest on argv's test files and returns pytest's exit code."""
    if not argv:
        print("usage: bazel_pytest_main.py TEST_FILE... [PYTEST_ARGS...]", file=sys.stderr)
        return 2
    # Run as a script, Python puts tests/ first on sys.path; `pytest tests/...` from the
    # workspace root does not, and the tests import their helpers as `tests.xxx`.
    # (Python resolves symlinks for that entry, so compare real paths.)
    here = os.path.realpath(os.path.dirname(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.realpath(p) != here]
    args = ["-p", "no:cacheprovider", "-ra", "-v"]
    xml_output = os.environ.get("XML_OUTPUT_FILE")
    if xml_output:
        args += ["--junitxml", xml_output]
    test_filter = os.environ.get("TESTBRIDGE_TEST_ONLY")
    if test_filter:
        args += ["-k", test_filter]
    code = pytest.main(args + list(argv))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"error: pytest collected no tests from {argv}", file=sys.stderr)
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
