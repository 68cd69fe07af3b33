"""The model zoo: one package per loss-conditional task, registered in `zoo/tasks.py`.

Layered, each importing only those above it in this list (tests/test_import_direction.py):

zoo/*.py         the task registry (tasks.py), atomic writes, figures, tables, summary images
zoo/data/        MNIST, bundled photographs, paintings, TFDS datasets, image folders
zoo/loading/     one way to get a trained model: training dirs, snapshots, `pretrained:NAME`
zoo/<task>/      beta_vae, compression, style_transfer: model, serving, images, binaries
zoo/evaluation/  loss terms over a weight grid (yoto-evaluate)
zoo/training/    the training loop, callbacks, distribution, TensorBoard images
zoo/releases/    released models (one folder each), publishing and release checks
"""

from zoo.tasks import TASKS as TASKS
from zoo.tasks import find_task as find_task
from zoo.tasks import get_task as get_task
