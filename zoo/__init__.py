"""The model zoo: one module per loss-conditional task, looked up by name in `TASKS`."""

import importlib

# Task name -> module. Each module owns its Config (with `runlocal()`), build_model,
# optimizer, train_dataset, evaluation_images, TERM_NAMES, SWEEP_TERM, SWEEP_WEIGHT_NAME
# and EVALUATION_GRID. Modules are imported on lookup, so that importing `zoo` (as every
# binary does first) does not import TensorFlow before the binary has configured logging.
TASKS = {
    "beta_vae": "zoo.beta_vae",
    "compression": "zoo.compression",
    "style_transfer": "zoo.style_transfer",
}


def get_task(name: str):
    """Returns the task module called `name`, or raises naming the known tasks."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    return importlib.import_module(TASKS[name])
