"""What an exported SavedModel says about itself: `assets.extra/yoto_metadata.json`.

The task, its loss terms and their trained ranges, the signatures and where the
model came from. `export/export_lib.py` writes it; the zoo's codec, Stylizer and
evaluation read it to run an export without its training directory.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping

METADATA_FILE = "yoto_metadata.json"


def write_metadata(saved_model_dir, metadata: Mapping) -> pathlib.Path:
    """Writes `assets.extra/yoto_metadata.json`: task, loss terms, weight ranges, inputs."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / METADATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return path


def read_metadata(saved_model_dir) -> dict:
    """Reads the metadata written by `write_metadata`."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a SavedModel exported by yoto-export.")
    return json.loads(path.read_text())
