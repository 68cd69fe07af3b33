"""The `.yoto` file format: a small versioned container around range-coded strings.

Layout (little-endian), all validated before anything is allocated or decoded:

    offset size  field
    0      4     magic b"YOTO"
    4      1     format version (1)
    5      1     flags (0; reserved)
    6      8     lambda, float64
    14     4     image height, uint32
    18     4     image width, uint32
    22     2+2   latent height, width, uint16
    26     2+2   side-information height, width, uint16
    30     4     side string length, uint32
    34     4     latent string length, uint32
    38     4     CRC-32 of bytes [0, 38) and of the payload
    42     ...   side string, then latent string

The latent and side shapes are redundant with the image size (they follow from
the padding to a multiple of 64); storing them lets a reader check the header's
consistency, and the CRC catches bit flips before the range decoder sees them.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib

MAGIC = b"YOTO"
VERSION = 1
_HEADER = struct.Struct("<4sBBdIIHHHHII")
_CRC = struct.Struct("<I")
HEADER_SIZE = _HEADER.size + _CRC.size  # 42 bytes

# Refuse images this large before decoding anything (a forged header must not
# make the decoder allocate gigabytes). 2^14 per side and 2^28 pixels (268 MP).
MAX_SIDE = 1 << 14
MAX_PIXELS = 1 << 28
LATENT_STRIDE = 16
SIDE_STRIDE = 64


class FormatError(ValueError):
    """The bytes are not a valid .yoto file; the message says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Header:
    """The decoded fixed-size header of a .yoto file."""

    lmbda: float
    height: int
    width: int
    latent_shape: tuple[int, int]
    side_shape: tuple[int, int]
    side_length: int
    latent_length: int


def padded_size(size: int) -> int:
    """`size` rounded up to the codec's total stride (64)."""
    return -(-size // SIDE_STRIDE) * SIDE_STRIDE


def expected_shapes(height: int, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Latent and side-information spatial shapes for an image of this size."""
    padded = (padded_size(height), padded_size(width))
    latent = (padded[0] // LATENT_STRIDE, padded[1] // LATENT_STRIDE)
    side = (padded[0] // SIDE_STRIDE, padded[1] // SIDE_STRIDE)
    return latent, side


def check_image_size(height: int, width: int) -> None:
    """Raises FormatError unless the size is within the format's limits."""
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise FormatError(f"image size {height}x{width} is outside 1..{MAX_SIDE} pixels per side")
    if height * width > MAX_PIXELS:
        raise FormatError(f"image size {height}x{width} exceeds {MAX_PIXELS} pixels")


def pack(lmbda: float, height: int, width: int, side: bytes, latent: bytes) -> bytes:
    """Serialises one image's strings into a .yoto file."""
    if not math.isfinite(lmbda) or lmbda <= 0:
        raise FormatError(f"lambda must be finite and > 0, got {lmbda}")
    check_image_size(height, width)
    latent_shape, side_shape = expected_shapes(height, width)
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        0,
        float(lmbda),
        height,
        width,
        *latent_shape,
        *side_shape,
        len(side),
        len(latent),
    )
    crc = zlib.crc32(latent, zlib.crc32(side, zlib.crc32(header)))
    return header + _CRC.pack(crc) + side + latent


def unpack(data: bytes) -> tuple[Header, bytes, bytes]:
    """Validates a .yoto file and returns `(header, side string, latent string)`.

    Every check runs on the fixed-size header and the byte count before any
    buffer is sized from the header's fields.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FormatError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise FormatError(f"file is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    fields = _HEADER.unpack_from(data)
    (magic, version, flags, lmbda, height, width, lh, lw, sh, sw, side_length, latent_length) = (
        fields
    )
    if magic != MAGIC:
        raise FormatError(f"not a .yoto file (magic {magic!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise FormatError(f"format version {version} is not supported (this reader: {VERSION})")
    if flags != 0:
        raise FormatError(f"unknown flags {flags:#04x}")
    if not math.isfinite(lmbda) or lmbda <= 0:
        raise FormatError(f"header lambda {lmbda} is not finite and > 0")
    check_image_size(height, width)
    latent_shape, side_shape = expected_shapes(height, width)
    if (lh, lw) != latent_shape or (sh, sw) != side_shape:
        raise FormatError(
            f"header shapes {(lh, lw)}/{(sh, sw)} do not match a {height}x{width} image "
            f"({latent_shape}/{side_shape})"
        )
    if HEADER_SIZE + side_length + latent_length != len(data):
        raise FormatError(
            f"file is {len(data)} bytes but its header describes "
            f"{HEADER_SIZE + side_length + latent_length}: truncated or padded"
        )
    (stored_crc,) = _CRC.unpack_from(data, _HEADER.size)
    side = data[HEADER_SIZE : HEADER_SIZE + side_length]
    latent = data[HEADER_SIZE + side_length :]
    crc = zlib.crc32(latent, zlib.crc32(side, zlib.crc32(data[: _HEADER.size])))
    if crc != stored_crc:
        raise FormatError("checksum mismatch: the file is corrupted")
    header = Header(lmbda, height, width, latent_shape, side_shape, side_length, latent_length)
    return header, side, latent
