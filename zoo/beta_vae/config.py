"""The beta-VAE task's configuration: its loss terms, the evaluation grid and `Config`."""

from __future__ import annotations

import dataclasses

import yoto_tf

TERM_NAMES = ("reconstruction", "kl")
# The weight the evaluation sweeps, and its grid: powers of two 2^-3 .. 2^9 (the paper's).
SWEEP_TERM = "kl"
SWEEP_WEIGHT_NAME = "beta"  # What users call the swept weight; the serving input's name.
EVALUATION_GRID = tuple(2.0**k for k in range(-3, 10))


@dataclasses.dataclass
class Config:
    """Hyperparameters of the beta-VAE task; `runlocal()` gives a tiny one for tests."""

    latent_dim: int = 16
    filters: tuple[int, ...] = (32, 64)
    conditioning_units: int = 256
    conditioned: bool = True
    beta_low: float = 0.125
    beta_high: float = 512.0
    # A fixed beta (a Constant distribution) trains the fixed-weight baseline.
    fixed_beta: float | None = None
    per_example: bool = True
    batch_size: int = 64
    learning_rate: float = 1e-3
    # "constant", or "cosine": decay to 1/20 of the rate over `steps`.
    learning_rate_schedule: str = "constant"
    # Train on (reconstruction + beta * kl) / (1 + beta) ** p: the same optimum at every beta,
    # with capacity shifted towards low beta as p grows (see LossConditionalModel). p = 0.5
    # balances the beta range best of the powers compared (experiments/README.md, "beta-VAE
    # training objective variants"); for a fixed beta it is a constant factor, which Adam
    # ignores.
    weight_sum_power: float = 0.5
    steps: int = 3000

    def weight_sampler(self) -> yoto_tf.WeightSampler:
        """Reconstruction weight 1; beta log-uniform, or constant for a fixed-beta baseline."""
        beta = (
            yoto_tf.Constant(self.fixed_beta)
            if self.fixed_beta is not None
            else yoto_tf.LogUniform(self.beta_low, self.beta_high)
        )
        return yoto_tf.WeightSampler(
            {"reconstruction": yoto_tf.Constant(1.0), "kl": beta}, per_example=self.per_example
        )

    @classmethod
    def runlocal(cls) -> Config:
        """A tiny model and few steps: the same code path, fast enough for unit tests."""
        return cls(latent_dim=4, filters=(4, 8), conditioning_units=16, batch_size=16, steps=4)
