"""Test setup: quiet TensorFlow, and two logical CPU devices for MirroredStrategy tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Logical devices must be configured before TensorFlow initialises its runtime,
# which is why this runs at import time, before any test touches a tensor.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


# The files that take minutes, longest first. `make test` hands whole files to two
# workers (`--dist loadfile`), each taking the next file when it is free; a long file
# left for the end keeps one worker busy while the other idles.
LONGEST_FIRST = (
    "tests/serving/test_serving.py",
    "tests/zoo/compression/test_model.py",
    "tests/zoo/compression/test_codec_cli.py",
    "tests/zoo/compression/test_serving.py",
    "tests/zoo/compression/test_cross_platform_decoding.py",
    "tests/zoo/training/test_train_lib.py",
    "tests/zoo/compression/test_codec_eval.py",
    "tests/zoo/compression/test_latent_refinement.py",
    "tests/zoo/releases/test_checks.py",
    "tests/zoo/training/test_precision.py",
)


def pytest_collection_modifyitems(config, items):
    """Drops tf.test.TestCase's inherited `test_session` (a context manager, not a test)
    and puts the longest files first, each file's tests in their order."""
    items[:] = [item for item in items if item.name != "test_session"]
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath

    def position(item):
        try:
            return rank.get(item.path.relative_to(root).as_posix(), len(rank))
        except ValueError:  # A test file outside the rootdir keeps its place.
            return len(rank)

    items.sort(key=position)
