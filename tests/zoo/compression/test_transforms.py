import os
import tempfile

import numpy as np
import tensorflow as tf

from zoo.compression import transforms

NUM_FILTERS, NUM_LATENT_FILTERS, CONDITIONING_UNITS = 8, 6, 16


def _conditioning(seed: int, batch: int = 2) -> tf.Tensor:
    return tf.constant(
        np.random.default_rng(seed).normal(size=[batch, CONDITIONING_UNITS]), tf.float32
    )


def _transforms(conditioned: bool) -> dict:
    tf.keras.utils.set_random_seed(0)
    return {
        "analysis": transforms.AnalysisTransform(NUM_FILTERS, NUM_LATENT_FILTERS, conditioned),
        "synthesis": transforms.SynthesisTransform(NUM_FILTERS, conditioned),
        "hyper_analysis": transforms.HyperAnalysisTransform(NUM_FILTERS, conditioned),
        "hyper_synthesis": transforms.HyperSynthesisTransform(
            NUM_FILTERS, NUM_LATENT_FILTERS, conditioned
        ),
    }


# Each transform's input and the output shape it must give, for a batch of two 64x64 images.
INPUT_SHAPES = {
    "analysis": ([2, 64, 64, 3], [2, 4, 4, NUM_LATENT_FILTERS]),
    "synthesis": ([2, 4, 4, NUM_LATENT_FILTERS], [2, 64, 64, 3]),
    "hyper_analysis": ([2, 4, 4, NUM_LATENT_FILTERS], [2, 1, 1, NUM_FILTERS]),
    "hyper_synthesis": ([2, 1, 1, NUM_FILTERS], [2, 4, 4, NUM_LATENT_FILTERS]),
}


def _inputs(name: str, seed: int = 1) -> tf.Tensor:
    shape, _ = INPUT_SHAPES[name]
    return tf.constant(np.random.default_rng(seed).uniform(0, 255, shape), tf.float32)


class TransformTest(tf.test.TestCase):
    def test_each_transform_maps_its_input_to_the_shape_the_codec_needs_in_float32(self):
        for name, transform in _transforms(conditioned=True).items():
            with self.subTest(transform=name):
                outputs = transform(_inputs(name), _conditioning(seed=0))
                self.assertEqual(outputs.shape.as_list(), INPUT_SHAPES[name][1])
                self.assertEqual(outputs.dtype, tf.float32)

    def test_a_conditioned_transform_gives_other_outputs_for_another_conditioning(self):
        for name, transform in _transforms(conditioned=True).items():
            with self.subTest(transform=name):
                first = transform(_inputs(name), _conditioning(seed=0))
                second = transform(_inputs(name), _conditioning(seed=1))
                self.assertGreater(float(tf.reduce_max(tf.abs(first - second))), 1e-4)

    def test_an_unconditioned_transform_has_no_film_and_runs_without_conditioning(self):
        for name, transform in _transforms(conditioned=False).items():
            with self.subTest(transform=name):
                outputs = transform(_inputs(name), None)
                self.assertEqual(outputs.shape.as_list(), INPUT_SHAPES[name][1])
                self.assertTrue(all(block.film is None for block in transform.blocks))

    def test_the_last_synthesis_block_is_never_conditioned(self):
        synthesis = _transforms(conditioned=True)["synthesis"]
        self.assertEqual(
            [block.film is None for block in synthesis.blocks], [False, False, False, True]
        )

    def test_a_transform_names_its_variables_in_a_checkpoint_as_a_list_of_its_blocks_does(self):
        # Checkpoints written when the model held each transform as a list of blocks
        # restore into the layers only if every path stays the same.
        for name, transform in _transforms(conditioned=True).items():
            with self.subTest(transform=name):
                transform(_inputs(name), _conditioning(seed=0))
                directory = tempfile.mkdtemp()
                as_layer = tf.train.Checkpoint(transform=transform).write(
                    os.path.join(directory, "layer")
                )
                as_list = tf.train.Checkpoint(transform=list(transform.blocks)).write(
                    os.path.join(directory, "list")
                )
                self.assertEqual(
                    tf.train.list_variables(as_layer), tf.train.list_variables(as_list)
                )
                self.assertIn(
                    "transform/0/conv/_kernel_parameter/real/.ATTRIBUTES/VARIABLE_VALUE",
                    dict(tf.train.list_variables(as_layer)),
                )


if __name__ == "__main__":
    tf.test.main()
