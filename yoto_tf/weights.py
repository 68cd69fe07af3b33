"""Loss-weight distributions and the sampler that draws one weight vector per example.

YOTO trains one network for every trade-off by sampling the loss weights
`lambda` at random during training (Dosovitskiy & Djolonga, ICLR 2020). Each
named loss term gets a one-dimensional distribution (`LogUniform`, `Uniform`,
`Constant`), or several terms share a `Dirichlet` when their weights must sum
to one. `WeightSampler` holds them in term order and draws a `[batch, terms]`
matrix from a `tf.random.Generator`, per example (the paper's default) or one
row per batch.

A `Constant` distribution is the fixed-weight baseline: the same model code
path with one weight, so YOTO-versus-fixed comparisons are fair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import tensorflow as tf


def _check_finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return value


class Distribution:
    """A distribution over the weight of one loss term.

    Subclasses implement `sample(generator, n)` returning `n` float32 weights,
    and declare the closed interval `[low, high]` their samples lie in, which
    is the range a trained model is valid for.
    """

    low: float
    high: float

    def sample(self, generator: tf.random.Generator, n) -> tf.Tensor:
        """Draws `n` weights as a float32 tensor of shape `[n]`."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """Returns the constructor arguments, for `distribution_from_config`."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


class LogUniform(Distribution):
    """`log(lambda)` uniform on `[log(low), log(high)]`; the paper's choice for scale weights."""

    def __init__(self, low: float, high: float):
        low = _check_finite("LogUniform low", low)
        high = _check_finite("LogUniform high", high)
        if low <= 0:
            raise ValueError(
                f"LogUniform low must be > 0 (it is sampled in log space), got {low}; "
                "use Uniform for ranges that include zero."
            )
        if low > high:
            raise ValueError(f"LogUniform needs low <= high, got low={low}, high={high}.")
        self.low, self.high = low, high

    def sample(self, generator, n):
        """Draws `n` log-uniform weights."""
        log_weights = generator.uniform(
            [n], minval=math.log(self.low), maxval=math.log(self.high), dtype=tf.float32
        )
        # exp(log(high)) can round a hair above `high`; keep samples in the declared range.
        return tf.clip_by_value(tf.exp(log_weights), self.low, self.high)

    def get_config(self):
        """Returns `low` and `high`."""
        return {"low": self.low, "high": self.high}


class Uniform(Distribution):
    """`lambda` uniform on `[low, high]`."""

    def __init__(self, low: float, high: float):
        low = _check_finite("Uniform low", low)
        high = _check_finite("Uniform high", high)
        if low < 0:
            raise ValueError(
                f"Uniform low must be >= 0 (loss weights are not negative), got {low}."
            )
        if low > high:
            raise ValueError(f"Uniform needs low <= high, got low={low}, high={high}.")
        self.low, self.high = low, high

    def sample(self, generator, n):
        """Draws `n` uniform weights."""
        return generator.uniform([n], minval=self.low, maxval=self.high, dtype=tf.float32)

    def get_config(self):
        """Returns `low` and `high`."""
        return {"low": self.low, "high": self.high}


class Constant(Distribution):
    """Always `value`: the fixed-weight baseline, trained through the same code path."""

    def __init__(self, value: float):
        value = _check_finite("Constant value", value)
        if value < 0:
            raise ValueError(f"Constant value must be >= 0, got {value}.")
        self.low = self.high = self.value = value

    def sample(self, generator, n):
        """Returns `n` copies of `value`."""
        return tf.fill([n], tf.constant(self.value, tf.float32))

    def get_config(self):
        """Returns `value`."""
        return {"value": self.value}


class JointDistribution:
    """Base of distributions over several terms at once, keyed by a tuple of term names."""

    concentration: list[float]

    @property
    def size(self) -> int:
        """The number of terms the distribution draws weights for."""
        return len(self.concentration)


