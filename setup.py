"""Installs yoto_tf (the library) and the zoo, export, serving, demos and web packages."""

from setuptools import find_packages, setup

setup(
    name="yoto_tf",
    version="0.2.0",
    description="Loss-conditional training (You Only Train Once) for Keras/TensorFlow.",
    python_requires="==3.11.*",
    packages=find_packages(include=["yoto_tf*", "zoo*", "export*", "serving*", "demos*", "web*"]),
    # Released models ship in the package; release trainings in progress (releases/work/,
    # outside the package) do not.
    package_data={
        "zoo": [
            "releases/*/*.json",
            "releases/*/*.npz",
            "releases/*/*.md",
            "releases/*/styles/*",
        ],
        "web": ["static/*"],
    },
    # Exact pins live in requirements.lock; these are the direct dependencies.
    install_requires=[
        "tensorflow==2.14.1",
        "tensorflow-compression==2.14.1",
        "tensorflow-serving-api==2.14.1",
        "absl-py",
        "numpy<2",
        "matplotlib",
        "pillow",
        # BD-rate's piecewise cubic interpolation; already pinned (scikit-image needs it).
        "scipy",
    ],
    entry_points={
        "console_scripts": [
            "yoto-train=zoo.training.train:run",
            "yoto-lifelong=zoo.lifelong.lifelong_train:run",
            "yoto-evaluate=zoo.evaluation.evaluate:run",
            "yoto-export=export.export_saved_model:run",
            "yoto-codec=zoo.compression.codec_cli:run",
            "yoto-serving=serving.cli:main",
            "yoto-stylize=zoo.style_transfer.stylize_cli:main",
        ]
    },
)
