"""The model zoo: one module per loss-conditional task, looked up by name in `TASKS`."""

from zoo import beta_vae, compression

# Task name -> module. Each module owns its Config (with `runlocal()`), build_model,
# optimizer, train_dataset, evaluation_images, TERM_NAMES, SWEEP_TERM and EVALUATION_GRID.
TASKS = {"beta_vae": beta_vae, "compression": compression}


def get_task(name: str):
    """Returns the task module called `name`, or raises naming the known tasks."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    return TASKS[name]
