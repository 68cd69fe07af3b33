"""Old `python -m` names of binaries that moved: warn, then run the binary at its new name.

The new module is run by name (`runpy`), not imported, so that an old name in the
zoo does not make the zoo depend on a package above it (the demos).
"""

from __future__ import annotations

import runpy
import warnings


def run_moved(old_name: str, new_name: str) -> None:
    """Runs module `new_name` as `__main__` after a DeprecationWarning naming both names."""
    warnings.warn(
        f"`python -m {old_name}` is deprecated; run `python -m {new_name}` instead.",
        DeprecationWarning,
        stacklevel=2,
    )
    runpy.run_module(new_name, run_name="__main__", alter_sys=True)
