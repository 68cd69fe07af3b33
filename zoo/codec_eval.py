"""Old name of `python -m zoo.compression.codec_eval`: warns, then runs it."""

from zoo.moved import moved_attribute, run_moved


def __getattr__(name):
    """The new module's names (`run`, `main`), for console scripts installed before the move."""
    return moved_attribute("zoo.compression.codec_eval", name)


if __name__ == "__main__":
    run_moved("zoo.codec_eval", "zoo.compression.codec_eval")
