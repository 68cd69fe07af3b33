"""The lifelong task's configuration: the task sequence, the method and `Config`.

Default config, and what to expect (experiments/README.md, "Lifelong learning by
calibration", has the measured matrices):
    yoto-lifelong --model_dir=runs/split --config=sequence=split_mnist
learns the five split-MNIST tasks one after another in a few minutes on one core, with
every task's accuracy after the last one equal to its accuracy when it was learned.
"""

from __future__ import annotations

import dataclasses

# The task sequences (zoo/lifelong/data.py builds them from the bundled MNIST).
SEQUENCES = ("split_mnist", "rotated_mnist")

# How a sequence is learned. "calibration" is Singh et al.'s method; the others are the
# paper's baselines and ablations, through the same model and training code:
#   finetune     the whole network trains on each new task (catastrophic forgetting);
#   ewc          fine-tuning plus elastic weight consolidation (Kirkpatrick et al., 2017);
#   joint        after each task, trains on the data of every task so far (the upper bound);
#   sc           calibration with each task's modules from scratch, not from the previous task's;
#   sf           calibration on a base that is never trained (it keeps its initialisation).
METHODS = ("calibration", "finetune", "ewc", "joint", "sc", "sf")


@dataclasses.dataclass
class Config:
    """Hyperparameters of a lifelong run; `runlocal()` gives a tiny one for tests."""

    sequence: str = "split_mnist"
    method: str = "calibration"
    # The base CNN: 3x3 convs with these channels and strides, ReLU, global average pooling.
    filters: tuple[int, ...] = (32, 64, 128, 256)
    strides: tuple[int, ...] = (2, 2, 2, 2)
    # Calibration modules: SpatialCalibration's channels per group, ChannelCalibration's
    # groups (None: one per channel).
    alpha: int = 1
    beta: int | None = None
    batch_size: int = 32
    # Adam's learning rate when the base trains; when only calibration modules and heads
    # train (every task after the first, or all of them for "sf"), a larger one: their
    # few parameters move the features little per step (experiments/README.md).
    learning_rate: float = 1e-3
    calibration_learning_rate: float = 1e-2
    steps_per_task: int = 200
    # Training examples taken from each task (None: all of them), and evaluation examples.
    train_examples_per_task: int | None = 10000
    eval_examples_per_task: int | None = 1000
    # EWC: the penalty's weight and the examples its Fisher information is estimated on.
    ewc_lambda: float = 1000.0
    ewc_examples: int = 200

    def __post_init__(self):
        if self.sequence not in SEQUENCES:
            raise ValueError(f"sequence must be one of {SEQUENCES}, got {self.sequence!r}.")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        if len(self.filters) != len(self.strides) or len(self.filters) < 2:
            raise ValueError(
                f"filters {self.filters} and strides {self.strides} need one entry per conv "
                "layer, at least two."
            )
        if self.steps_per_task < 1 or self.batch_size < 1:
            raise ValueError(
                f"steps_per_task and batch_size must be >= 1, got {self.steps_per_task} and "
                f"{self.batch_size}."
            )

    @classmethod
    def runlocal(cls, **overrides) -> Config:
        """A tiny model and few steps: the same code path, fast enough for unit tests."""
        tiny = dict(
            filters=(4, 8, 8),
            strides=(2, 2, 2),
            batch_size=16,
            steps_per_task=3,
            train_examples_per_task=64,
            eval_examples_per_task=32,
            ewc_examples=4,
        )
        return cls(**{**tiny, **overrides})
