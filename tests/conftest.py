"""Test setup: quiet TensorFlow, and two logical CPU devices for MirroredStrategy tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Logical devices must be configured before TensorFlow initialises its runtime,
# which is why this runs at import time, before any test touches a tensor.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


# `make test` runs on two workers with `--dist loadgroup`: every test file is one group
# (its class fixtures are built once), except that the files sharing the tiny codecs and
# the full codec export of tests/codec_fixtures.py form one group, so that only one
# worker builds them (about 45% of the suite: the other worker takes everything else).
SHARED_CODEC_FILES = (
    "tests/zoo/compression/test_model.py",
    "tests/zoo/compression/test_codec_cli.py",
    "tests/zoo/compression/test_serving.py",
    "tests/zoo/compression/test_cross_platform_decoding.py",
    "tests/zoo/compression/test_latent_refinement.py",
)
# The other long files, longest first: each worker takes the next group when it is
# free, and a long one left for the end keeps one worker busy while the other idles.
LONGEST_FIRST = (
    *SHARED_CODEC_FILES,
    "tests/serving/test_serving.py",
    "tests/zoo/training/test_train_lib.py",
    "tests/zoo/compression/test_codec_eval.py",
    "tests/zoo/releases/test_checks.py",
    "tests/zoo/training/test_precision.py",
)


def _relative_path(item, root) -> str:
    try:
        return item.path.relative_to(root).as_posix()
    except ValueError:  # A test file outside the rootdir.
        return str(item.path)


@pytest.hookimpl(tryfirst=True)  # Before pytest-xdist reads the groups.
def pytest_collection_modifyitems(config, items):
    """Drops tf.test.TestCase's inherited `test_session` (a context manager, not a test),
    groups the tests for the workers and puts the longest groups first."""
    items[:] = [item for item in items if item.name != "test_session"]
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath
    for item in items:
        path = _relative_path(item, root)
        group = "shared_codecs" if path in SHARED_CODEC_FILES else path
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: rank.get(_relative_path(item, root), len(rank)))
