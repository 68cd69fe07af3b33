"""The released style network's checks on held-out photographs (`python -m zoo.releases.checks`).

Each of the five conditioned terms falling strictly along its own weight; the photograph's
colours kept where the content weight is high; for a network distilled from a teacher, its
objective within 5% of the teacher's; `grid.png` to look at.
"""

from __future__ import annotations

import dataclasses
import pathlib

from zoo.loading.releases import result

# At content weight 10 the objective's optimum is the photograph itself (experiments/README.md,
# "What the style objective asks for"), and a user who asks for the photograph expects its
# colours: a mean colour within 1/16 of the range (16 levels) of the photograph's, for every
# style and held-out photograph. A network that cannot see the photograph's colour paints a
# learned average instead.
COLOUR_CONTENT_WEIGHT = 10.0
COLOUR_TOLERANCE_LEVELS = 16.0
# A distilled release (issue 41) is held to its teacher: the geometric mean over the release
# check's 25 weight vectors and 25 drawn (seed 0) of student / teacher objective, both
# scored by the teacher's objective, at most 1.05.
TEACHER_RATIO_LIMIT = 1.05
TEACHER_RANDOM_VECTORS = 25


def run_checks(spec, output_dir, command: str, options: dict) -> list[dict]:
    """The task's release checks (`Task.release_checks`): `style_checks`; `options["teacher"]`
    names the teacher a distilled network is held to (default: the one its config names)."""
    return style_checks(spec, output_dir, command, teacher=options.get("teacher"))


def style_checks(spec, output_dir, command: str, teacher: str | None = None) -> list[dict]:
    """The released style network's checks on held-out photographs (module docstring)."""
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import style_eval_lib
    from zoo.style_transfer.stylizer import Stylizer

    # The teacher first: a wrong or missing one fails before the slow checks run.
    held = teacher_of(spec, teacher)
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
    if held is not None:
        results.append(teacher_check(spec, held, images, command))
    return results


def release_files(spec) -> dict[str, bytes]:
    """`styles/NAME.png` for each painted style of the model `spec`, as the loss network saw
    it (frame trimmed, at the style size; lossless, so Gram targets rebuilt from it are the
    training's), and `styles/SOURCES.md` crediting each: a release of painted styles then
    restores, stylizes and shows its styles where the paintings are not installed
    (`style_data.released_picture`). Bundled textures and a user's style folder need none.

    Raises FileNotFoundError naming `make paintings` when a painting is not installed.
    """
    import tensorflow as tf

    from zoo import loading
    from zoo.data import paintings
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data

    _, config, _ = loading.load_run(spec)
    if config.style_folder:
        return {}
    painted = {
        name: image
        for name, image in style_data.named_style_images(config)
        if name in style_config.PAINTED_STYLES
    }
    if not painted:
        return {}
    folder = style_data.RELEASE_PICTURE_DIR
    files = {
        f"{folder}/{name}.png": tf.io.encode_png(image).numpy() for name, image in painted.items()
    }
    lines = [
        "# The paintings of this release's styles",
        "",
        "Each at the size the loss network saw it (shorter side "
        f"{config.style_size} px, frame trimmed). Sources: zoo/data/PAINTINGS.md.",
        "",
        "| file | painting | licence | attribution |",
        "|---|---|---|---|",
    ]
    for name in painted:
        painting = paintings.PAINTINGS[name]
        lines.append(
            f"| `{name}.png` | {painting.artist}, *{painting.title}*, {painting.year} | "
            f"{painting.licence} | {painting.attribution} |"
        )
    files[f"{folder}/SOURCES.md"] = ("\n".join(lines) + "\n").encode()
    return files


@dataclasses.dataclass(frozen=True)
class Teacher:
    """The network a distilled release is held to, and how its card line names it."""

    model: object
    description: str


def teacher_of(spec, teacher: str | None) -> Teacher | None:
    """The teacher `spec` is held to: `teacher`, else the one its config names; None for a
    network trained without one when none is given.

    Raises ValueError naming the teacher and the fix when it cannot be loaded or cannot
    have taught `spec` (other styles, style size or weight ranges): a distilled release is
    not checked without its teacher.
    """
    import tensorflow as tf

    from zoo import loading
    from zoo.loading import releases, snapshots
    from zoo.style_transfer import model as style_model

    _, config, _ = loading.load_run(spec)
    path = teacher or config.teacher
    if not path:
        return None
    advice = "Pass --teacher=DIR: the snapshot or training dir it was distilled from."
    sampler = config.weight_sampler()
    model = style_model.restore_teacher(path, config, sampler, f"{spec} was distilled. {advice}")
    if releases.is_release(path) or snapshots.is_snapshot(path):
        directory = releases.directory(path) if releases.is_release(path) else path
        metadata = snapshots.read_metadata(directory)
        which = f"step {metadata['step']}, weights {metadata['weights_sha256'][:12]}"
    else:
        latest = tf.train.latest_checkpoint(str(pathlib.Path(path) / loading.CHECKPOINT_DIR))
        which = f"a training dir's latest checkpoint, step {loading.checkpoint_step(latest)}"
    return Teacher(model, f"{path} ({which})")


def teacher_check(spec, held: Teacher, images, command: str) -> dict:
    """The objective of `spec` against its teacher's, as a card line (`TEACHER_RATIO_LIMIT`)."""
    from zoo import loading
    from zoo.style_transfer import objective_comparison

    student, _, _ = loading.restore_model(spec)
    # Drawn from the student's ranges, which lie inside the teacher's (`teacher_of`).
    vectors = objective_comparison.weight_vectors(student, TEACHER_RANDOM_VECTORS, seed=0)
    rows = {
        name: objective_comparison.mean_terms(model, held.model, images, vectors)
        for name, model in (("student", student), ("teacher", held.model))
    }
    ratios = objective_comparison.ratios_by_sweep(vectors, rows["student"], rows["teacher"])
    ratio = objective_comparison.geometric_mean(ratios)
    wins = sum(value < 1 for values in ratios.values() for value in values)
    return result(
        f"objective / teacher {held.description}'s, geometric mean over {len(vectors)} "
        f"weight vectors, judged by the teacher's objective (at most {TEACHER_RATIO_LIMIT:g})",
        f"{ratio:.3f} (better at {wins} of {len(vectors)})",
        ratio <= TEACHER_RATIO_LIMIT,
        command,
    )
