"""Which code trained a run: the git commit of each stretch of training, for model cards.

A long run is resumed many times, on other machines and from other commits. Each time
`yoto-train` starts (or resumes) it appends `{"step": first step, "commit": ...}` to the
run's `provenance.json`; snapshots carry the list, and a release's card shows it, so
a card names the commits its weights were trained at rather than the one that
published them.
"""

from __future__ import annotations

import json
import pathlib
import subprocess

from zoo import atomic

PROVENANCE_FILE = "provenance.json"
# Weights and cards of the releases and of the release work area (git pathspec globs).
RELEASE_DATA = (
    "releases/work/**",
    "zoo/releases/*/weights.npz",
    "zoo/releases/*/*.json",
    "zoo/releases/*/MODEL_CARD.md",
)


def code_commit(root=None) -> str | None:
    """The git commit of the checkout this package runs from (None outside a git checkout).

    `root`: another checkout to ask (tests).

    A commit with uncommitted changes to tracked code gets a "-dirty" suffix, as
    `git describe --dirty` marks it. Release data (`RELEASE_DATA`) does not count: a
    release candidate's branch writes the work-area snapshot it starts from.
    """
    root = pathlib.Path(__file__).resolve().parents[2] if root is None else root
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--"]
            + [".", *(f":(exclude,glob){pattern}" for pattern in RELEASE_DATA)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if changed else commit


def segments(model_dir) -> list[dict]:
    """The run's recorded stretches of training, oldest first (empty when none)."""
    path = pathlib.Path(model_dir) / PROVENANCE_FILE
    if not path.is_file():
        return []
    try:
        recorded = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); delete it to stop recording provenance."
        ) from error
    return list(recorded)


def record(model_dir, first_step: int) -> None:
    """Appends a stretch of training from `first_step` at this code's commit, atomically."""
    entry = {"step": int(first_step), "commit": code_commit()}
    recorded = segments(model_dir)
    if recorded and recorded[-1] == entry:
        return  # The same code resumed at the same step: nothing new to say.
    path = pathlib.Path(model_dir) / PROVENANCE_FILE
    atomic.write_text(path, json.dumps([*recorded, entry], indent=2) + "\n")


def carry_over(model_dir, earlier: list[dict]) -> None:
    """Starts the run's record with a snapshot's `earlier` stretches (when it has none yet)."""
    if not segments(model_dir):
        path = pathlib.Path(model_dir) / PROVENANCE_FILE
        atomic.write_text(path, json.dumps(list(earlier), indent=2) + "\n")
