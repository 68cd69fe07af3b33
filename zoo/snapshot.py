"""Old name of `python -m zoo.training.snapshot`: warns, then runs it."""

from zoo.moved import moved_attribute, run_moved


def __getattr__(name):
    """The new module's names (`run`, `main`), for console scripts installed before the move."""
    return moved_attribute("zoo.training.snapshot", name)


if __name__ == "__main__":
    run_moved("zoo.snapshot", "zoo.training.snapshot")
