"""The `.yoto` file format: a small versioned container around range-coded strings.

Layout (little-endian), all validated before anything is allocated or decoded:

    offset size  field
    0      4     magic b"YOTO"
    4      1     format version (1, 2 or 3)
    5      1     flags (0; reserved)
    6      8     lambda, float64
    14     4     image height, uint32
    18     4     image width, uint32
    22     2+2   latent height, width, uint16
    26     2+2   side-information height, width, uint16
    30     4     side string length, uint32
    34     4     latent string length, uint32 (version 3: of all the latent strings)
    38     8     versions 2 and 3: the model's coding fingerprint
    46     1     version 3 only: the coding architecture (1 mean_scale, 2 channel_context)
    47     1     version 3 only: the number of latent strings S (slices)
    48     4*S   version 3 only: each latent string's length, uint32
    38/46/48+4S  4  CRC-32 of the header bytes before it and of the payload
    ...    ...   side string, then the latent string(s)

The latent and side shapes are redundant with the image size (they follow from
the padding to a multiple of 64); storing them lets a reader check the header's
consistency, and the CRC catches bit flips before the range decoder sees them.

Version 2 is written by codecs whose entropy-model parameters are an integer
network (`zoo/compression/integer_network.py`): their lambda lies on a grid of `LMBDA_LEVELS`
log-spaced levels over the model's range (`snap_lmbda`), so every machine derives
the same level from the header, and the fingerprint (a hash of everything that
decides the probability tables) lets a decoder refuse a file from another model
instead of decoding garbage. Version 1 (no fingerprint, any lambda) is what codecs
with a float hyper-synthesis write, and still read.

Version 3 is version 2 for codecs that code the latents around predicted means
(`Config.entropy_model` "mean_scale" or "channel_context", issue 36): the header names
the coding architecture, and the latents are coded in S slices, one range-coded string
each, because a context model's decoder needs each slice's symbols before the next
slice's probability tables exist. A reader refuses a file of another architecture by
name (`check_header`) before it looks at the fingerprint.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib

import numpy as np

from zoo.weight_ranges import in_trained_range

MAGIC = b"YOTO"
FLOAT_INDEX_VERSION = 1
INTEGER_INDEX_VERSION = 2
MEAN_VERSION = 3
VERSIONS = (FLOAT_INDEX_VERSION, INTEGER_INDEX_VERSION, MEAN_VERSION)
_HEADER = struct.Struct("<4sBBdIIHHHHII")
_FINGERPRINT = struct.Struct("<8s")
_ARCHITECTURE = struct.Struct("<BB")
_LENGTH = struct.Struct("<I")
_CRC = struct.Struct("<I")
FINGERPRINT_SIZE = _FINGERPRINT.size
HEADER_SIZES = {
    FLOAT_INDEX_VERSION: _HEADER.size + _CRC.size,  # 42 bytes
    INTEGER_INDEX_VERSION: _HEADER.size + _FINGERPRINT.size + _CRC.size,  # 50 bytes
}
HEADER_SIZE = HEADER_SIZES[FLOAT_INDEX_VERSION]
# The coding architecture of the codecs that write version 3, by its header byte. The
# architecture of versions 1 and 2 is "scale" (zero-mean latents, one string).
SCALE_ARCHITECTURE = "scale"
ARCHITECTURE_CODES = {"mean_scale": 1, "channel_context": 2}
_ARCHITECTURE_NAMES = {code: name for name, code in ARCHITECTURE_CODES.items()}
MAX_SLICES = 255
# Lambda levels of integer-index models: q in 0..LMBDA_LEVELS, log-spaced over the range.
LMBDA_LEVELS = 1024

# Refuse images this large before decoding anything (a forged header must not
# make the decoder allocate gigabytes). 2^14 per side and 2^28 pixels (268 MP).
MAX_SIDE = 1 << 14
MAX_PIXELS = 1 << 28
# The codec's geometry: the analysis transform downsamples by 16, the hyper-analysis by 4
# more, so image sides are padded to multiples of STRIDE (one hyper-latent per 64 pixels).
LATENT_STRIDE = 16
STRIDE = 64


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
    version: int = FLOAT_INDEX_VERSION
    # The writing model's coding fingerprint (versions 2 and 3), None in version 1.
    fingerprint: bytes | None = None
    # Version 3: the coding architecture ("mean_scale", "channel_context/4") and the
    # length of each latent string (they add up to `latent_length`).
    architecture: str = SCALE_ARCHITECTURE
    latent_lengths: tuple[int, ...] | None = None

    @property
    def num_slices(self) -> int:
        """How many latent strings the file holds (1 before version 3)."""
        return 1 if self.latent_lengths is None else len(self.latent_lengths)


def architecture_name(code: int, num_slices: int) -> str:
    """The architecture name of a version 3 header's byte and slice count, as models say it."""
    name = _ARCHITECTURE_NAMES[code]
    return f"{name}/{num_slices}" if name == "channel_context" else name


