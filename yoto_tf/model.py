"""`LossConditionalModel`: a `keras.Model` trained with randomly sampled loss weights."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence

import tensorflow as tf

from yoto_tf.weights import WeightSampler

# What `LossConditionalModel.get_config` returns: the base constructor's arguments.
_BASE_ARGUMENTS = (
    "weight_sampler",
    "evaluation_weights",
    "seed",
    "weight_sum_power",
    "weight_sum_terms",
)

keras = tf.keras


class LossConditionalModel(keras.Model):
    """Base class for networks conditioned on their own loss weights.

    A subclass defines

    * `call(inputs, loss_weights=None, training=None)`: the network, where
      `loss_weights` is a float32 `[batch, k]` matrix in the order of
      `weight_sampler.term_names` (None means the evaluation weights), and
    * `compute_loss_terms(x, y, loss_weights, training)`: a dict mapping every
      term name to a per-example loss `[batch]`.

    `train_step` draws the weights from `weight_sampler` with the model's seeded
    `tf.random.Generator`, minimises the batch mean of `sum_i lambda_i * L_i`,
    and tracks each term and the total as `Mean` metrics. `test_step` does the
    same at the fixed evaluation weights (`set_evaluation_weights`), so
    `evaluate` at a grid of weights is a loop over `set_evaluation_weights` and
    `evaluate`. Works with plain `compile(optimizer)`, `fit`, `evaluate` and
    `predict`, and under `tf.distribute` strategies.

    A sampler of `Constant` distributions trains the fixed-weight baseline
    through this same code path.

    Args:
      weight_sampler: the loss terms and their weight distributions.
      evaluation_weights: term name to weight for `test_step`/`predict`; a term
        left out uses the geometric middle of its trained range.
      seed: seed of the generator that draws the weights (and any other noise
        the subclass draws from `self.generator`).
      weight_sum_power: train on `sum_i lambda_i L_i / (sum_i lambda_i) ** p`.
        A conditioned model's optimum at each lambda is unchanged (the factor
        is positive and depends only on lambda), but it moves the model's
        capacity between the ends of a wide weight range: p = 0 (default) is
        the plain weighted sum; p = 1 gives every lambda the same gradient
        scale. Metrics always report the plain weighted sum.
      weight_sum_terms: the terms whose weights make up that sum (default all).
        A codec's loss `bpp + lambda * mse` has a constant rate weight, so
        `("distortion",)` divides by `lambda ** p`.
      auxiliary_terms: names of per-example terms that `compute_loss_terms` returns
        beside the weighted ones when `training` is true (a teacher's targets in
        distillation): each is added to the training objective as it is, after the
        division by the weight sum, and tracked as a metric. They are not loss
        weights: the network is not conditioned on them, and `evaluate` and `predict`
        (which call `compute_loss_terms` with `training` false) leave them out. Not in
        `get_config`: a subclass that uses them passes them itself.
    """

    def __init__(
        self,
        weight_sampler: WeightSampler,
        evaluation_weights: Mapping[str, float] | None = None,
        seed: int | None = 0,
        weight_sum_power: float = 0.0,
        weight_sum_terms: Sequence[str] | None = None,
        auxiliary_terms: Sequence[str] = (),
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not math.isfinite(weight_sum_power):
            raise ValueError(f"weight_sum_power must be finite, got {weight_sum_power}.")
        self.weight_sum_power = float(weight_sum_power)
        if not isinstance(weight_sampler, WeightSampler):
            raise TypeError(
                f"weight_sampler must be a yoto_tf.WeightSampler, got {type(weight_sampler)}."
            )
        self.weight_sampler = weight_sampler
        names = tuple(weight_sampler.term_names)
        unknown = set(weight_sum_terms or ()) - set(names)
        if unknown:
            raise ValueError(f"weight_sum_terms {sorted(unknown)} are not loss terms {names}.")
        self.weight_sum_terms = tuple(weight_sum_terms) if weight_sum_terms else names
        self.auxiliary_terms = tuple(auxiliary_terms)
        clashes = set(self.auxiliary_terms) & {"loss", *names}
        if clashes:
            raise ValueError(
                f"auxiliary_terms {sorted(clashes)} clash with the loss terms {names} or 'loss'."
            )
        self._weight_sum_mask = tf.constant(
            [float(name in self.weight_sum_terms) for name in names], tf.float32
        )
        self.seed = seed
        self.generator = (
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )
        self._evaluation_weights = tf.Variable(
            self._weight_vector(evaluation_weights or {}),
            trainable=False,
            name="evaluation_weights",
        )
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("loss", *self.term_names, *self.auxiliary_terms)
        }

    @property
    def term_names(self) -> tuple[str, ...]:
        """The loss-term names, in the column order of the weight matrix."""
        return self.weight_sampler.term_names

    @property
    def metrics(self):
        """The total loss and one `Mean` per term; Keras resets them every epoch."""
        return list(self._trackers.values())

    def _weight_vector(self, weights: Mapping[str, float] | Sequence[float]) -> list[float]:
        lows, highs = self.weight_sampler.bounds()
        if not isinstance(weights, Mapping):
            weights = list(weights)
            if len(weights) != len(self.term_names):
                raise ValueError(
                    f"Expected {len(self.term_names)} loss weights for {self.term_names}, "
                    f"got {len(weights)}."
                )
            weights = dict(zip(self.term_names, weights, strict=True))
        unknown = set(weights) - set(self.term_names)
        if unknown:
            raise ValueError(
                f"Unknown loss terms {sorted(unknown)}; the terms are {self.term_names}."
            )
        vector = []
        for name, low, high in zip(self.term_names, lows, highs, strict=True):
            if name in weights:
                value = float(weights[name])
            else:
                value = (low * high) ** 0.5 if low > 0 else (low + high) / 2
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Loss weight {name}={value} must be finite and >= 0.")
            vector.append(value)
        return vector

    def set_evaluation_weights(self, weights: Mapping[str, float] | Sequence[float] | None = None):
        """Sets the weights used by `evaluate`, `predict` and `call` without weights."""
        self._evaluation_weights.assign(self._weight_vector(weights or {}))

    @property
    def evaluation_weights(self) -> dict[str, float]:
        """The current evaluation weights by term name."""
        values = self._evaluation_weights.numpy().tolist()
        return dict(zip(self.term_names, values, strict=True))

    def evaluation_weight_matrix(self, batch_size, **replaced: float) -> tf.Tensor:
        """The evaluation weights repeated to `[batch_size, k]`.

        `replaced` sets some terms' weights by name instead (`kl=4.0`): the weights to
        run the model at one point of a trade-off, the others at their evaluation values.
        """
        vector = self._evaluation_weights
        if replaced:
            vector = tf.constant(self._weight_vector({**self.evaluation_weights, **replaced}))
        return tf.tile(vector[tf.newaxis, :], [batch_size, 1])

    def compute_loss_terms(self, x, y, loss_weights, training) -> dict[str, tf.Tensor]:
        """Returns `{term_name: per-example loss [batch]}`; subclasses implement it."""
        raise NotImplementedError("Subclasses of LossConditionalModel define compute_loss_terms.")

    @staticmethod
    def _batch_size(x):
        return tf.shape(tf.nest.flatten(x)[0])[0]

    def _weighted_terms(self, x, y, loss_weights, training):
        """`(per-example terms, weighted total, auxiliary terms)`; the last only in training."""
        terms = self.compute_loss_terms(x, y, loss_weights, training=training)
        expected = set(self.term_names) | (set(self.auxiliary_terms) if training else set())
        missing = expected - set(terms)
        if missing:
            raise ValueError(
                f"compute_loss_terms returned {sorted(terms)}, missing terms {sorted(missing)}."
            )
        per_example = {name: tf.cast(terms[name], tf.float32) for name in self.term_names}
        total = tf.add_n(
            [loss_weights[:, i] * per_example[name] for i, name in enumerate(self.term_names)]
        )
        auxiliary = {
            name: tf.cast(terms[name], tf.float32) for name in self.auxiliary_terms if training
        }
        return per_example, total, auxiliary

    def _update_trackers(self, per_example, total, sample_weight):
        self._trackers["loss"].update_state(total, sample_weight=sample_weight)
        for name, value in per_example.items():
            self._trackers[name].update_state(value, sample_weight=sample_weight)
        # Auxiliary trackers only where they were updated (training): evaluate has none.
        return {name: self._trackers[name].result() for name in ("loss", *per_example)}

    def compile(self, *args, **kwargs):
        """Keras's `compile`, with the optimizer's variables created now if the model is built.

        Otherwise they are created inside the first traced training step, and `tf.function`
        then traces that step a second time without them. Call it under the distribution
        strategy's scope, as Keras asks.
        """
        super().compile(*args, **kwargs)
        if self.built and self.optimizer is not None and self.trainable_variables:
            self.optimizer.build(self.trainable_variables)

    def train_step(self, data):
        """Samples weights per example, minimises the mean weighted loss, updates metrics."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss_weights = self.weight_sampler.sample(self.generator, self._batch_size(x))
        with tf.GradientTape() as tape:
            per_example, total, auxiliary = self._weighted_terms(x, y, loss_weights, training=True)
            objective = total
            if self.weight_sum_power:
                weight_sum = tf.reduce_sum(loss_weights * self._weight_sum_mask, axis=-1)
                objective = total / tf.pow(weight_sum, self.weight_sum_power)
            if auxiliary:
                # After the division: an auxiliary term's pull is the same at every weight.
                objective += tf.add_n(list(auxiliary.values()))
            # Divides by the global batch size, so gradients summed across replicas
            # by the optimizer are the gradients of the global mean.
            loss = tf.nn.compute_average_loss(objective, sample_weight=sample_weight)
            if self.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(self.losses))
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        return self._update_trackers({**per_example, **auxiliary}, total, sample_weight)

    def test_step(self, data):
        """Evaluates every term and the total at the evaluation weights."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss_weights = self.evaluation_weight_matrix(self._batch_size(x))
        per_example, total, _ = self._weighted_terms(x, y, loss_weights, training=False)
        return self._update_trackers(per_example, total, sample_weight)

    def get_config(self):
        """The sampler, evaluation weights and seed; subclasses add their own arguments.

        `from_config` passes these to a subclass's constructor only where it takes them.
        """
        return {
            "weight_sampler": self.weight_sampler.get_config(),
            "evaluation_weights": self.evaluation_weights,
            "seed": self.seed,
            "weight_sum_power": self.weight_sum_power,
            "weight_sum_terms": list(self.weight_sum_terms),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model (untrained) from `get_config()`.

        A subclass whose constructor builds its own sampler (and takes no such argument,
        like README's `Denoiser`) is called without the base class's arguments; the
        evaluation weights are then set after construction. A subclass whose
        constructor needs arguments of its own must return them from `get_config`, as
        Keras asks of subclassed models; otherwise the TypeError says so.
        """
        config = dict(config)
        if isinstance(config.get("weight_sampler"), Mapping):
            config["weight_sampler"] = WeightSampler.from_config(config["weight_sampler"])
        parameters = inspect.signature(cls.__init__).parameters
        takes_keywords = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        arguments = {
            key: value
            for key, value in config.items()
            if takes_keywords or key in parameters or key not in _BASE_ARGUMENTS
        }
        try:
            model = cls(**arguments)
        except TypeError as error:
            raise TypeError(
                f"{cls.__name__} cannot be rebuilt from its saved config ({error}). A "
                "subclass whose constructor takes arguments must return them from "
                "get_config() (and turn back any that are not plain values in "
                "from_config()), as Keras asks of subclassed models."
            ) from error
        if "evaluation_weights" not in arguments and config.get("evaluation_weights"):
            model.set_evaluation_weights(config["evaluation_weights"])
        return model
