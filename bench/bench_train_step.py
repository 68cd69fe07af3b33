"""Train-step time of the YOTO beta-VAE over the same VAE without conditioning at a fixed beta.

    .venv/bin/python bench/bench_train_step.py [--rounds=15 --steps_per_round=20]

Both models are built and timed in one process, interleaved round by round so
that machine noise hits both alike; prints each model's median step time and
the ratio YOTO / plain, what conditioning costs per step (its aim: experiments/README.md,
"beta-VAE train-step overhead").
"""

from __future__ import annotations

import timing
from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_integer("rounds", 15, "Timed rounds per model (the median is reported).")
flags.DEFINE_integer("steps_per_round", 20, "Train steps per timed round.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import tensorflow as tf

    from zoo.beta_vae import config as vae_config
    from zoo.beta_vae import model as beta_vae
    from zoo.data import mnist

    tf.keras.utils.set_random_seed(0)
    images = tf.constant(mnist.load_mnist("train")[: FLAGS.batch_size])
    configs = {
        "yoto (FiLM, beta ~ LogUniform[0.125, 512])": vae_config.Config(
            batch_size=FLAGS.batch_size
        ),
        "plain (no conditioning, beta = 4)": vae_config.Config(
            batch_size=FLAGS.batch_size, conditioned=False, fixed_beta=4.0
        ),
    }
    medians = timing.median_train_steps(
        timing.compiled_models(configs, beta_vae),
        images,
        FLAGS.rounds,
        FLAGS.steps_per_round,
        warmup=5,
    )
    for name, median in medians.items():
        print(f"{name:48s} median {1000 * median:7.2f} ms/step (batch {FLAGS.batch_size})")
    yoto, plain = medians.values()
    print(f"ratio yoto / plain: {yoto / plain:.3f}")


if __name__ == "__main__":
    app.run(main)