class Dirichlet(JointDistribution):
    """Joint weights for several terms that sum to one, `Dirichlet(concentration)`.

    Use it as the value for a tuple of term names in a `WeightSampler`, for
    example `{("style_a", "style_b"): Dirichlet([1.0, 1.0])}`. Concentrations
    below one favour single terms; above one, even mixtures.
    """

    def __init__(self, concentration: Sequence[float]):
        concentration = [_check_finite("Dirichlet concentration", c) for c in concentration]
        if len(concentration) < 2:
            raise ValueError(
                f"Dirichlet needs at least two concentrations, got {len(concentration)}."
            )
        if min(concentration) <= 0:
            raise ValueError(f"Dirichlet concentrations must all be > 0, got {concentration}.")
        self.concentration = concentration
        self.low, self.high = 0.0, 1.0

    def sample(self, generator, n) -> tf.Tensor:
        """Draws `[n, k]` weights whose rows sum to one."""
        # tf.random.Generator has no gamma sampler; draw a seed from it so the stream
        # (and its checkpointed state) stays the single source of randomness.
        seed = generator.make_seeds(1)[:, 0]
        alpha = tf.constant(self.concentration, tf.float32)
        gammas = tf.random.stateless_gamma([n, len(self.concentration)], seed=seed, alpha=alpha)
        return gammas / tf.reduce_sum(gammas, axis=-1, keepdims=True)

    def get_config(self) -> dict:
        """Returns `concentration`."""
        return {"concentration": list(self.concentration)}

    def __repr__(self) -> str:
        return f"Dirichlet(concentration={self.concentration!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Dirichlet) and self.concentration == other.concentration

    def __hash__(self) -> int:
        return hash(tuple(self.concentration))


class ScaledMixture(JointDistribution):
    """Joint weights `scale * m` that cover single terms and mixtures of them.

    With probability `single_probability`, `m` is one-hot (one term, chosen
    uniformly); otherwise `m ~ Dirichlet(concentration)`. `scale` is log-uniform on
    `[scale_low, scale_high]`. For example the four style weights of adjustable
    style transfer: one model learns each style alone, every blend, and every
    strength.
    """

    def __init__(
        self,
        concentration: Sequence[float],
        scale_low: float,
        scale_high: float,
        single_probability: float = 0.5,
    ):
        self.dirichlet = Dirichlet(concentration)
        self.concentration = self.dirichlet.concentration
        self.scale = LogUniform(scale_low, scale_high)
        single_probability = _check_finite("single_probability", single_probability)
        if not 0.0 <= single_probability <= 1.0:
            raise ValueError(f"single_probability must be in [0, 1], got {single_probability}.")
        self.single_probability = single_probability
        self.low, self.high = 0.0, self.scale.high

    def sample(self, generator, n) -> tf.Tensor:
        """Draws `[n, k]` weights: scaled one-hot rows or scaled Dirichlet rows."""
        mixtures = self.dirichlet.sample(generator, n)
        choice = generator.uniform([n], maxval=self.size, dtype=tf.int32)
        single = tf.one_hot(choice, self.size, dtype=tf.float32)
        is_single = generator.uniform([n, 1]) < self.single_probability
        scale = self.scale.sample(generator, n)[:, tf.newaxis]
        return scale * tf.where(is_single, single, mixtures)

    def get_config(self) -> dict:
        """Returns the constructor arguments."""
        return {
            "concentration": list(self.concentration),
            "scale_low": self.scale.low,
            "scale_high": self.scale.high,
            "single_probability": self.single_probability,
        }

    def __repr__(self) -> str:
        return f"ScaledMixture({self.get_config()!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ScaledMixture) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(repr(self))


_DISTRIBUTIONS = {
    cls.__name__: cls for cls in (LogUniform, Uniform, Constant, Dirichlet, ScaledMixture)
}


