"""Released models: trained weights with a model card, inside the package, loaded by name.

    model, config, task = zoo.loading.restore_model("pretrained:codec")
    yoto-codec compress --model=pretrained:codec photo.png photo.yoto

Each release is a folder `zoo/releases/<name>/` holding a weights snapshot
(`snapshot.json` with the task, full config, seed, steps and the weights' sha256, and
`weights.npz`; `zoo/loading/snapshots.py`) and its model card: `card.json` (training data,
command, commit, and the measured results of the release checks with the commands that
produced them) and `MODEL_CARD.md` for people; a style network of painted styles also
carries the paintings as its loss network saw them (`styles/`, with their credits), so
that it restores where they are not installed. Every binary that takes a training
directory takes `pretrained:NAME` too (`zoo.loading.restore_model`), and
`yoto-train --init_from=pretrained:NAME` fine-tunes one.

The snapshots of release trainings in progress (`experiments/release_runs.sh`) are in
`releases/work/<task>/` at the repository's root, outside the package: committed so that
the next machine continues them, never shipped and never loadable as releases.
"""

from __future__ import annotations

import json
import pathlib

from zoo.loading import releases as lookup
from zoo.loading.releases import (
    CARD_FILE,
    PREFIX,
    RELEASES_DIR,
    card,
    directory,
    is_release,
    names,
)

# The lookup's folder is read as `lookup.RELEASES_DIR` when publishing, so that one patch
# of it (tests publish into a temporary folder) moves finding and publishing together.
__all__ = [
    "CARD_FILE",
    "PREFIX",
    "RELEASES_DIR",
    "card",
    "directory",
    "is_release",
    "names",
    "publish",
    "render_card",
    "total_steps",
]


