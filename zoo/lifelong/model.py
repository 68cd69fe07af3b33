"""The lifelong classifier: a small CNN whose conv layers are calibrated per task.

    images -> conv_0 -> BN -> ReLU -> [conv_i -> BN -> TaskCalibration_i -> ReLU for i >= 1]
           -> global average pooling -> head of the example's task -> logits

Batch norm follows each conv, as in the paper's ResNets; a frozen base keeps the first
task's statistics. Without it, a frozen base's pooled features vary little between
examples compared with their mean, and a new task's head and modules learned too slowly
to separate even two digits in a few hundred steps.

Singh et al. (NeurIPS 2020) calibrate every conv layer of a ResNet. Here the first conv
(the stem on a one-channel image, 320 parameters) is left uncalibrated: a task's modules
there would outweigh the layer they calibrate, while after the wider layers they cost
about 1.5% of the layer's parameters each.

Every method of `zoo.lifelong.config.METHODS` is this class with other switches:
calibration layers or none, which parts train (`yoto_tf.CalibratedModel`'s `train_base`,
`new_task_modules`) and EWC's penalty.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

import yoto_tf
from zoo.config_dicts import config_from_dict
from zoo.lifelong.config import Config
from zoo.lifelong.data import IMAGE_SHAPE, TaskSpec

keras = tf.keras

# Each method: (calibration layers, train_base, new_task_modules).
_METHOD_SWITCHES = {
    "calibration": (True, "first_task", "previous"),
    "sc": (True, "first_task", "scratch"),
    "sf": (True, "never", "previous"),
    "finetune": (False, "always", "previous"),
    "ewc": (False, "always", "previous"),
    "joint": (False, "always", "previous"),
}


@keras.utils.register_keras_serializable(package="zoo")
class LifelongClassifier(yoto_tf.CalibratedModel):
    """A CNN of 3x3 convs, calibrated per task after every conv but the first.

    Built from the task's `Config` whole, as every zoo model is: `config.method` sets the
    switches (calibration layers or none, which parts of `yoto_tf.CalibratedModel` train,
    EWC's penalty), `config.filters`/`strides` the convs, `alpha`/`beta` the calibration
    modules.

    Args:
      config: the task's `Config`.
      num_classes, task_names: of the tasks it starts with (`yoto_tf.CalibratedModel`;
        `add_task` adds more).
      seed: kept for `get_config` (the weights are created under `build_model`'s seed).

    With EWC, `ewc_lambda` weighs the elastic weight consolidation penalty on the base's
    weights, `ewc_lambda / 2 * sum_i F_i (w_i - w*_i) ** 2`, with F and w* from
    `consolidate` after each task; the other methods have none.
    """

    def __init__(self, config: Config, num_classes, task_names=None, seed: int = 0, **kwargs):
        calibrated, train_base, new_task_modules = _METHOD_SWITCHES[config.method]
        super().__init__(
            num_classes,
            task_names,
            train_base=train_base,
            new_task_modules=new_task_modules,
            **kwargs,
        )
        self.config = config
        self.seed = seed
        self.filters = tuple(int(f) for f in config.filters)
        self.strides = tuple(int(s) for s in config.strides)
        self.calibrated = calibrated
        self.alpha, self.beta = int(config.alpha), config.beta
        self.ewc_lambda = float(config.ewc_lambda) if config.method == "ewc" else 0.0
        self.convs = [
            keras.layers.Conv2D(f, 3, strides=s, padding="same", use_bias=False, name=f"conv_{i}")
            for i, (f, s) in enumerate(zip(self.filters, self.strides, strict=True))
        ]
        self.norms = [
            keras.layers.BatchNormalization(momentum=0.9, name=f"norm_{i}")
            for i in range(len(self.filters))
        ]
        self.calibrations = (
            [
                yoto_tf.TaskCalibration(alpha=self.alpha, beta=self.beta, name=f"calibration_{i}")
                for i in range(1, len(self.filters))
            ]
            if self.calibrated
            else []
        )
        self._fisher, self._anchors = [], []

    def features(self, images, task_ids, training=None):
        """Pooled features `[N, filters[-1]]`, each example calibrated for its task."""
        x = images
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = norm(conv(x), training=training)
            if self.calibrated and i > 0:
                x = self.calibrations[i - 1](x, task_ids, training=training)
            x = tf.nn.relu(x)
        return tf.reduce_mean(x, axis=[1, 2])

    # Elastic weight consolidation ------------------------------------------------------

    def _ewc_weights(self):
        return [w for layer in (*self.convs, *self.norms) for w in layer.trainable_weights]

    def ensure_ewc_state(self):
        """Creates the Fisher and anchor variables (zeros) of a built EWC model, once."""
        if self.ewc_lambda and not self._fisher:
            self._fisher = [
                tf.Variable(tf.zeros_like(w), trainable=False, name="fisher")
                for w in self._ewc_weights()
            ]
            self._anchors = [
                tf.Variable(w, trainable=False, name="anchor") for w in self._ewc_weights()
            ]

    def penalty(self):
        """EWC's quadratic penalty around the weights after the last task (None without EWC)."""
        if not self.ewc_lambda or not self._fisher:
            return None
        terms = [
            tf.reduce_sum(f * tf.square(w - a))
            for f, w, a in zip(self._fisher, self._ewc_weights(), self._anchors, strict=True)
        ]
        return 0.5 * self.ewc_lambda * tf.add_n(terms)

    def consolidate(self, images, labels, task: int):
        """Adds task `task`'s diagonal Fisher information to the penalty and re-anchors it.

        The Fisher of each base weight is the mean over `images` of the squared gradient
        of the log-likelihood of the example's label (the empirical Fisher), one example
        at a time; Fishers of successive tasks add up (online EWC's sum).
        """
        self.ensure_ewc_state()
        weights = self._ewc_weights()

        @tf.function
        def squared_gradients(image, label):
            with tf.GradientTape() as tape:
                logits = self(
                    {"images": image[tf.newaxis], "task_id": tf.constant([task])}, training=False
                )
                log_likelihood = -tf.nn.sparse_softmax_cross_entropy_with_logits(
                    label[tf.newaxis], logits
                )
            return [tf.square(g) for g in tape.gradient(log_likelihood, weights)]

        totals = [tf.zeros_like(w) for w in weights]
        for image, label in zip(images, labels, strict=True):
            totals = [t + g for t, g in zip(totals, squared_gradients(image, label), strict=True)]
        for fisher, anchor, total, weight in zip(
            self._fisher, self._anchors, totals, weights, strict=True
        ):
            fisher.assign_add(total / len(images))
            anchor.assign(weight)

    def get_config(self):
        """Constructor arguments, for rebuilding the (untrained) model with all its tasks."""
        return {
            "config": dataclasses.asdict(self.config),
            "num_classes": list(self.task_classes),
            "task_names": list(self.task_names),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the (untrained) model from `get_config()`."""
        del custom_objects
        return cls(
            config_from_dict(Config, config["config"]),
            config["num_classes"],
            config["task_names"],
            seed=config["seed"],
        )


def build_model(config: Config, tasks: list[TaskSpec], seed: int = 0) -> LifelongClassifier:
    """Builds (and creates the variables of) the classifier for the first `len(tasks)` tasks."""
    keras.utils.set_random_seed(seed)
    model = LifelongClassifier(
        config, [spec.num_classes for spec in tasks], [spec.name for spec in tasks], seed=seed
    )
    model(tf.zeros([1, *IMAGE_SHAPE]))
    model.ensure_ewc_state()
    return model


def trains_base(config: Config, task: int) -> bool:
    """Whether learning task `task` with `config.method` updates the base's weights."""
    _, train_base, _ = _METHOD_SWITCHES[config.method]
    return train_base == "always" or (train_base == "first_task" and task == 0)


def optimizer(config: Config, task: int) -> keras.optimizers.Optimizer:
    """Adam for task `task`: `learning_rate` if the base trains, else `calibration_learning_rate`.

    Optimizer state belongs to the variables it was built with, and each task trains others.
    """
    if trains_base(config, task):
        return keras.optimizers.Adam(config.learning_rate)
    return keras.optimizers.Adam(config.calibration_learning_rate)
