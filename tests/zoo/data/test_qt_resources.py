"""The Qt resource reader lists and reads files of an rcc written here by hand from the format
(Qt's rcc.cpp/qresource.cpp layout), in versions 1 to 3, zlib-compressed or stored, and
refuses truncated, corrupt and zstd-compressed ones by name."""

import pathlib
import struct
import tempfile
import unittest

from tests import rcc_files
from zoo.data import qt_resources

_ZLIB, _ZSTD = rcc_files.ZLIB, rcc_files.ZSTD


FILES = {
    "/gcompris/board/board1_0.qml": (b"Item { x: 12; y: 34 }\n", 0),
    "/gcompris/image/wave_a1.webp": (b"RIFF" + bytes(range(256)) * 4, _ZLIB),
    "/gcompris/image/README": (b"painted by Hokusai", 0),
    "/top.txt": (b"", 0),
}


class QtResourcesTest(unittest.TestCase):
    def setUp(self):
        self.folder = pathlib.Path(tempfile.mkdtemp())

    def write(self, blob: bytes, name: str = "test.rcc") -> pathlib.Path:
        path = self.folder / name
        path.write_bytes(blob)
        return path

    def test_every_file_of_a_hand_built_rcc_is_listed_and_read_back_in_each_version(self):
        for version in (1, 2, 3):
            with self.subTest(version=version):
                path = self.write(rcc_files.build_rcc(FILES, version), f"v{version}.rcc")
                self.assertEqual(qt_resources.list_files(path), sorted(FILES))
                for resource, (content, _) in FILES.items():
                    self.assertEqual(qt_resources.read_file(path, resource), content)

    def test_qt_style_prefixes_and_a_missing_leading_slash_name_the_same_file(self):
        path = self.write(rcc_files.build_rcc(FILES))
        for spelling in (":/top.txt", "qrc:/top.txt", "top.txt"):
            self.assertEqual(qt_resources.read_file(path, spelling), b"")

    def test_a_missing_resource_is_named_with_some_that_exist(self):
        path = self.write(rcc_files.build_rcc(FILES))
        with self.assertRaisesRegex(FileNotFoundError, r"'/no/such' is not in .*test\.rcc"):
            qt_resources.read_file(path, "/no/such")

    def test_a_truncated_rcc_is_a_value_error_naming_the_file(self):
        blob = rcc_files.build_rcc(FILES)
        for cut in (3, 12, len(blob) - 10, len(blob) // 2):
            with self.subTest(cut=cut):
                path = self.write(blob[:cut], f"cut{cut}.rcc")
                with self.assertRaisesRegex(ValueError, rf"cut{cut}\.rcc is not a readable Qt"):
                    qt_resources.list_files(path)

    def test_a_truncated_data_section_is_refused_when_the_file_is_read(self):
        path = self.write(rcc_files.build_rcc({"/big.bin": (b"x" * 100, 0)}))
        blob = bytearray(path.read_bytes())
        # The data section starts at byte 24: make its length claim more than the file has.
        blob[24:28] = struct.pack(">I", 10_000)
        path.write_bytes(bytes(blob))
        with self.assertRaisesRegex(ValueError, r"'/big.bin' \(10000 bytes .*runs past the end"):
            qt_resources.read_file(path, "/big.bin")

    def test_a_corrupt_zlib_stream_is_a_value_error_naming_the_file(self):
        content = b"abc" * 100
        path = self.write(rcc_files.build_rcc({"/z.bin": (content, _ZLIB)}))
        blob = bytearray(path.read_bytes())
        blob[34:38] = b"\xff\xff\xff\xff"  # inside the zlib stream, after its 4+4 length words
        path.write_bytes(bytes(blob))
        with self.assertRaisesRegex(ValueError, r"test\.rcc .*'/z.bin' does not decompress"):
            qt_resources.read_file(path, "/z.bin")

    def test_a_file_that_is_not_an_rcc_is_refused_by_name(self):
        path = self.write(b"\x89PNG\r\n\x1a\n" + bytes(64), "picture.png")
        with self.assertRaisesRegex(ValueError, r"picture\.png .*'qres' header"):
            qt_resources.list_files(path)

    def test_an_unknown_format_version_is_refused(self):
        blob = bytearray(rcc_files.build_rcc(FILES))
        blob[4:8] = struct.pack(">I", 9)
        with self.assertRaisesRegex(ValueError, "format version 9"):
            qt_resources.list_files(self.write(bytes(blob)))

    def test_a_zstd_entry_is_refused_with_the_reason_while_others_stay_readable(self):
        path = self.write(
            rcc_files.build_rcc({"/a.txt": (b"plain", 0), "/b.bin": (b"\x28\xb5", _ZSTD)})
        )
        self.assertEqual(qt_resources.read_file(path, "/a.txt"), b"plain")
        with self.assertRaisesRegex(ValueError, r"'/b.bin' in .* is zstd-compressed"):
            qt_resources.read_file(path, "/b.bin")

    def test_a_missing_rcc_is_a_file_not_found_error_naming_it(self):
        with self.assertRaisesRegex(FileNotFoundError, "No Qt resource file at .*nothing.rcc"):
            qt_resources.list_files(self.folder / "nothing.rcc")


if __name__ == "__main__":
    unittest.main()
