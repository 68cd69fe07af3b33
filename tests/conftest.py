"""Test setup: quiet TensorFlow, two logical CPU devices for MirroredStrategy tests, and one
temporary folder per run that the run removes."""

import os
import shutil
import tempfile

import pytest

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


TEMPORARY_FOLDER_PREFIX = "yoto-tests-"
_FOLDER = pytest.StashKey[str]()


def pytest_configure(config):
    """Sends every temporary file of the run into one folder of its own.

    Tests make folders with `tempfile.mkdtemp` (fixtures that outlive one test, tools run as
    subprocesses), and TensorFlow's autograph writes a file per converted function; neither is
    removed, and a day of test runs left gigabytes in /tmp. Pointing `tempfile` and `TMPDIR`
    (which subprocesses and pytest-xdist's workers inherit) at one folder lets
    `pytest_unconfigure` remove all of it.
    """
    folder = tempfile.mkdtemp(prefix=TEMPORARY_FOLDER_PREFIX)
    config.stash[_FOLDER] = folder
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder


def pytest_unconfigure(config):
    """Removes the run's temporary folder (a worker's lies inside the controller's)."""
    folder = config.stash.get(_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
