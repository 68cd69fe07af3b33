"""Tensors in TF Serving's REST JSON: numbers as nested lists, binary strings as {"b64": ...}."""

from __future__ import annotations

import base64

import numpy as np


def encode_tensor(value: np.ndarray, bytes_as_base64: bool = True):
    """A numpy array as JSON-ready nested lists; strings as {"b64": ...} or as UTF-8 text."""
    value = np.asarray(value)
    if value.dtype.kind in "OS":
        if bytes_as_base64:
            encode = np.vectorize(lambda b: {"b64": base64.b64encode(b).decode()}, otypes=[object])
        else:
            encode = np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])
        return encode(value).tolist()
    return value.tolist()


def decode_tensor(value) -> np.ndarray:
    """Nested JSON lists as a numpy array; {"b64": ...} objects become bytes."""

    def decode(item):
        if isinstance(item, dict) and set(item) == {"b64"}:
            return base64.b64decode(item["b64"], validate=True)
        if isinstance(item, list):
            return [decode(i) for i in item]
        return item

    decoded = decode(value)
    objects = np.array(decoded, dtype=object)
    if objects.size and isinstance(objects.flat[0], bytes | str):
        return objects
    return np.array(decoded)
