"""Test setup: quiet TensorFlow, two logical CPU devices for MirroredStrategy tests, and one
temporary folder per run that the run removes."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Logical devices must be configured before TensorFlow initialises its runtime,
# which is why this runs at import time, before any test touches a tensor.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


def pytest_collection_modifyitems(items):
    """Drops tf.test.TestCase's inherited `test_session`, a context manager, not a test."""
    items[:] = [item for item in items if item.name != "test_session"]


def pytest_configure(config):
    """Sends every temporary file of the run into one folder, removed when the process exits.

    Tests make folders with `tempfile.mkdtemp` (fixtures that outlive one test, tools run as
    subprocesses), and TensorFlow's autograph writes a file per converted function; neither is
    removed, and a day of test runs left gigabytes in /tmp. Pointing `tempfile` and `TMPDIR`
    (which subprocesses and pytest-xdist's workers inherit) at one folder lets one removal take
    all of it. At exit, not at pytest_unconfigure: TensorFlow's test temp folder lies inside and
    removes itself at exit (it logs an error if it is gone), and exit handlers run last-in first.
    """
    folder = tempfile.mkdtemp(prefix="yoto-tests-")
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
