"""Finding a released model by name: `pretrained:NAME` is the folder `zoo/releases/NAME/`.

The lookup lives with the loading, below the tasks, so that everything that loads a
model (the tasks' binaries, export, evaluation, training's `--init_from`) finds a release
without importing `zoo.releases`, which publishes and checks releases and sits above them.
"""

from __future__ import annotations

import json
import pathlib

RELEASES_DIR = pathlib.Path(__file__).resolve().parent.parent / "releases"
PREFIX = "pretrained:"
CARD_FILE = "card.json"


def names() -> list[str]:
    """Every release in the package, sorted.

    Hidden folders are `publish`'s staging and swapped-out copies, never releases.
    """
    return sorted(
        path.name
        for path in RELEASES_DIR.iterdir()
        if path.is_dir() and not path.name.startswith(".") and (path / CARD_FILE).is_file()
    )


def is_release(spec) -> bool:
    """True for a `pretrained:NAME` model argument (a string or a path spelled so)."""
    return isinstance(spec, (str, pathlib.PurePath)) and str(spec).startswith(PREFIX)


def directory(spec) -> pathlib.Path:
    """The folder of release `NAME` or `pretrained:NAME`, or a ValueError listing the releases."""
    name = str(spec)[len(PREFIX) :] if is_release(spec) else str(spec)
    known = names()
    if name not in known:
        listed = ", ".join(known) if known else "none yet"
        raise ValueError(f"Unknown release {name!r}; releases in this package: {listed}.")
    return RELEASES_DIR / name


def card(spec) -> dict:
    """The model card (`card.json`) of a release."""
    return json.loads((directory(spec) / CARD_FILE).read_text())


def result(what: str, value, passed: bool | None, command: str) -> dict:
    """One line of a model card: what was measured, the value, whether it passed, how.

    A task's release checks (`Task.release_checks`) return a list of these.
    """
    return {"what": what, "value": value, "passed": passed, "command": command}
