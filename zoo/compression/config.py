"""The compression task's configuration: its hyperparameters, loss terms and lambda grid."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np
import tensorflow as tf

import yoto_tf
from zoo.data import photos

TERM_NAMES = ("rate", "distortion")
SWEEP_TERM = "distortion"
SWEEP_WEIGHT_NAME = "lmbda"
# Eight log-spaced lambdas over the default range, like CompressAI's quality levels.
EVALUATION_GRID = tuple(float(v) for v in np.geomspace(0.0018, 0.18, 8))


def loss_weights(lmbda):
    """The loss-weight matrix `[B, 2]` of per-image `lmbda` `[B]`, in TERM_NAMES' order.

    The rate's weight is 1 and the distortion's is lambda (tensorflow-compression's
    `bpp + lmbda * mse`): every path from a user's lambda to the model goes through here.
    """
    return tf.stack([tf.ones_like(lmbda), lmbda], axis=-1)


@dataclasses.dataclass
class Config:
    """Hyperparameters of the compression task; `runlocal()` gives a tiny one for tests."""

    # The paper-size model uses 192 (and 320 latent channels at high rates) on a GPU.
    num_filters: int = 64
    # Channels of the latents y, the paper's M (192 beside N=128; None: num_filters). They
    # bound the detail a reconstruction can carry at high lambda; a short training does not
    # get near that bound, and more channels cost time per step, so the release run sets
    # 192 and the default keeps num_filters (experiments/README.md).
    num_latent_filters: int | None = None
    # Channels of the hyper transforms and the hyper-latents z (None: num_filters). A codec
    # widened after training (zoo/compression/widen_filters.py) keeps its hyper transforms,
    # which work at 1/64 of the resolution and cost little, at the width they learned.
    num_hyper_filters: int | None = None
    num_scales: int = 64
    scale_min: float = 0.11
    scale_max: float = 256.0
    conditioning_units: int = 256
    # He initialisation makes the conditioning vector about 1 in size instead of Glorot's
    # 0.07, so FiLM learns the large, lambda-dependent gains variable rate needs.
    conditioning_initializer: str = "he_uniform"
    conditioned: bool = True
    lmbda_low: float = 0.0018
    lmbda_high: float = 0.18
    # A fixed lambda (a Constant distribution) trains the fixed-rate baseline.
    fixed_lmbda: float | None = None
    per_example: bool = True
    # 128px crops give four times the pixels of 64px ones for well under four times the
    # step time (experiments/README.md).
    patch_size: int = 128
    batch_size: int = 8
    # 10x tensorflow-compression's 1e-4, which is tuned for a million GPU steps; a CPU run
    # of a few thousand steps learns far more with it. Lower it for long runs.
    learning_rate: float = 1e-3
    # Steps at which the learning rate drops 10x each, e.g. (10000,) for a 12000-step run,
    # as tensorflow-compression's and CompressAI's recipes end training at a lower rate: at a
    # constant rate the high-lambda end keeps moving from one checkpoint to the next
    # (experiments/README.md). Counted in optimizer steps, so a resumed run keeps them.
    learning_rate_drops: tuple = ()
    # Each example's loss is divided by lambda ** weight_sum_power (yoto_tf's weight sum over
    # the distortion weight), which leaves the optimum at each lambda unchanged: bpp +
    # lambda * mse spans 100x in scale over the lambda range, and undivided the high-lambda
    # examples' gradients drown the rest, so one model learns one rate. Dividing by lambda
    # itself, (bpp / lambda + mse), came closest to fixed-lambda codecs
    # (experiments/README.md).
    weight_sum_power: float = 1.0
    # Latents are multiplied by (lambda / lambda_ref) ** latent_gain_exponent before
    # quantization and divided by it after (lambda_ref: the range's geometric mean), so
    # lambda sets the quantization step from the first step on, as the gain units of
    # variable-rate codecs do (Cui et al., CVPR 2021). 0.5 is high-rate theory's optimum for
    # fixed transforms (step ~ lambda ** -0.5); FiLM learns the rest. 0 turns it off.
    latent_gain_exponent: float = 0.0
    # The hyper-synthesis, which chooses each latent's probability table, as an integer
    # network (zoo/compression/integer_network.py), so that files decode on every platform: .yoto
    # version 2. False: the float hyper-synthesis of version 1 files.
    integer_entropy_parameters: bool = True
    # How the latents are coded (model.ENTROPY_MODELS): "scale" (the scale hyperprior of
    # every release up to v6), "mean_scale" (predicted means) or "channel_context" (means
    # and a channel-wise context over `context_slices` slices, each slice's network
    # `context_filters` wide). The last two write `.yoto` version 3.
    entropy_model: str = "scale"
    context_slices: int = 4
    context_filters: int = 96
    # Train the entropy model alone: the analysis and synthesis transforms and the
    # conditioning network they read keep their weights. The first stage of fitting a new
    # entropy model to trained transforms, and on fixed latents a direct measure of what an
    # entropy model saves (the distortion cannot move, so every change is bits).
    frozen_transforms: bool = False
    # Training data: the bundled photographs unless a folder or a prepared TFDS dataset is set.
    image_folder: str | None = None
    # Also the 19 photographs of two Debian packages (`make photos`, zoo/data/photos.py).
    debian_photos: bool = False
    # The training split of zoo/data/photo_sets.py instead (`make photos`): the 27 photographs
    # of debian_photos=True and 141 more from five packages, whatever debian_photos says.
    # Its validation and evaluation photographs are never trained on.
    packaged_photos: bool = False
    tfds_name: str | None = None
    tfds_split: str = "train"
    tfds_data_dir: str | None = None
    # How random crops pick among the photographs (or a folder's images): "area" picks an
    # image in proportion to its size; "image" picks each equally often, as an epoch of one
    # crop per image does. "area" gives the large, mostly black hubble_deep_field the most
    # crops, yet both measured alike (experiments/README.md).
    crop_weighting: str = "area"
    # Crop augmentation for photographs and folders (zoo/data/photos.py `random_crops`), off
    # by default so that old configs and snapshots train as they did: each crop downscaled by
    # a factor drawn log-uniformly from [crop_scale_low, crop_scale_high] (1: full
    # resolution; lower: the busier detail of a reduced photograph), mirrored left to right
    # at random (crop_flips) and turned by a random multiple of 90 degrees (crop_rotations).
    crop_scale_low: float = 1.0
    crop_scale_high: float = 1.0
    crop_flips: bool = False
    crop_rotations: bool = False
    steps: int = 3000

    # What a run written before a field existed trained with (train_lib fills these in).
    LEGACY_DEFAULTS: ClassVar[dict] = {
        "weight_sum_power": 0.0,
        "integer_entropy_parameters": False,
    }

    def __post_init__(self):
        if self.crop_weighting not in photos.CROP_WEIGHTINGS:
            raise ValueError(
                f"crop_weighting must be one of {photos.CROP_WEIGHTINGS}, "
                f"got {self.crop_weighting!r}."
            )
        try:
            photos.check_scale_range((self.crop_scale_low, self.crop_scale_high))
        except ValueError as error:
            raise ValueError(f"crop_scale_low and crop_scale_high: {error}") from None
        if not math.isfinite(self.latent_gain_exponent) or self.latent_gain_exponent < 0:
            raise ValueError(
                "latent_gain_exponent must be a finite number >= 0 (0 turns the gain off), "
                f"got {self.latent_gain_exponent}."
            )
        drops = list(self.learning_rate_drops)
        if any(not float(d).is_integer() or d <= 0 for d in drops) or drops != sorted(set(drops)):
            raise ValueError(
                f"learning_rate_drops must be increasing positive step numbers, got {drops}."
            )

    def weight_sampler(self) -> yoto_tf.WeightSampler:
        """Rate weight 1; lambda log-uniform, or constant for a fixed-rate baseline."""
        lmbda = (
            yoto_tf.Constant(self.fixed_lmbda)
            if self.fixed_lmbda is not None
            else yoto_tf.LogUniform(self.lmbda_low, self.lmbda_high)
        )
        return yoto_tf.WeightSampler(
            {"rate": yoto_tf.Constant(1.0), "distortion": lmbda}, per_example=self.per_example
        )

    @classmethod
    def runlocal(cls) -> Config:
        """A tiny model and few steps: the same code path, fast enough for unit tests."""
        return cls(
            num_filters=8,
            num_scales=16,
            conditioning_units=16,
            patch_size=64,
            batch_size=2,
            steps=4,
        )
