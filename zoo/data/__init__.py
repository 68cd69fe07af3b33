"""Datasets that exist offline: MNIST, bundled photographs, TFDS and image folders."""
