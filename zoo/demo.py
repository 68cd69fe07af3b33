"""Old name of `python -m demos.compression` (`make demo`): warns, then runs it."""

from zoo.moved import run_moved

if __name__ == "__main__":
    run_moved("zoo.demo", "demos.compression")
