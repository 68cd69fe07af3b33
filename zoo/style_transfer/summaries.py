"""TensorBoard images of a style-transfer run: a crop per style and content weight."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from zoo import summary_images as summaries
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data


def write_images(model, config) -> None:
    """A held-out crop with each style alone and the blend, one row per content weight."""
    crop = style_data.evaluation_images(1, size=config.patch_size).astype(np.float32)
    strength = math.sqrt(config.style_low * config.style_high)
    columns = [[strength if i == s else 0.0 for i in range(4)] for s in range(4)]
    columns.append([strength / 4] * 4)
    rows = []
    for content in summaries.term_grid(model, "content")[:: summaries.GRID_POINTS // 2]:
        row = [crop[0]]
        for styles in columns:
            values = dict(zip(style_config.STYLE_TERMS, styles, strict=True), content=content)
            row.append(model(crop, model.evaluation_weight_matrix(1, **values)).numpy()[0])
        rows.append(row)
    tf.summary.image(
        "images/stylized",
        (summaries.tile(rows) / 255.0).astype(np.float32),
        description=(
            f"Columns: input, styles 1-4 alone at strength {strength:.3g}, the even blend; "
            "rows: content weight low, middle, high."
        ),
    )
