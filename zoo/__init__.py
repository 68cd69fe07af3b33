"""The model zoo: one package per loss-conditional task, registered in `zoo/tasks.py`.

zoo/<task>/      beta_vae, compression, style_transfer: model, serving, images, binaries
zoo/training/    the training loop, callbacks, distribution, snapshots, TensorBoard images
zoo/data/        MNIST, bundled photographs, TFDS datasets, image folders
zoo/evaluation/  loss terms over a weight grid (yoto-evaluate)
zoo/releases/    released models, loaded by name (`pretrained:codec`)
"""

from zoo.tasks import TASKS as TASKS
from zoo.tasks import find_task as find_task
from zoo.tasks import get_task as get_task
