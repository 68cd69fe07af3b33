"""A task's Config from its JSON form (a dict whose tuples came back as lists)."""

from __future__ import annotations


def config_from_dict(config_class, fields: dict):
    """`config_class(**fields)` with every list turned back into the tuple it was written as."""
    return config_class(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in fields.items()}
    )
