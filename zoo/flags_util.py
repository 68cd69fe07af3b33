"""Parsing helpers shared by the zoo's absl binaries."""

from __future__ import annotations

import ast
import dataclasses


def parse_grid(text: str) -> list[float]:
    """Parses a comma-separated list of positive weights, e.g. "0.5,4,32"."""
    try:
        grid = [float(item) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise ValueError(f"--grid must be comma-separated numbers, got {text!r}.") from error
    if not grid or any(not (value > 0 and value < float("inf")) for value in grid):
        raise ValueError(f"--grid needs finite weights > 0, got {text!r}.")
    return grid


def parse_overrides(items: list[str], config_class, flag_name: str = "--config") -> dict:
    """Parses `field=value` strings into typed Config overrides (values as Python literals).

    `flag_name` is the flag the strings came from, for the error message.
    """
    fields = {field.name for field in dataclasses.fields(config_class)}
    overrides = {}
    for item in items or []:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or name not in fields:
            raise ValueError(
                f"{flag_name} expects field=value with a field of {sorted(fields)}, got {item!r}."
            )
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()  # A bare word is a string.
        overrides[name] = tuple(value) if isinstance(value, list) else value
    return overrides


def import_tensorflow_quietly():
    """Imports TensorFlow with its C++ info logs and absl INFO lines hidden; returns the module.

    Binaries call this at import time, before `app.run`: importing TensorFlow for the
    first time inside an absl `main` made Keras's optimizer fail to build its slot
    variables ("Tensor.op is undefined when eager execution is enabled"), seen with
    TF 2.14.1. Warnings and errors still show; a `TF_CPP_MIN_LOG_LEVEL` set by the user wins.
    """
    import os

    from absl import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.set_verbosity(logging.WARNING)
    import tensorflow

    return tensorflow