def parse_architecture(architecture: str) -> tuple[int, int]:
    """`(header byte, slice count)` of an architecture name ("mean_scale", "channel_context/4").

    Raises FormatError for "scale" (versions 1 and 2) or an unknown name.
    """
    name, _, slices = str(architecture).partition("/")
    if name not in ARCHITECTURE_CODES or (name == "channel_context") != bool(slices):
        raise FormatError(
            f"no version 3 coding architecture is called {architecture!r} (known: mean_scale, "
            "channel_context/<slices>)"
        )
    num_slices = int(slices) if slices.isdigit() else 1
    if not 1 <= num_slices <= MAX_SLICES or (name == "channel_context") != (num_slices > 1):
        raise FormatError(f"architecture {architecture!r} has an invalid slice count")
    return ARCHITECTURE_CODES[name], num_slices


def header_size(version: int, num_slices: int = 1) -> int:
    """Bytes of a header of this format version (version 3: with `num_slices` strings)."""
    if version == MEAN_VERSION:
        return HEADER_SIZES[INTEGER_INDEX_VERSION] + _ARCHITECTURE.size + num_slices * _LENGTH.size
    return HEADER_SIZES[version]


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def lmbda_level(lmbda: float, low: float, high: float) -> int:
    """The level `q` in 0..LMBDA_LEVELS nearest to `lmbda` on the log scale of [low, high].

    The range is taken at float32 precision, so that a client that got it as float32
    from a server places the grid exactly where one that has it as float64 does.
    """
    low, high = _float32(low), _float32(high)
    if not high > low:
        return 0
    position = math.log(lmbda / low) / math.log(high / low)
    return min(max(round(position * LMBDA_LEVELS), 0), LMBDA_LEVELS)


def level_lmbda(level: int, low: float, high: float) -> float:
    """The float32 lambda of level `q` (a Python float holding a float32 value)."""
    low, high = _float32(low), _float32(high)
    value = low * (high / low) ** (level / LMBDA_LEVELS) if high > low else low
    return _float32(value)


def snap_lmbda(lmbda: float, low: float, high: float) -> float:
    """`lmbda` moved to its level's grid value, as integer-index codecs code it.

    The grid's step is 0.45% of lambda over CompressAI's range [0.0018, 0.18]; the
    level is all the integer network sees, and the float transforms get the grid value.
    """
    return level_lmbda(lmbda_level(lmbda, low, high), low, high)


