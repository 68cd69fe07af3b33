"""Old names of binaries that moved: a deprecation warning, then the binary at its new name.

`python -m zoo.train` and the other names of the flat zoo keep working: run as a
program, the old module warns and runs the new one as `__main__` (by name, with
`runpy`, so its flags and help are its own); imported, it hands out the new module's
names, which console scripts installed before the move call (`zoo.train:run`).
"""

from __future__ import annotations

import importlib
import runpy
import warnings


def run_moved(old_name: str, new_name: str) -> None:
    """Warns that `python -m old_name` is now `python -m new_name`, then runs the latter.

    The warning is attributed to the caller, the old module run as `__main__`, where
    Python shows DeprecationWarnings by default. The new module is run, not imported,
    so an old name in the zoo may point above it (the demos) without an import.
    """
    warnings.warn(
        f"`python -m {old_name}` is deprecated; run `python -m {new_name}` instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    runpy.run_module(new_name, run_name="__main__", alter_sys=True)


def moved_attribute(new_name: str, attribute: str):
    """`attribute` of module `new_name`: an old module's `__getattr__` for its moved names."""
    return getattr(importlib.import_module(new_name), attribute)
