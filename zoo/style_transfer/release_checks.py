"""The released style network's checks on held-out photographs (`python -m zoo.releases.checks`).

Each of the five conditioned terms falling strictly along its own weight; the photograph's
colours kept where the content weight is high; `grid.png` to look at.
"""

from __future__ import annotations

import pathlib

from zoo.loading.releases import result

# At content weight 10 the objective's optimum is the photograph itself (experiments/README.md,
# "What the style objective asks for"), and a user who asks for the photograph expects its
# colours: a mean colour within 1/16 of the range (16 levels) of the photograph's, for every
# style and held-out photograph. A network that cannot see the photograph's colour paints a
# learned average instead.
COLOUR_CONTENT_WEIGHT = 10.0
COLOUR_TOLERANCE_LEVELS = 16.0


def run_checks(spec, output_dir, command: str, options: dict) -> list[dict]:
    """The task's release checks (`Task.release_checks`): `style_checks`; no options."""
    del options
    return style_checks(spec, output_dir, command)


def style_checks(spec, output_dir, command: str) -> list[dict]:
    """The released style network's checks on held-out photographs (module docstring)."""
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import style_eval_lib
    from zoo.style_transfer.stylizer import Stylizer

    stylizer = Stylizer.load(spec)
    images = style_data.evaluation_images(size=256)
    grid = list(style_config.EVALUATION_GRID)
    style_eval_lib.render_grid(
        stylizer, images[0], grid, 1.0, pathlib.Path(output_dir) / "grid.png"
    )
    weight_sweeps = style_eval_lib.sweeps(grid, grid, content=1.0, strength=1.0)
    rows = style_eval_lib.evaluate_sweeps(stylizer, images, weight_sweeps)
    results = []
    for term in weight_sweeps:
        values = ", ".join(f"{row[term]:.4g}" for row in rows if row["sweep"] == term)
        falls = style_eval_lib.falls_monotonically(rows, term)
        results.append(
            result(
                f"{term} along its own weight {grid} (the others at 1 or 0)",
                values,
                falls,
                command,
            )
        )
    errors = style_eval_lib.colour_errors(stylizer, images, COLOUR_CONTENT_WEIGHT)
    results.append(
        result(
            f"mean-colour error at content {COLOUR_CONTENT_WEIGHT:g}, each style alone at 1, "
            f"levels of 0..255 (at most {COLOUR_TOLERANCE_LEVELS:g})",
            ", ".join(f"{error:.1f}" for error in errors),
            max(errors) <= COLOUR_TOLERANCE_LEVELS,
            command,
        )
    )
    return results
