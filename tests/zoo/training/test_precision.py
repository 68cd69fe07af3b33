"""Mixed-precision training: every task trains in every policy with finite losses."""

import numpy as np
import pytest
import tensorflow as tf

import yoto_tf
from zoo.compression import integer_network
from zoo.training import distribute, train_lib

keras = tf.keras


def layers_of(model, kind):
    return [layer for layer in model._flatten_layers() if isinstance(layer, kind)]


def _slow(*values):
    return pytest.param(*values, marks=pytest.mark.slow)


# `make test` trains each task once and each policy at least once; `make test-all` the
# other three pairs (each pair builds and traces a whole model, ~10 s).
@pytest.mark.parametrize(
    "task, precision",
    [
        ("beta_vae", "mixed_bfloat16"),
        ("compression", "mixed_float16"),
        ("style_transfer", "mixed_bfloat16"),
        _slow("beta_vae", "mixed_float16"),
        _slow("compression", "mixed_bfloat16"),
        _slow("style_transfer", "mixed_float16"),
    ],
)
def test_each_task_trains_in_mixed_precision_with_float32_conditioning(task, precision, tmp_path):
    model = train_lib.train(
        task, tmp_path / "run", steps=2, runlocal=True, log_every=2, verbose=0, precision=precision
    )
    assert keras.mixed_precision.global_policy().name == "float32"  # Restored afterwards.
    results = {name: float(tracker.result()) for name, tracker in model._trackers.items()}
    assert all(np.isfinite(value) for value in results.values()), results
    assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer) == (
        precision == "mixed_float16"
    )
    compute_dtype = precision.removeprefix("mixed_")
    # The codec's integer hyper-synthesis computes in float32 (float64 outside training)
    # under any policy: its quantization grids need the bits.
    integer_layers = set(layers_of(model, integer_network.IntegerConv2D))
    assert all(layer.compute_dtype == "float32" for layer in integer_layers)
    convolutions = [
        layer
        for layer in layers_of(model, keras.layers.Layer)
        if "conv" in layer.name and layer not in integer_layers
    ]
    assert convolutions
    assert all(layer.compute_dtype == compute_dtype for layer in convolutions)
    # The conditioning MLP and FiLM's heads compute in float32; every variable is float32.
    for layer in layers_of(model, yoto_tf.ConditioningMLP):
        assert layer.compute_dtype == "float32"
    films = layers_of(model, yoto_tf.FiLM)
    assert films and all(film.heads.compute_dtype == "float32" for film in films)
    assert {v.dtype for v in model.trainable_variables} == {tf.float32}


def test_a_run_resumes_only_in_its_own_precision(tmp_path):
    train_lib.train(
        "beta_vae", tmp_path, steps=2, runlocal=True, verbose=0, precision="mixed_float16"
    )
    with pytest.raises(ValueError, match="different task, config, seed or precision"):
        train_lib.train("beta_vae", tmp_path, steps=4, runlocal=True, verbose=0)
    with pytest.raises(ValueError, match="Unknown precision 'float8'"):
        with distribute.precision_policy("float8"):
            pass