def distribution_from_config(config: Mapping) -> Distribution | Dirichlet:
    """Builds a distribution from `{"class_name": ..., "config": {...}}`."""
    name = config.get("class_name")
    if name not in _DISTRIBUTIONS:
        raise ValueError(
            f"Unknown loss-weight distribution {name!r}; expected one of {sorted(_DISTRIBUTIONS)}."
        )
    return _DISTRIBUTIONS[name](**config["config"])


def distribution_to_config(distribution: Distribution | Dirichlet) -> dict:
    """The inverse of `distribution_from_config`."""
    return {"class_name": type(distribution).__name__, "config": distribution.get_config()}


class WeightSampler:
    """Draws loss-weight matrices `[batch, len(term_names)]` for named loss terms.

    Args:
      distributions: maps each term name to a `Distribution`, or a tuple of term
        names to one `Dirichlet` over them. The order of the mapping is the
        column order of the sampled matrix.
      per_example: draw a weight vector for every example (the paper's default);
        if False, draw one vector per batch and repeat it.
    """

    def __init__(
        self,
        distributions: Mapping[str | tuple[str, ...], Distribution | Dirichlet],
        per_example: bool = True,
    ):
        if not distributions:
            raise ValueError("WeightSampler needs at least one loss term.")
        self._groups = []
        names = []
        for key, distribution in distributions.items():
            if isinstance(distribution, JointDistribution):
                size = distribution.size
                if not isinstance(key, tuple) or len(key) != size:
                    raise ValueError(
                        f"A {type(distribution).__name__} must be keyed by a tuple of {size} "
                        f"term names, got {key!r}."
                    )
                group_names = key
            elif isinstance(distribution, Distribution):
                if not isinstance(key, str):
                    raise ValueError(f"A one-term distribution needs a str key, got {key!r}.")
                group_names = (key,)
            else:
                raise TypeError(
                    f"Loss term {key!r}: expected a Distribution or a joint one (Dirichlet, "
                    "ScaledMixture), "
                    f"got {type(distribution).__name__}."
                )
            self._groups.append((group_names, distribution))
            names.extend(group_names)
        if len(set(names)) != len(names):
            raise ValueError(f"Loss term names must be unique, got {names}.")
        self.term_names = tuple(names)
        self.per_example = bool(per_example)

    @property
    def distributions(self) -> dict:
        """The term-name (or tuple of names) to distribution mapping, in column order."""
        return {names if len(names) > 1 else names[0]: dist for names, dist in self._groups}

    def bounds(self) -> tuple[list[float], list[float]]:
        """The per-term `[low, high]` range that sampled weights lie in."""
        lows, highs = [], []
        for names, distribution in self._groups:
            lows += [distribution.low] * len(names)
            highs += [distribution.high] * len(names)
        return lows, highs

    def sample(self, generator: tf.random.Generator, batch_size) -> tf.Tensor:
        """Draws a float32 `[batch_size, len(term_names)]` weight matrix."""
        n = batch_size if self.per_example else 1
        columns = []
        for _, distribution in self._groups:
            draw = distribution.sample(generator, n)
            columns.append(draw if draw.shape.rank == 2 else draw[:, tf.newaxis])
        weights = tf.concat(columns, axis=-1)
        if not self.per_example:
            weights = tf.repeat(weights, batch_size, axis=0)
        return weights

    def get_config(self) -> dict:
        """A JSON-serialisable description, for `WeightSampler.from_config`."""
        return {
            "terms": [
                {"names": list(names), **distribution_to_config(distribution)}
                for names, distribution in self._groups
            ],
            "per_example": self.per_example,
        }

    @classmethod
    def from_config(cls, config: Mapping) -> WeightSampler:
        """Rebuilds a sampler from `get_config()`."""
        distributions = {}
        for term in config["terms"]:
            names = tuple(term["names"])
            distributions[names if len(names) > 1 else names[0]] = distribution_from_config(term)
        return cls(distributions, per_example=config.get("per_example", True))

    def __repr__(self) -> str:
        return f"WeightSampler({self.distributions!r}, per_example={self.per_example})"
