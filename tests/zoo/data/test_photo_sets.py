"""The codec's photograph sets: fixed, disjoint splits of the right sizes, a manifest that
matches the tables, licences read from DEP-5 copyright files, lossy files reduced enough, and
stored photographs turned upright; missing data names `make photos`.

The split, manifest and loader logic run on the tables and on files made here; the tests of
the real photographs skip, saying why, where `make photos` has not run."""

import io
import os
import pathlib
import tempfile
import unittest
from unittest import mock

import numpy as np
import pytest
from PIL import Image

from tests.rcc_files import build_rcc
from zoo.data import packages, photo_sets, photos

_DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Someone
License: GPL-3+

Files: src/activities/erase/resource/*
       src/activities/other/a.png
Copyright: 2019 A Photographer
License: CC-BY-SA-4.0
Comment: a later stanza wins over the catch-all

Files: src/activities/erase/resource/cow.jpg
Copyright: 2018 Another
License: CC0-1.0

License: GPL-3+
 The text of the licence.
"""


def _jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _data_present() -> bool:
    try:
        photo_sets.load("kphotoalbum/new_wave_1")
        photo_sets.load("sporco/kodim23")
    except FileNotFoundError:
        return False
    return True


class SplitTest(unittest.TestCase):
    def test_every_used_photograph_is_in_exactly_one_split_and_no_left_out_one_is(self):
        seen = {}
        for split in photo_sets.SPLITS:
            for name in photo_sets.names(split):
                self.assertNotIn(name, seen, f"{name} is in {seen.get(name)} and {split}")
                seen[name] = split
        used = {n for n, c in photo_sets.CANDIDATES.items() if c.used} | set(photos.BUNDLED)
        self.assertEqual(set(seen), used)
        for name, candidate in photo_sets.CANDIDATES.items():
            if not candidate.used:
                self.assertIsNone(photo_sets.split_of(name))
                self.assertTrue(candidate.why_out.strip())

    def test_the_old_training_photographs_all_stay_in_training(self):
        # Old configs (debian_photos=True) keep meaning what they did; nothing of theirs is
        # validated or evaluated on except the two held out since the first codec.
        for name in photos.TRAINING:
            self.assertEqual(photo_sets.split_of(name), "training")
        for name in photos.DEBIAN_PHOTOS:
            self.assertTrue(
                any(
                    photo_sets.split_of(f"{source}/{name}") == "training"
                    for source in ("lomiri", "palapeli")
                    if f"{source}/{name}" in photo_sets.CANDIDATES
                ),
                name,
            )
        self.assertEqual(set(photo_sets.names("busy")), set(photos.HELD_OUT))

    def test_the_sets_have_the_sizes_the_issue_asks_for(self):
        sizes = {split: len(photo_sets.names(split)) for split in photo_sets.SPLITS}
        self.assertEqual(
            sizes, {"training": 168, "validation": 15, "held_out": 21, "sporco": 5, "busy": 2}
        )
        evaluation = sum(sizes[subset] for subset in photo_sets.EVALUATION_SUBSETS)
        self.assertGreaterEqual(evaluation, 24)
        self.assertEqual(
            photo_sets.names("sporco"),
            tuple(f"sporco/{n}" for n in ("kodim23", "barbara", "monarch", "sail", "tulips")),
        )

    def test_validation_and_held_out_come_from_the_new_sources_in_proportion(self):
        for split in ("validation", "held_out"):
            sources = {photo_sets.CANDIDATES[n].source for n in photo_sets.names(split)}
            self.assertLessEqual(sources, set(photo_sets.SPLIT_SOURCES), split)
            self.assertGreaterEqual(len(sources), 3, split)

    def test_shots_of_one_scene_share_a_split(self):
        groups = {}
        for name, candidate in photo_sets.CANDIDATES.items():
            if candidate.used and candidate.group:
                groups.setdefault(candidate.group, set()).add(photo_sets.split_of(name))
        self.assertGreater(len(groups), 10)
        for group, splits in groups.items():
            self.assertEqual(len(splits), 1, group)

    def test_a_split_depends_on_the_group_name_alone_not_on_the_table_order(self):
        table = dict(reversed(list(photo_sets.CANDIDATES.items())))
        before = {name: photo_sets.split_of(name) for name in photo_sets.CANDIDATES}
        with mock.patch.object(photo_sets, "CANDIDATES", table):
            photo_sets._split_table.cache_clear()
            try:
                after = {name: photo_sets.split_of(name) for name in table}
            finally:
                photo_sets._split_table.cache_clear()
        self.assertEqual(before, after)

    def test_unknown_names_and_splits_are_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "Unknown photograph 'nope'"):
            photo_sets.split_of("nope")
        with self.assertRaisesRegex(ValueError, "Unknown split 'test'"):
            photo_sets.names("test")
        with self.assertRaisesRegex(ValueError, "is not used: a painting"):
            photo_sets.load("gcompris/details/Gogh4_background")

    def test_reserved_packages_are_never_a_source(self):
        packages_used = {source.package for source in photo_sets.SOURCES.values()}
        self.assertFalse(packages_used & {"mate-backgrounds", "plasma-workspace-wallpapers"})


class ManifestTest(unittest.TestCase):
    def test_the_checked_in_manifest_matches_the_tables(self):
        table_columns = ("name", "source", "package", "file", "use", "why", "split")
        expected = [
            {c: row[c] for c in table_columns} for row in photo_sets.manifest_rows(with_data=False)
        ]
        checked_in = [{c: row[c] for c in table_columns} for row in photo_sets.read_manifest()]
        self.assertEqual(checked_in, expected)

    def test_every_row_of_the_manifest_has_a_licence_version_and_size(self):
        for row in photo_sets.read_manifest():
            with self.subTest(row["name"]):
                self.assertTrue(row["licence"] and row["version"])
                self.assertGreater(int(row["width"]), 0)
                if row["use"] == "in":
                    self.assertGreaterEqual(
                        min(int(row["used_width"]), int(row["used_height"])), 128
                    )

    def test_a_manifest_with_other_columns_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "m.tsv"
            path.write_text("name\tsize\nx\t1\n")
            with self.assertRaisesRegex(ValueError, "has columns"):
                photo_sets.read_manifest(path)


class LicenceTest(unittest.TestCase):
    def test_the_last_matching_stanza_gives_the_licence(self):
        self.assertEqual(
            photo_sets.dep5_licence(_DEP5, "src/activities/erase/resource/cow.jpg"),
            ("CC0-1.0", True),
        )
        self.assertEqual(
            photo_sets.dep5_licence(_DEP5, "src/activities/erase/resource/deep/pig.jpg"),
            ("CC-BY-SA-4.0", True),
        )

    def test_a_webp_is_looked_up_under_its_name_before_conversion(self):
        self.assertEqual(
            photo_sets.dep5_licence(_DEP5, "src/activities/other/a.webp"), ("CC-BY-SA-4.0", True)
        )

    def test_a_file_no_stanza_names_falls_to_the_catch_all_and_says_so(self):
        self.assertEqual(photo_sets.dep5_licence(_DEP5, "src/core/x.webp"), ("GPL-3+", False))


class ReductionTest(unittest.TestCase):
    def test_lossy_files_are_reduced_at_least_twice_and_more_when_few_bits_were_spent(self):
        pixels = 1024 * 768
        self.assertEqual(photo_sets.reduction_factor(pixels, 1024, 768, lossy=True), 2)  # 8 bpp
        # 0.16 bpp: 1 bit per kept pixel needs a factor of 3 (0.16 * 9 = 1.44).
        self.assertEqual(photo_sets.reduction_factor(pixels * 2 // 100, 1024, 768, True), 3)

    def test_large_lossless_photographs_come_to_about_the_usual_short_side(self):
        self.assertEqual(photo_sets.reduction_factor(10**7, 768, 512, lossy=False), 1)
        self.assertEqual(photo_sets.reduction_factor(10**7, 3000, 2000, lossy=False), 2)


class LoaderOnMadeFilesTest(unittest.TestCase):
    """The real tables and loader over a data root of files made here."""

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.root = pathlib.Path(folder.name)
        patcher = mock.patch.dict(os.environ, {packages.DATA_ROOT_ENV: str(self.root)})
        patcher.start()
        self.addCleanup(patcher.stop)
        for cache in (photo_sets._decode, photo_sets._kphotoalbum_angles):
            cache.cache_clear()
            self.addCleanup(cache.cache_clear)

    def _write(self, package, relative, data: bytes):
        path = self.root / "debian" / package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def test_a_kphotoalbum_photograph_is_turned_as_its_index_says_and_reduced(self):
        stored = np.zeros([60, 80, 3], np.uint8)
        stored[:, :40, 0] = 255  # The left half is red.
        rng = np.random.default_rng(0)
        stored[:, 40:] = rng.integers(0, 256, [60, 40, 3], dtype=np.uint8)  # Many bits.
        demo = "usr/share/kphotoalbum/demo"
        self._write("kphotoalbum", f"{demo}/new_wave_1.jpg", _jpeg(stored))
        self._write(
            "kphotoalbum",
            f"{demo}/index.xml",
            b'<KPhotoAlbum><images><image file="new_wave_1.jpg" angle="90"/></images>'
            b"</KPhotoAlbum>",
        )
        image = photo_sets.load("kphotoalbum/new_wave_1")
        # Turned a quarter clockwise: 80x60 becomes 60x80, halved; the left half on top.
        self.assertEqual(image.shape, (40, 30, 3))
        self.assertGreater(image[:16, :, 0].mean(), 200)
        self.assertLess(image[:16, :, 1:].mean(), 40)
        self.assertFalse(image.flags.writeable)

    def test_a_photograph_inside_a_qt_resource_is_read_and_reduced(self):
        stored = np.full([48, 64, 3], 90, np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(stored).save(buffer, format="WEBP", quality=80)
        resource = "/gcompris/src/activities/erase/resource/alpaca.webp"
        rcc = build_rcc({resource: (buffer.getvalue(), 0)})
        self._write("gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc", rcc)
        image = photo_sets.load("gcompris/erase/alpaca")
        factor = photo_sets.reduction_factor(len(buffer.getvalue()), 64, 48, lossy=True)
        self.assertGreaterEqual(factor, 2)
        self.assertEqual(image.shape, (48 // factor, 64 // factor, 3))
        np.testing.assert_allclose(image.mean(), 90, atol=3)

    def test_a_missing_package_names_make_photos(self):
        with mock.patch.object(photo_sets, "_legacy_path", return_value=None):
            with self.assertRaisesRegex(FileNotFoundError, "make photos"):
                photo_sets.load("tuxpaint/cliff")
            with self.assertRaisesRegex(FileNotFoundError, "make photos"):
                photo_sets.training_photos()

    def test_an_installed_debian_photograph_is_found_in_the_data_root(self):
        package, path = photos.DEBIAN_PHOTOS["castle"]
        self._write(package, path.lstrip("/"), _jpeg(np.zeros([8, 8, 3], np.uint8)))
        with mock.patch("pathlib.Path.is_file", autospec=True, side_effect=_not_under_usr):
            found = photos.debian_photo_path("castle")
        self.assertEqual(found, self.root / "debian" / package / path.lstrip("/"))

    def test_the_packages_to_extract_include_every_considered_file(self):
        members = photo_sets.package_members()
        self.assertIn("usr/share/kphotoalbum/demo/index.xml", members["kphotoalbum"])
        self.assertIn("usr/share/gcompris-qt/rcc/erase.rcc", members["gcompris-qt-data"])
        for candidate in photo_sets.CANDIDATES.values():
            source = photo_sets.SOURCES[candidate.source]
            if source.kind == "debian":
                self.assertIn(candidate.file.split(":")[0], members[source.package])


def _not_under_usr(path) -> bool:
    """Path.is_file, but as if nothing were installed under /usr."""
    if str(path).startswith("/usr/"):
        return False
    return os.path.isfile(path)


@unittest.skipUnless(_data_present(), "the photographs are not there: run 'sudo make photos'")
class RealPhotographsTest(unittest.TestCase):
    def test_a_rotated_snapshot_is_upright_and_sporco_is_whole(self):
        self.assertEqual(photo_sets.load("kphotoalbum/new_wave_1").shape, (400, 274, 3))
        self.assertEqual(photo_sets.load("sporco/kodim23").shape, (512, 768, 3))
        self.assertEqual(photo_sets.load("tuxpaint/mossy_bark").shape, (212, 320, 3))

    def test_the_evaluation_subsets_are_whole_rgb8_photographs(self):
        subsets = photo_sets.evaluation_subsets()
        self.assertEqual(set(subsets), set(photo_sets.EVALUATION_SUBSETS))
        manifest = {row["name"]: row for row in photo_sets.read_manifest()}
        for items in subsets.values():
            for name, image in items:
                with self.subTest(name):
                    self.assertEqual(image.dtype, np.uint8)
                    self.assertEqual(image.shape[2], 3)
                    row = manifest[name]
                    self.assertEqual(
                        image.shape[:2], (int(row["used_height"]), int(row["used_width"]))
                    )

    @pytest.mark.slow
    def test_the_checked_in_manifest_is_what_the_data_gives_column_for_column(self):
        # Decodes every file considered (about 25 s): sizes, licences and versions too.
        self.assertEqual(
            photo_sets.manifest_text(photo_sets.manifest_rows(with_data=True)),
            photo_sets.MANIFEST.read_text(),
        )