def publish(
    snapshot_dir,
    name: str,
    card_fields: dict,
    measured_sha256: str | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> pathlib.Path:
    """Makes the weights snapshot `snapshot_dir` the release `name`, atomically; returns its folder.

    `card_fields`: at least `data` (what it was trained on) and `results` (each measured
    value with the command that produced it); the task, config, steps, command and sha256
    come from the snapshot, the commit from git. `measured_sha256`: the sha256 of the
    weights the results were measured on; publishing refuses a snapshot rewritten since
    (a background run's `snapshot` can replace the folder while its checks run).
    `extra_files`: relative path -> bytes of files the release carries beside them (a style
    network's style pictures, `Task.release_files`), inside folders of their own. The
    card's `version` counts the releases published under `name`. A replaced release is
    swapped whole: a reader sees the old release or the new one, never a mixture (and,
    where the kernel can exchange two paths in one step, never neither:
    `snapshots.replace_directory`).
    """
    import datetime
    import hashlib
    import shutil
    import subprocess

    from zoo import atomic
    from zoo.loading import snapshots

    if not name or "/" in name or name.startswith((".", PREFIX)):
        raise ValueError(f"{name!r} cannot name a release: use letters, digits, '-' and '_'.")
    for field in ("data", "results"):
        if field not in card_fields:
            raise ValueError(f"A release's card needs {field!r}.")
    extra_files = {str(relative): content for relative, content in (extra_files or {}).items()}
    top_level = {snapshots.SNAPSHOT_FILE, snapshots.WEIGHTS_FILE, CARD_FILE, "MODEL_CARD.md"}
    for relative in extra_files:
        parts = pathlib.PurePosixPath(relative).parts
        if (
            len(parts) < 2
            or relative.startswith("/")
            or ".." in parts
            or parts[0][:1] == "."
            or parts[0] in top_level
        ):
            raise ValueError(
                f"A release's extra file {relative!r} must lie in a folder inside the release "
                "(e.g. styles/style_1.png), beside its weights and card, not in their place."
            )
    snapshots.read_metadata(snapshot_dir)  # Clear errors for a missing or corrupt snapshot.
    # Read once more, and only these bytes are checked and written: the folder may be
    # replaced meanwhile (snapshots.write swaps it whole).
    files = {
        file: (pathlib.Path(snapshot_dir) / file).read_bytes()
        for file in (snapshots.SNAPSHOT_FILE, snapshots.WEIGHTS_FILE)
    }
    metadata = json.loads(files[snapshots.SNAPSHOT_FILE])
    digest = hashlib.sha256(files[snapshots.WEIGHTS_FILE]).hexdigest()
    if digest != metadata["weights_sha256"]:
        raise ValueError(f"{snapshot_dir} changed while it was being published; publish again.")
    if measured_sha256 is not None and digest != measured_sha256:
        raise ValueError(
            f"{snapshot_dir} holds weights {digest[:12]}, not the {measured_sha256[:12]} the "
            "checks measured (the snapshot was rewritten meanwhile): run the checks again."
        )
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    previous = lookup.RELEASES_DIR / name / CARD_FILE
    version = json.loads(previous.read_text()).get("version", 0) + 1 if previous.is_file() else 1
    card_json = {
        "name": name,
        "version": version,
        "task": metadata["task"],
        "step": metadata["step"],
        "seed": metadata["seed"],
        "config": metadata["config"],
        "training_command": metadata.get("command"),
        # The commit that published the card; `trained_at` names those that trained it.
        "commit": commit,
        "trained_at": metadata.get("trained_at", []),
        "weights_sha256": metadata["weights_sha256"],
        "initialised_from": metadata.get("initialised_from"),
        "total_steps": total_steps(metadata),
        "published": datetime.date.today().isoformat(),
        **card_fields,
    }
    staging = atomic.staging_directory(lookup.RELEASES_DIR, f".{name}-")
    try:
        for file, content in [*files.items(), *extra_files.items()]:
            atomic.write_bytes(staging / file, content)
        atomic.write_text(staging / CARD_FILE, json.dumps(card_json, indent=2, sort_keys=True))
        atomic.write_text(staging / "MODEL_CARD.md", render_card(card_json))
        snapshots.replace_directory(staging, lookup.RELEASES_DIR / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return lookup.RELEASES_DIR / name


def total_steps(metadata: dict) -> int:
    """A snapshot's steps plus those of every snapshot its run was fine-tuned from."""
    steps, origin = int(metadata["step"]), metadata.get("initialised_from")
    while origin:
        steps += int(origin["step"])
        origin = origin.get("initialised_from")
    return steps


def render_card(card_json: dict) -> str:
    """The Markdown model card of a release's `card.json`."""
    lines = [
        f"# {card_json['name']} (version {card_json.get('version', 1)}): {card_json['task']}",
        "",
        f"- Steps: {card_json['step']} (seed {card_json['seed']})" + _origin(card_json),
        f"- Data: {card_json['data']}",
        f"- Training command: `{card_json.get('training_command')}`",
        f"- Trained at: {_trained_at(card_json)}",
        f"- Published at commit: {card_json.get('commit')}",
        f"- Weights sha256: `{card_json['weights_sha256']}`",
        "",
        "## Measured results",
        "",
    ]
    if "checks_passed" in card_json:
        verdict = (
            "every release check passed"
            if card_json["checks_passed"]
            else "NOT every release check passed (marked FAIL below)"
        )
        lines += [f"Verdict: {verdict}.", ""]
    commands = {result["command"] for result in card_json["results"]}
    shared = commands.pop() if len(commands) == 1 else None
    if shared:
        lines += [f"Measured with `{shared}`:", ""]
    for result in card_json["results"]:
        mark = {True: "PASS ", False: "FAIL "}.get(result.get("passed"), "")
        how = "" if shared else f" (`{result['command']}`)"
        lines.append(f"- {mark}{result['what']}: {result['value']}{how}")
    if card_json.get("notes"):
        lines += ["", "## Notes", "", card_json["notes"]]
    lines += ["", "## Config", "", "```json", json.dumps(card_json["config"], indent=2), "```"]
    return "\n".join(lines) + "\n"


def _origin(card_json: dict) -> str:
    origin = card_json.get("initialised_from")
    if not origin:
        return ""
    return (
        f", fine-tuned from step {origin['step']} of `{origin.get('command')}`; "
        f"{card_json.get('total_steps')} steps in all"
    )


def _trained_at(card_json: dict) -> str:
    """The commits that trained the weights, with the step each took over, oldest run first.

    Each fine-tuning counts its steps from 0 again, so it is named as such; steps a run
    took before it recorded commits are said to be unrecorded.
    """
    runs, origin = [], card_json
    while origin:
        runs.insert(0, list(origin.get("trained_at") or []))
        origin = origin.get("initialised_from")
    if not any(runs):
        return "not recorded (trained before runs recorded their commits)"
    parts = []
    for index, stretches in enumerate(runs):
        described = [
            f"`{_short_commit(stretch['commit'])}` from step {stretch['step']}"
            for stretch in stretches
        ]
        if not stretches:
            described = ["not recorded"]
        elif stretches[0]["step"] > 0:
            described.insert(0, f"not recorded before step {stretches[0]['step']}")
        parts.append(("fine-tuned: " if index else "") + ", ".join(described))
    return "; ".join(parts)


def _short_commit(commit: str | None) -> str:
    """A commit's first 12 hex digits, keeping a "-dirty" mark; "outside git" for None."""
    if not commit:
        return "outside git"
    dirty = "-dirty" if commit.endswith("-dirty") else ""
    return commit.removesuffix("-dirty")[:12] + dirty
