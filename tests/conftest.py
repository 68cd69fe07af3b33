"""Test setup: quiet TensorFlow, two logical CPU devices for MirroredStrategy tests, and
class state released once its class is done."""

import os

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


@pytest.fixture(scope="class", autouse=True)
def release_what_set_up_class_made(request):
    """Deletes the attributes a class's setUpClass added, once its last test has run.

    pytest keeps every test class alive until the session ends, and with it each model,
    export and loaded SavedModel that setUpClass stored on the class. Released, they are
    freed by Python's collector as the run goes on. (No explicit gc.collect(): on a heap
    of TensorFlow objects each one takes 1-3 s, a minute over the suite.)
    """
    cls = request.cls
    before = set(vars(cls)) if cls is not None else set()
    yield
    if cls is not None:
        for name in set(vars(cls)) - before:
            delattr(cls, name)
