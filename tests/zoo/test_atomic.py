import os
import pathlib
import stat
import tempfile
import unittest
from unittest import mock

from zoo import atomic


def _mode(path) -> int:
    return stat.S_IMODE(pathlib.Path(path).stat().st_mode)


class AtomicWritesTest(unittest.TestCase):
    def setUp(self):
        self.folder = pathlib.Path(tempfile.mkdtemp())
        self.old_umask = os.umask(0o022)
        self.addCleanup(os.umask, self.old_umask)

    def test_a_new_file_gets_the_mode_open_would_give_not_a_private_one(self):
        path = atomic.write_bytes(self.folder / "new.yoto", b"bytes")
        self.assertEqual(path.read_bytes(), b"bytes")
        self.assertEqual(_mode(path), 0o644)
        os.umask(0o077)
        self.assertEqual(_mode(atomic.write_text(self.folder / "private.txt", "x")), 0o600)

    def test_a_replaced_file_keeps_its_mode(self):
        path = self.folder / "card.json"
        path.write_text("old")
        os.chmod(path, 0o640)
        atomic.write_text(path, "new")
        self.assertEqual(path.read_text(), "new")
        self.assertEqual(_mode(path), 0o640)

    def test_a_staging_directory_is_readable_like_any_new_folder(self):
        staging = atomic.staging_directory(self.folder, ".tmp-1-")
        self.assertTrue(staging.name.startswith(".tmp-1-"))
        self.assertEqual(list(staging.iterdir()), [])
        self.assertEqual(_mode(staging), 0o755)

    def test_the_data_reaches_the_disk_before_the_rename_and_the_folder_after_it(self):
        events = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(descriptor):
            is_folder = stat.S_ISDIR(os.fstat(descriptor).st_mode)
            events.append("fsync folder" if is_folder else "fsync file")
            real_fsync(descriptor)

        def replace(source, target):
            events.append("rename")
            real_replace(source, target)

        with mock.patch.object(os, "fsync", fsync), mock.patch.object(os, "replace", replace):
            atomic.write_text(self.folder / "card.json", "{}")
        self.assertEqual(events, ["fsync file", "rename", "fsync folder"])
        self.assertEqual((self.folder / "card.json").read_text(), "{}")

    def test_no_temporary_file_is_left_when_a_write_fails(self):
        with self.assertRaises(TypeError):
            atomic.write_bytes(self.folder / "broken", "not bytes")
        self.assertEqual(list(self.folder.iterdir()), [])


if __name__ == "__main__":
    unittest.main()
