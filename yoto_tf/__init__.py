"""yoto_tf: loss-conditional training ("You Only Train Once") for Keras/TensorFlow.

One network is conditioned on its loss weights through FiLM layers and trained
with the weights sampled at random, so any trade-off can be picked at inference.
"""

from yoto_tf.calibration import (
    CalibratedModel,
    ChannelCalibration,
    SpatialCalibration,
    TaskCalibration,
    count_parameters,
    task_parameters,
)
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
    "CalibratedModel",
    "ChannelCalibration",
    "ConditioningMLP",
    "Constant",
    "Dirichlet",
    "JointDistribution",
    "Distribution",
    "FiLM",
    "LogUniform",
    "ScaledMixture",
    "LossConditionalModel",
    "SpatialCalibration",
    "TaskCalibration",
    "Uniform",
    "WeightSampler",
    "count_parameters",
    "distribution_from_config",
    "distribution_to_config",
    "task_parameters",
]

__version__ = "0.1.0"
