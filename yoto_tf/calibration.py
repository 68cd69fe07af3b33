"""Calibration modules for lifelong learning (Singh et al., NeurIPS 2020).

"Calibrating CNNs for Lifelong Learning": a base CNN is trained on the first task and
then frozen; every later task trains only small per-task calibration modules on the
base's activation maps, and a classifier head of its own. Old tasks' parameters never
change, so they are never forgotten.

* `SpatialCalibration`: `F + GroupConv3x3(F)`, a grouped 3x3 convolution with C / alpha
  groups of alpha channels each, added element-wise.
* `ChannelCalibration`: `F * sigmoid(BN(GroupConv1x1(GAP(F))))`, a channel-wise gate.
* `TaskCalibration`: one calibration point of a network: both modules for every task,
  picked per example by a task id.
* `CalibratedModel`: a `keras.Model` base class that learns tasks one after another with
  `fit` and `add_task`, with one classifier head per task.

It is the idea of the rest of yoto_tf (one network modulated through small layers) with
a task id in place of loss weights.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import tensorflow as tf

keras = tf.keras

# Logits of the classes a task does not have, when tasks of different class counts share
# one output: softmax gives them exactly 0, and cross-entropy stays finite.
_ABSENT_CLASS_LOGIT = -1e9

# How a new task's base layers are treated (CalibratedModel's `train_base`).
TRAIN_BASE = ("first_task", "never", "always")
# Where a new task's calibration modules start (CalibratedModel's `new_task_modules`).
NEW_TASK_MODULES = ("previous", "scratch")


def _channels(input_shape, layer_name: str, divisor: int, divisor_name: str) -> int:
    channels = input_shape[-1]
    if channels is None or len(input_shape) != 4:
        raise ValueError(
            f"{layer_name} needs feature maps [batch, height, width, channels] with a known "
            f"channel count, got shape {tuple(input_shape)}."
        )
    if channels % divisor:
        raise ValueError(
            f"{layer_name}: {divisor_name}={divisor} must divide the {channels} channels."
        )
    return int(channels)


def spatial_response(features, kernel, alpha: int):
    """The grouped 3x3 convolution of `SpatialCalibration`, without its residual or bias.

    `kernel` is `[3, 3, C, alpha]` for the whole batch, or `[N, 3, 3, C, alpha]` with one
    kernel per example. Group g holds channels `g * alpha .. g * alpha + alpha - 1`;
    output channel `g * alpha + j` is `sum_i conv3x3(F[g * alpha + i], kernel[..., g *
    alpha + i, j])`. A depthwise convolution with channel multiplier alpha computes every
    (i, j) pair, and a sum over i finishes the group.
    """
    if kernel.shape.rank == 5:
        # One kernel per example: the examples become channel groups of one image, so a
        # single depthwise convolution applies each example's kernel to it alone.
        shape = tf.shape(features)
        batch, height, width, channels = shape[0], shape[1], shape[2], features.shape[-1]
        folded = tf.reshape(tf.transpose(features, [1, 2, 0, 3]), [1, height, width, -1])
        folded_kernel = tf.reshape(
            tf.transpose(kernel, [1, 2, 0, 3, 4]), [3, 3, batch * channels, alpha]
        )
        response = tf.nn.depthwise_conv2d(folded, folded_kernel, [1, 1, 1, 1], "SAME")
        response = tf.reshape(response, [height, width, batch, channels * alpha])
        response = tf.transpose(response, [2, 0, 1, 3])
    else:
        response = tf.nn.depthwise_conv2d(features, kernel, [1, 1, 1, 1], "SAME")
    if alpha == 1:
        return response
    shape = tf.shape(response)
    channels = features.shape[-1]
    grouped = tf.reshape(response, [shape[0], shape[1], shape[2], channels // alpha, alpha, alpha])
    return tf.reshape(tf.reduce_sum(grouped, axis=-2), [shape[0], shape[1], shape[2], channels])


def channel_gate_logits(pooled, kernel):
    """The grouped 1x1 convolution of `ChannelCalibration` on pooled features `[N, C]`.

    `kernel` is `[beta, C / beta, C / beta]` (block-diagonal: beta groups), or `[N, beta, C
    / beta, C / beta]` with one kernel per example.
    """
    groups, group_size = kernel.shape[-3], kernel.shape[-1]
    grouped = tf.reshape(pooled, [-1, groups, group_size])
    equation = "bgi,bgio->bgo" if kernel.shape.rank == 4 else "bgi,gio->bgo"
    return tf.reshape(tf.einsum(equation, grouped, kernel), [-1, groups * group_size])


@keras.utils.register_keras_serializable(package="yoto_tf")
class SpatialCalibration(keras.layers.Layer):
    """Spatial calibration: `F' = F + b + GroupConv3x3(F)`, added element-wise.

    The convolution has C / alpha groups of alpha input and alpha output channels each
    (alpha = 1 is a depthwise 3x3 convolution: 9 C weights), so it recalibrates each
    channel from a small neighbourhood of its own group. Singh, Mazumder, Rai and Namboodiri,
    "Calibrating CNNs for Lifelong Learning", NeurIPS 2020 (the spatial calibration module).

    The kernel starts at zero by default, so a new module is the identity until trained.

    Args:
      alpha: channels per group, dividing C.
      use_bias: add a per-channel bias b.
      kernel_initializer: of the `[3, 3, C, alpha]` kernel.
    """

    def __init__(self, alpha: int = 1, use_bias: bool = True, kernel_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if int(alpha) < 1:
            raise ValueError(f"SpatialCalibration: alpha must be >= 1, got {alpha}.")
        self.alpha = int(alpha)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        """Creates the kernel (and bias) for the channel count of the features."""
        channels = _channels(input_shape, "SpatialCalibration", self.alpha, "alpha")
        self.kernel = self.add_weight(
            "kernel", [3, 3, channels, self.alpha], initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight("bias", [channels], initializer="zeros") if self.use_bias else None
        )
        super().build(input_shape)

    def call(self, features):
        """Returns the calibrated features, the shape of `features` `[N, H, W, C]`."""
        response = spatial_response(features, tf.cast(self.kernel, features.dtype), self.alpha)
        if self.use_bias:
            response += tf.cast(self.bias, features.dtype)
        return features + response

    def get_config(self):
        """Returns the constructor arguments."""
        config = super().get_config()
        config.update(
            alpha=self.alpha,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@keras.utils.register_keras_serializable(package="yoto_tf")
class ChannelCalibration(keras.layers.Layer):
    """Channel-wise calibration: `F' = F * sigmoid(BN(GroupConv1x1(GAP(F))))`.

    Global average pooling gives one value per channel; a grouped 1x1 convolution with
    beta groups (C^2 / beta weights; beta = C is one weight per channel) and batch norm
    turn it into a gate in (0, 1) that scales each channel of the map. Singh et al.,
    NeurIPS 2020 (the channel-wise calibration module).

    Args:
      beta: number of groups, dividing C; None means C (one weight per channel).
      momentum, epsilon: of the batch norm. The momentum is 0.9, not Keras's 0.99: a
        task's modules may train for only a few hundred steps, and the moving statistics
        that inference uses must catch up with the gate's kernel by the end.
      kernel_initializer: of the `[beta, C / beta, C / beta]` kernel.
    """

    def __init__(
        self,
        beta: int | None = None,
        momentum: float = 0.9,
        epsilon: float = 1e-3,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if beta is not None and int(beta) < 1:
            raise ValueError(f"ChannelCalibration: beta must be >= 1 or None, got {beta}.")
        self.beta = None if beta is None else int(beta)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        # float32 under any dtype policy: statistics of pooled values, and a gate near 0 or 1.
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, name="batch_norm", dtype="float32"
        )

    def build(self, input_shape):
        """Creates the kernel and the batch norm for the channel count of the features."""
        channels = _channels(input_shape, "ChannelCalibration", self.beta or 1, "beta")
        groups = self.beta or channels
        if channels % groups:
            raise ValueError(f"ChannelCalibration: beta={groups} must divide {channels} channels.")
        size = channels // groups
        self.kernel = self.add_weight(
            "kernel", [groups, size, size], initializer=self.kernel_initializer, dtype="float32"
        )
        self.batch_norm.build([None, channels])
        super().build(input_shape)

    def gate(self, features, training=None):
        """The float32 gate `[N, C]` in (0, 1)."""
        pooled = tf.reduce_mean(tf.cast(features, tf.float32), axis=[1, 2])
        return tf.sigmoid(self.batch_norm(channel_gate_logits(pooled, self.kernel), training))

    def call(self, features, training=None):
        """Returns `features` `[N, H, W, C]` scaled channel-wise by the gate."""
        gate = self.gate(features, training=training)
        return features * tf.cast(gate[:, tf.newaxis, tf.newaxis, :], features.dtype)

    def get_config(self):
        """Returns the constructor arguments."""
        config = super().get_config()
        config.update(
            beta=self.beta,
            momentum=self.momentum,
            epsilon=self.epsilon,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@keras.utils.register_keras_serializable(package="yoto_tf")
class TaskCalibration(keras.layers.Layer):
    """One calibration point: a spatial and a channel-wise module per task, chosen by task id.

    `call(features, task_ids)` applies, to example n, the modules of task `task_ids[n]`:
    `ChannelCalibration_t(SpatialCalibration_t(F))` (Singh et al., NeurIPS 2020, apply
    both after a conv layer; either can be switched off). At inference the examples of a
    batch may belong to any mix of tasks: each module's weights are gathered per
    example, so the cost does not grow with the number of tasks. In training
    (`training=True`) the batch must belong to the newest task, the only one whose
    modules train (batch norm needs one task's statistics).

    `add_task()` appends the next task's modules, initialised from the previous task's
    (or from scratch), and freezes every older task's modules.

    Args:
      num_tasks: tasks the layer starts with (a saved config restores them all).
      alpha: `SpatialCalibration`'s channels per group.
      beta: `ChannelCalibration`'s groups (None: one per channel).
      spatial, channel: whether to use each module.
    """

    def __init__(
        self,
        num_tasks: int = 1,
        alpha: int = 1,
        beta: int | None = None,
        spatial: bool = True,
        channel: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(num_tasks) < 1:
            raise ValueError(f"TaskCalibration: num_tasks must be >= 1, got {num_tasks}.")
        if not (spatial or channel):
            raise ValueError("TaskCalibration needs the spatial module, the channel one or both.")
        self.alpha, self.beta = int(alpha), beta
        self.spatial, self.channel = bool(spatial), bool(channel)
        self.spatial_modules, self.channel_modules = [], []
        for _ in range(int(num_tasks)):
            self._append_modules()
        self._freeze_older_tasks()

    @property
    def num_tasks(self) -> int:
        """The number of tasks the layer has modules for."""
        return max(len(self.spatial_modules), len(self.channel_modules))

    def _append_modules(self):
        task = self.num_tasks
        if self.spatial:
            self.spatial_modules.append(SpatialCalibration(self.alpha, name=f"spatial_{task}"))
        if self.channel:
            self.channel_modules.append(ChannelCalibration(self.beta, name=f"channel_{task}"))

    def _freeze_older_tasks(self):
        for modules in (self.spatial_modules, self.channel_modules):
            for module in modules[:-1]:
                module.trainable = False

    def build(self, input_shape):
        """Builds every task's modules for the shape of the features."""
        self._features_shape = tf.TensorShape(input_shape)
        for module in (*self.spatial_modules, *self.channel_modules):
            module.build(self._features_shape)
        super().build(input_shape)

    def add_task(self, initialize_from_previous: bool = True) -> int:
        """Adds the next task's modules and freezes the older ones; returns the new task id.

        With `initialize_from_previous` the new modules start as copies of the previous
        task's (Singh et al.); otherwise from their initializers (the paper's "SC" ablation).
        """
        previous = [m[-1] for m in (self.spatial_modules, self.channel_modules) if m]
        self._append_modules()
        new = [m[-1] for m in (self.spatial_modules, self.channel_modules) if m]
        if self.built:
            for old_module, new_module in zip(previous, new, strict=True):
                new_module.build(self._features_shape)
                if initialize_from_previous:
                    new_module.set_weights(old_module.get_weights())
        elif initialize_from_previous:
            raise ValueError(
                "TaskCalibration.add_task(initialize_from_previous=True) needs the layer built "
                "(called once on features), so that the previous task's modules have weights."
            )
        self._freeze_older_tasks()
        return self.num_tasks - 1

    def call(self, features, task_ids, training=None):
        """Calibrates `features` `[N, H, W, C]`, example n with task `task_ids[n]`'s modules."""
        task_ids = tf.cast(tf.reshape(task_ids, [-1]), tf.int32)
        if training:
            newest = self.num_tasks - 1
            check = tf.debugging.assert_equal(
                task_ids,
                newest,
                message=(
                    f"TaskCalibration trains the newest task ({newest}) only; a training "
                    "batch held another task id"
                ),
            )
            with tf.control_dependencies([check]):
                features = tf.identity(features)
            if self.spatial:
                features = self.spatial_modules[-1](features)
            if self.channel:
                features = self.channel_modules[-1](features, training=True)
            return features
        if self.spatial:
            modules = self.spatial_modules
            kernel = tf.gather(tf.stack([m.kernel for m in modules]), task_ids)
            response = spatial_response(features, tf.cast(kernel, features.dtype), self.alpha)
            if modules[0].use_bias:
                bias = tf.gather(tf.stack([m.bias for m in modules]), task_ids)
                response += tf.cast(bias[:, tf.newaxis, tf.newaxis, :], features.dtype)
            features = features + response
        if self.channel:
            modules = self.channel_modules

            def per_example(weights):
                return tf.gather(tf.stack(weights), task_ids)

            kernel = per_example([m.kernel for m in modules])
            pooled = tf.reduce_mean(tf.cast(features, tf.float32), axis=[1, 2])
            logits = channel_gate_logits(pooled, kernel)
            norms = [m.batch_norm for m in modules]
            mean = per_example([n.moving_mean for n in norms])
            variance = per_example([n.moving_variance for n in norms])
            gamma = per_example([n.gamma for n in norms])
            offset = per_example([n.beta for n in norms])
            normalized = tf.nn.batch_normalization(
                logits, mean, variance, offset, gamma, norms[0].epsilon
            )
            gate = tf.sigmoid(normalized)
            features = features * tf.cast(gate[:, tf.newaxis, tf.newaxis, :], features.dtype)
        return features

    def get_config(self):
        """Returns the constructor arguments (with the number of tasks learned)."""
        config = super().get_config()
        config.update(
            num_tasks=self.num_tasks,
            alpha=self.alpha,
            beta=self.beta,
            spatial=self.spatial,
            channel=self.channel,
        )
        return config


class CalibratedModel(keras.Model):
    """Base class for a CNN that learns classification tasks one after another.

    A subclass owns its base layers and `TaskCalibration` layers (as direct attributes)
    and defines `features(images, task_ids, training)`, the pooled features `[N, F]`,
    applying each calibration layer to the activation map it calibrates. This class adds
    one classifier head per task and the training:

        images, task_ids -> base layers, each followed by its TaskCalibration
                         -> features [N, F] -> head of task_ids[n] -> logits [N, K_max]

    * The first task trains everything: `compile(optimizer)` and `fit(images, labels)`.
    * `add_task(num_classes)` freezes the base (`train_base="first_task"`), every
      older task's modules and head, and creates the new task's modules from the previous
      task's; `fit` then trains the new task (its optimizer is a fresh copy of the
      compiled one, since new variables need new optimizer state).
    * `model({"images": x, "task_id": t})` runs each example with its own task's modules
      and head; plain `model(x)` (and `fit`, `evaluate`, `predict` on images alone) uses the
      newest task. Logits beyond a task's class count are -1e9 (probability 0).

    Labels are class indices within their task, `0 .. num_classes - 1`.

    Baselines through the same code path: `train_base="always"` with no calibration
    layers is fine-tuning (and joint training, with batches of `{"images", "task_id"}`
    from every task); `penalty()` adds a regulariser such as EWC; `new_task_modules=
    "scratch"` and `train_base="never"` are the paper's SC and SF ablations.

    Args:
      num_classes: class count of the first task, or of every task learned so far (to
        rebuild a model before restoring a checkpoint).
      task_names: optional names of those tasks (checked against a checkpoint's).
      train_base: "first_task" (the paper), "never" (SF: the base keeps its
        initialisation) or "always" (fine-tuning baselines).
      new_task_modules: "previous" (the paper) or "scratch" (SC).
    """

    def __init__(
        self,
        num_classes: int | Sequence[int],
        task_names: Sequence[str] | None = None,
        train_base: str = "first_task",
        new_task_modules: str = "previous",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if train_base not in TRAIN_BASE:
            raise ValueError(f"train_base must be one of {TRAIN_BASE}, got {train_base!r}.")
        if new_task_modules not in NEW_TASK_MODULES:
            raise ValueError(
                f"new_task_modules must be one of {NEW_TASK_MODULES}, got {new_task_modules!r}."
            )
        self.train_base = train_base
        self.new_task_modules = new_task_modules
        classes = [num_classes] if isinstance(num_classes, int) else list(num_classes)
        names = (
            list(task_names)
            if task_names is not None
            else [f"task_{i}" for i in range(len(classes))]
        )
        if not classes or len(names) != len(classes):
            raise ValueError(
                f"num_classes {classes} and task_names {names} need one entry per task."
            )
        self.task_classes: tuple[int, ...] = ()
        self.task_names: tuple[str, ...] = ()
        self.heads = []
        self.image_shape = None
        # The task list in every checkpoint, so that restoring another one fails clearly.
        self._task_list = tf.Variable("[]", trainable=False, dtype=tf.string, name="task_list")
        for count, name in zip(classes, names, strict=True):
            self._append_head(count, name)
        self._trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "accuracy")}

    # The network ---------------------------------------------------------------------

    def features(self, images, task_ids, training=None):
        """Pooled features `[N, F]` of `images` with each example's calibration; subclasses."""
        raise NotImplementedError("Subclasses of CalibratedModel define features().")

    def penalty(self):
        """A regularisation loss added to training (None: none); EWC overrides it."""
        return None

    @property
    def num_tasks(self) -> int:
        """The number of tasks learned (or being learned)."""
        return len(self.task_classes)

    def calibration_layers(self) -> list[TaskCalibration]:
        """The model's `TaskCalibration` layers (attributes of the model itself)."""
        direct = [
            layer
            for layer in self._flatten_layers(include_self=False, recursive=False)
            if isinstance(layer, TaskCalibration)
        ]
        nested = [
            layer
            for layer in self._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, TaskCalibration)
        ]
        if len(nested) != len(direct):
            # Freezing the base freezes whole layers: one holding a calibration layer would
            # freeze the new task's modules with it.
            raise ValueError(
                "A TaskCalibration layer sits inside another layer; make every TaskCalibration "
                "an attribute of the CalibratedModel itself (or a list attribute of it)."
            )
        return direct

    def base_layers(self) -> list[keras.layers.Layer]:
        """The shared layers: everything but the calibration layers and the heads."""
        per_task = {id(layer) for layer in (*self.calibration_layers(), *self.heads)}
        return [
            layer
            for layer in self._flatten_layers(include_self=False, recursive=False)
            if id(layer) not in per_task and not isinstance(layer, keras.metrics.Metric)
        ]

    def _append_head(self, num_classes: int, name: str):
        if int(num_classes) < 1:
            raise ValueError(f"A task needs num_classes >= 1, got {num_classes}.")
        task = len(self.task_classes)
        self.heads.append(
            keras.layers.Dense(int(num_classes), name=f"head_{task}", dtype="float32")
        )
        # Tuples: plain values that Keras does not wrap for tracking.
        self.task_classes = (*self.task_classes, int(num_classes))
        self.task_names = (*self.task_names, str(name))
        self._task_list.assign(self.task_list_json())

    def task_list_json(self) -> str:
        """The tasks as JSON: `[{"name": ..., "num_classes": ...}, ...]`."""
        tasks = [
            {"name": name, "num_classes": count}
            for name, count in zip(self.task_names, self.task_classes, strict=True)
        ]
        return json.dumps(tasks)

    def _split_inputs(self, inputs):
        if isinstance(inputs, dict):
            unknown = set(inputs) - {"images", "task_id"}
            if unknown or "images" not in inputs:
                raise ValueError(
                    f"CalibratedModel inputs are images or a dict with 'images' and "
                    f"'task_id'; got keys {sorted(inputs)}."
                )
            images = tf.convert_to_tensor(inputs["images"])
            task_ids = inputs.get("task_id")
        else:
            images, task_ids = tf.convert_to_tensor(inputs), None
        if task_ids is None:
            task_ids = tf.fill([tf.shape(images)[0]], self.num_tasks - 1)
        task_ids = tf.cast(tf.reshape(task_ids, [-1]), tf.int32)
        if self.image_shape is None:
            self.image_shape = tuple(images.shape[1:])
        elif tuple(images.shape[1:]) != self.image_shape and None not in images.shape[1:]:
            raise ValueError(
                f"This model takes images of shape {self.image_shape} (its first task's); got "
                f"{tuple(images.shape[1:])}. Resize the new task's images to that shape."
            )
        return images, task_ids

    def call(self, inputs, training=None):
        """Logits `[N, K_max]` of each example's task (K_max: the largest class count)."""
        images, task_ids = self._split_inputs(inputs)
        for layer in self.calibration_layers():
            # A model rebuilt with several tasks (to restore a checkpoint) gets each task's
            # modules before its first call builds them; their weights come from the restore.
            while layer.num_tasks < self.num_tasks and not layer.built:
                layer.add_task(initialize_from_previous=False)
            if layer.num_tasks != self.num_tasks:
                raise ValueError(
                    f"{layer.name} has modules for {layer.num_tasks} tasks, the model has "
                    f"{self.num_tasks}: create TaskCalibration layers with the default "
                    "num_tasks and let the model add tasks to them."
                )
        features = self.features(images, task_ids, training=training)
        widest = max(self.task_classes)
        logits = []
        for head, count in zip(self.heads, self.task_classes, strict=True):
            task_logits = tf.cast(head(features), tf.float32)
            logits.append(
                tf.pad(
                    task_logits, [[0, 0], [0, widest - count]], constant_values=_ABSENT_CLASS_LOGIT
                )
            )
        if len(logits) == 1:
            return logits[0]
        # Each head runs on the whole batch (heads are tiny); each example keeps its own.
        index = tf.stack([task_ids, tf.range(tf.shape(task_ids)[0])], axis=-1)
        return tf.gather_nd(tf.stack(logits), index)

    # Adding tasks --------------------------------------------------------------------

    def add_task(self, num_classes: int, name: str | None = None, input_shape=None) -> int:
        """Adds a task with its own head and calibration modules; returns its task id.

        Freezes the base (unless `train_base="always"`), every older task's modules and
        head. `input_shape` (an image's shape), when given, must be the model's. If the
        model is compiled, it is compiled again with a fresh copy of its optimizer.
        """
        if not self.built or self.image_shape is None:
            raise ValueError(
                "add_task needs the model built: call it on the first task's images (or fit "
                "it) before adding a task."
            )
        if input_shape is not None and tuple(input_shape) != self.image_shape:
            raise ValueError(
                f"The new task's images have shape {tuple(input_shape)}; this model takes "
                f"{self.image_shape} (its first task's). Resize them to that shape."
            )
        task = self.num_tasks
        self._append_head(num_classes, name if name is not None else f"task_{task}")
        self.heads[-1].build([None, self.heads[0].kernel.shape[0]])
        for layer in self.calibration_layers():
            layer.add_task(initialize_from_previous=self.new_task_modules == "previous")
        self._apply_train_base()
        if self.optimizer is not None and getattr(self, "_is_compiled", False):
            fresh = self.optimizer.__class__.from_config(self.optimizer.get_config())
            self.compile(optimizer=fresh, run_eagerly=self._run_eagerly)
        return task

    def _apply_train_base(self):
        trainable = self.train_base == "always" or (
            self.train_base == "first_task" and self.num_tasks == 1
        )
        for layer in self.base_layers():
            layer.trainable = trainable
        # Joint training trains every head; otherwise an older task's head stays as learned.
        for head in self.heads[:-1]:
            head.trainable = self.train_base == "always"

    # Training ------------------------------------------------------------------------

    def compile(self, optimizer="adam", **kwargs):
        """Compiles with `optimizer`; the loss is the per-task cross-entropy (no `loss=`)."""
        if kwargs.get("loss") is not None:
            raise ValueError("CalibratedModel computes its own loss; compile it without loss=.")
        self._apply_train_base()
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def metrics(self):
        """The cross-entropy and the accuracy, as `Mean`s reset every epoch."""
        return list(self._trackers.values())

    def _loss_and_accuracy(self, x, y, training):
        logits = self(x, training=training)
        labels = tf.cast(tf.reshape(y, [-1]), tf.int32)
        _, task_ids = self._split_inputs(x)
        counts = tf.gather(tf.constant(self.task_classes, tf.int32), task_ids)
        check = tf.debugging.Assert(
            tf.reduce_all((labels >= 0) & (labels < counts)),
            [
                "labels must be class indices within their task, 0 .. num_classes - 1 "
                f"(task classes {self.task_classes}); add the task with its real class count",
            ],
        )
        with tf.control_dependencies([check]):
            labels = tf.identity(labels)
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32)
        return cross_entropy, correct

    def _update_trackers(self, cross_entropy, correct, sample_weight):
        self._trackers["loss"].update_state(cross_entropy, sample_weight=sample_weight)
        self._trackers["accuracy"].update_state(correct, sample_weight=sample_weight)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data):
        """Minimises the mean cross-entropy (plus `penalty()`) over the trainable variables."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            cross_entropy, correct = self._loss_and_accuracy(x, y, training=True)
            loss = tf.nn.compute_average_loss(cross_entropy, sample_weight=sample_weight)
            penalty = self.penalty()
            if penalty is not None:
                loss += tf.nn.scale_regularization_loss(penalty)
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        return self._update_trackers(cross_entropy, correct, sample_weight)

    def test_step(self, data):
        """The cross-entropy and accuracy of each example's task."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        cross_entropy, correct = self._loss_and_accuracy(x, y, training=False)
        return self._update_trackers(cross_entropy, correct, sample_weight)

    # Checkpoints and config -----------------------------------------------------------

    @staticmethod
    def checkpoint_task_list(path) -> list[dict]:
        """The task list recorded in a checkpoint written by `tf.train.Checkpoint(model=...)`."""
        reader = tf.train.load_checkpoint(str(path))
        keys = [k for k in reader.get_variable_to_shape_map() if "_task_list" in k]
        if len(keys) != 1:
            raise ValueError(f"{path} is not a checkpoint of a CalibratedModel (no task list).")
        return json.loads(reader.get_tensor(keys[0]).decode())

    def restore_checkpoint(self, path):
        """Restores a `tf.train.Checkpoint(model=...).save()` at `path`, refusing another task list.

        The model must have been built with the checkpoint's tasks (their names and class
        counts, in order); otherwise a ValueError says what each holds.
        """
        theirs = self.checkpoint_task_list(path)
        ours = json.loads(self.task_list_json())
        if theirs != ours:
            raise ValueError(
                f"The checkpoint {path} holds the tasks {theirs}, but this model has {ours}: "
                "build the model with the checkpoint's task list (num_classes and task_names) "
                "before restoring it."
            )
        status = tf.train.Checkpoint(model=self).restore(str(path))
        status.expect_partial()
        status.assert_existing_objects_matched()
        self._apply_train_base()
        return status

    def get_config(self):
        """The task list and the training options; subclasses add their own arguments."""
        return {
            "num_classes": list(self.task_classes),
            "task_names": list(self.task_names),
            "train_base": self.train_base,
            "new_task_modules": self.new_task_modules,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the (untrained) model with every task of `get_config()`."""
        return cls(**config)


def count_parameters(layers) -> int:
    """The number of scalars in the weights of `layers` (trainable or not)."""
    return int(sum(int(tf.size(w)) for layer in layers for w in layer.weights))


def task_parameters(model: CalibratedModel, task: int) -> int:
    """The parameters task `task` adds: its calibration modules (both kinds) and its head."""
    modules = [model.heads[task]]
    for layer in model.calibration_layers():
        modules += [m[task] for m in (layer.spatial_modules, layer.channel_modules) if m]
    return count_parameters(modules)
