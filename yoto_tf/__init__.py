"""yoto_tf: loss-conditional training ("You Only Train Once") for Keras/TensorFlow.

One network is conditioned on its loss weights through FiLM layers and trained
with the weights sampled at random, so any trade-off can be picked at inference.
"""

from yoto_tf.conditioning import ConditioningMLP
from yoto_tf.film import FiLM
from yoto_tf.model import LossConditionalModel
from yoto_tf.weights import (
    Constant,
    Dirichlet,
    Distribution,
    JointDistribution,
    LogUniform,
    ScaledMixture,
    Uniform,
    WeightSampler,
    distribution_from_config,
    distribution_to_config,
)

__all__ = [
    "ConditioningMLP",
    "Constant",
    "Dirichlet",
    "JointDistribution",
    "Distribution",
    "FiLM",
    "LogUniform",
    "ScaledMixture",
    "LossConditionalModel",
    "Uniform",
    "WeightSampler",
    "distribution_from_config",
    "distribution_to_config",
]

__version__ = "0.1.0"