def padded_size(size: int) -> int:
    """`size` rounded up to the codec's total stride (64)."""
    return -(-size // STRIDE) * STRIDE


def expected_shapes(height: int, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Latent and side-information spatial shapes for an image of this size."""
    padded = (padded_size(height), padded_size(width))
    latent = (padded[0] // LATENT_STRIDE, padded[1] // LATENT_STRIDE)
    side = (padded[0] // STRIDE, padded[1] // STRIDE)
    return latent, side


def check_image_size(height: int, width: int) -> None:
    """Raises FormatError unless the size is within the format's limits."""
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise FormatError(f"image size {height}x{width} is outside 1..{MAX_SIDE} pixels per side")
    if height * width > MAX_PIXELS:
        raise FormatError(f"image size {height}x{width} exceeds {MAX_PIXELS} pixels")


def pack(
    lmbda: float,
    height: int,
    width: int,
    side: bytes,
    latent,
    fingerprint: bytes | None = None,
    architecture: str = SCALE_ARCHITECTURE,
) -> bytes:
    """Serialises one image's strings into a .yoto file.

    Version 1 without a fingerprint, version 2 with one; version 3 for an `architecture`
    other than "scale" ("mean_scale", "channel_context/4"), whose `latent` is the
    sequence of the slices' strings (a fingerprint required).
    """
    if not math.isfinite(lmbda) or lmbda <= 0:
        raise FormatError(f"lambda must be finite and > 0, got {lmbda}")
    check_image_size(height, width)
    if fingerprint is not None and len(fingerprint) != FINGERPRINT_SIZE:
        raise FormatError(f"a fingerprint is {FINGERPRINT_SIZE} bytes, got {len(fingerprint)}")
    version = FLOAT_INDEX_VERSION if fingerprint is None else INTEGER_INDEX_VERSION
    strings = [latent]
    extension = b""
    if architecture != SCALE_ARCHITECTURE:
        code, num_slices = parse_architecture(architecture)
        if fingerprint is None:
            raise FormatError(f"a {architecture} file needs the model's coding fingerprint")
        strings = [bytes(string) for string in latent]
        if len(strings) != num_slices:
            raise FormatError(
                f"a {architecture} file holds {num_slices} latent strings, got {len(strings)}"
            )
        version = MEAN_VERSION
        extension = _ARCHITECTURE.pack(code, num_slices) + b"".join(
            _LENGTH.pack(len(string)) for string in strings
        )
    latent = b"".join(strings)
    latent_shape, side_shape = expected_shapes(height, width)
    header = _HEADER.pack(
        MAGIC,
        version,
        0,
        float(lmbda),
        height,
        width,
        *latent_shape,
        *side_shape,
        len(side),
        len(latent),
    )
    if fingerprint is not None:
        header += _FINGERPRINT.pack(fingerprint)
    header += extension
    crc = zlib.crc32(latent, zlib.crc32(side, zlib.crc32(header)))
    return header + _CRC.pack(crc) + side + latent


def _architecture_fields(data: bytes) -> tuple[str, tuple[int, ...]]:
    """A version 3 header's architecture and latent string lengths, checked for size first."""
    offset = _HEADER.size + _FINGERPRINT.size
    if len(data) < offset + _ARCHITECTURE.size:
        raise FormatError(f"file is {len(data)} bytes, shorter than a version 3 header")
    code, num_slices = _ARCHITECTURE.unpack_from(data, offset)
    if code not in _ARCHITECTURE_NAMES:
        raise FormatError(
            f"unknown coding architecture {code} in a version 3 header (known: "
            f"{', '.join(f'{c} {n}' for c, n in sorted(_ARCHITECTURE_NAMES.items()))})"
        )
    name = _ARCHITECTURE_NAMES[code]
    if num_slices < 1 or (name == "channel_context") != (num_slices > 1):
        raise FormatError(f"a {name} file cannot have {num_slices} latent strings")
    size = header_size(MEAN_VERSION, num_slices)
    if len(data) < size:
        raise FormatError(
            f"file is {len(data)} bytes, shorter than its {size}-byte version 3 header"
        )
    offset += _ARCHITECTURE.size
    lengths = tuple(
        _LENGTH.unpack_from(data, offset + index * _LENGTH.size)[0] for index in range(num_slices)
    )
    return architecture_name(code, num_slices), lengths


def unpack(data: bytes) -> tuple[Header, bytes, bytes | tuple[bytes, ...]]:
    """Validates a .yoto file and returns `(header, side string, latent string)`.

    Version 3 files give a tuple of latent strings, one per slice. Every check runs on
    the fixed-size header and the byte count before any buffer is sized from the
    header's fields.
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
    if version not in VERSIONS:
        raise FormatError(
            f"format version {version} is not supported (this reader: "
            f"{', '.join(map(str, VERSIONS))})"
        )
    architecture, lengths = SCALE_ARCHITECTURE, None
    if version == MEAN_VERSION:
        architecture, lengths = _architecture_fields(data)
        size = header_size(version, len(lengths))
    else:
        size = header_size(version)
    if len(data) < size:
        raise FormatError(
            f"file is {len(data)} bytes, shorter than the {size}-byte version {version} header"
        )
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
    if lengths is not None and sum(lengths) != latent_length:
        raise FormatError(
            f"the header's latent string lengths add up to {sum(lengths)}, not its latent "
            f"length {latent_length}: the file is corrupt"
        )
    if size + side_length + latent_length != len(data):
        raise FormatError(
            f"file is {len(data)} bytes but its header describes "
            f"{size + side_length + latent_length}: truncated or padded"
        )
    crc_offset = size - _CRC.size
    fingerprint = None
    if version != FLOAT_INDEX_VERSION:
        (fingerprint,) = _FINGERPRINT.unpack_from(data, _HEADER.size)
    (stored_crc,) = _CRC.unpack_from(data, crc_offset)
    side = data[size : size + side_length]
    latent = data[size + side_length :]
    crc = zlib.crc32(latent, zlib.crc32(side, zlib.crc32(data[:crc_offset])))
    if crc != stored_crc:
        raise FormatError("checksum mismatch: the file is corrupted")
    if lengths is not None:
        ends = np.cumsum((0, *lengths))
        latent = tuple(latent[int(a) : int(b)] for a, b in zip(ends[:-1], ends[1:], strict=True))
    header = Header(
        lmbda,
        height,
        width,
        latent_shape,
        side_shape,
        side_length,
        latent_length,
        version=version,
        fingerprint=fingerprint,
        architecture=architecture,
        latent_lengths=lengths,
    )
    return header, side, latent


# A version 2 header's lambda may be this far (relatively) from its level's grid value:
# a few float32 ulps, while neighbouring levels are 0.45% apart.
_GRID_TOLERANCE = 1e-6


def check_lmbda(lmbda, lmbda_range) -> float:
    """Returns `lmbda` as a float, or raises ValueError naming `lmbda_range`, the trained one."""
    low, high = lmbda_range
    try:
        lmbda = float(lmbda)
    except (TypeError, ValueError) as error:
        raise ValueError(f"lambda must be a number, got {lmbda!r}.") from error
    if not math.isfinite(lmbda) or not in_trained_range(lmbda, low, high):
        raise ValueError(
            f"lambda {lmbda} is outside the range this model was trained for "
            f"[{low:g}, {high:g}]; pick a lambda inside it."
        )
    return lmbda


def check_header(
    header, fingerprint: bytes | None, lmbda_range, architecture: str = SCALE_ARCHITECTURE
) -> float:
    """The lambda of a `.yoto` header if a codec with `fingerprint` can decode it.

    `architecture` is the codec's coding architecture (`HyperpriorCodec.coding_architecture`).
    Raises FormatError when the file comes from another architecture (named), another
    kind of model (format version) or another model (fingerprint), or ValueError when
    its lambda is out of range.
    """
    if header.architecture != architecture:
        raise FormatError(
            f"this file (format version {header.version}) was written by a "
            f"{header.architecture} codec; this codec is {architecture} and cannot decode it: "
            "use a codec of the architecture that wrote it."
        )
    expected_version = INTEGER_INDEX_VERSION
    if architecture != SCALE_ARCHITECTURE:
        expected_version = MEAN_VERSION
    if fingerprint is None and header.version != FLOAT_INDEX_VERSION:
        raise FormatError(
            f"this file (format version {header.version}) was written by a codec with integer "
            f"entropy-model parameters (fingerprint {header.fingerprint.hex()}); this model "
            "has a float hyper-synthesis and cannot decode it: use the model that wrote it."
        )
    if fingerprint is not None and header.version != expected_version:
        raise FormatError(
            f"this file (format version {header.version}) was written by a codec with a float "
            "hyper-synthesis; this model (integer entropy-model parameters, fingerprint "
            f"{fingerprint.hex()}) cannot decode it: use the model that wrote it."
        )
    if fingerprint is not None and header.fingerprint != fingerprint:
        raise FormatError(
            f"this file was written by another model (fingerprint {header.fingerprint.hex()}, "
            f"this model's is {fingerprint.hex()}): its probability tables differ, so "
            "decoding would give garbage; decode it with the model that wrote it."
        )
    lmbda = check_lmbda(header.lmbda, lmbda_range)
    if fingerprint is None:
        return lmbda
    # A grid lambda computed on another machine may differ in its last bit; its level not.
    if abs(lmbda / snap_lmbda(lmbda, *lmbda_range) - 1) > _GRID_TOLERANCE:
        raise FormatError(
            f"header lambda {lmbda!r} is not on this model's lambda grid: the file is forged "
            "or was not written by a yoto_tf codec"
        )
    return lmbda


def check_image(image) -> np.ndarray:
    """Returns `image` as uint8 `[H, W, 3]`, or raises saying what is wrong and the fix."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must be uint8 RGB, got dtype {image.dtype}; convert 16-bit or float "
            "images to 8-bit first."
        )
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"image must be [height, width, 3] RGB, got shape {image.shape}; convert "
            "greyscale to RGB and drop alpha channels."
        )
    check_image_size(*image.shape[:2])
    return image


def pad_image(image: np.ndarray) -> np.ndarray:
    """Pads `[H, W, 3]` to multiples of 64 by repeating the last row and column."""
    height, width = image.shape[:2]
    pad_height = padded_size(height) - height
    pad_width = padded_size(width) - width
    return np.pad(image, [(0, pad_height), (0, pad_width), (0, 0)], mode="edge")
