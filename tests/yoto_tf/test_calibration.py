"""Calibration layers and CalibratedModel: shapes, formulas, per-task selection, no forgetting."""

import numpy as np
import tensorflow as tf

import yoto_tf
from tests.layer_test_case import LayerTestCase

keras = tf.keras


class TinyNet(yoto_tf.CalibratedModel):
    """Two calibrated convs and a pooled feature vector: the smallest CalibratedModel."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv_0 = keras.layers.Conv2D(8, 3, padding="same")
        self.calibration_0 = yoto_tf.TaskCalibration()
        self.conv_1 = keras.layers.Conv2D(8, 3, strides=2, padding="same")
        self.calibration_1 = yoto_tf.TaskCalibration(alpha=2, beta=2)

    def features(self, images, task_ids, training=None):
        x = tf.nn.relu(self.calibration_0(self.conv_0(images), task_ids, training=training))
        x = tf.nn.relu(self.calibration_1(self.conv_1(x), task_ids, training=training))
        return tf.reduce_mean(x, axis=[1, 2])


def _data(seed, classes, n=48):
    rng = np.random.default_rng(seed)
    images = rng.random([n, 8, 8, 1]).astype("float32")
    labels = (images.mean(axis=(1, 2, 3)) * 1000).astype("int32") % classes
    return images, labels


def _trained_two_task_model(train_base="first_task", new_task_modules="previous"):
    keras.utils.set_random_seed(0)
    model = TinyNet(num_classes=2, train_base=train_base, new_task_modules=new_task_modules)
    model.compile(keras.optimizers.Adam(1e-2))
    images, labels = _data(0, 2)
    model.fit(images, labels, batch_size=16, epochs=2, verbose=0)
    return model, images


class SpatialCalibrationTest(LayerTestCase):
    def test_layer_contract(self):
        features = tf.random.stateless_normal([4, 6, 6, 4], seed=[0, 1])
        for alpha in (1, 2):
            with self.subTest(alpha=alpha):
                self.run_layer_test(
                    lambda a=alpha: yoto_tf.SpatialCalibration(a, kernel_initializer="he_normal"),
                    features,
                    (4, 6, 6, 4),
                )

    def test_it_is_the_features_plus_a_grouped_three_by_three_convolution(self):
        features = tf.random.stateless_normal([2, 5, 5, 4], seed=[3, 4])
        layer = yoto_tf.SpatialCalibration(alpha=2, kernel_initializer="he_normal")
        layer(features)
        layer.bias.assign([0.1, 0.2, 0.3, 0.4])
        # The same map as Keras's grouped Conv2D (C / alpha = 2 groups), written out per group.
        kernel = layer.kernel.numpy()  # [3, 3, C, alpha]: input channel c, output j of c's group
        expected = features.numpy() + layer.bias.numpy()
        for group in range(2):
            inputs = features[..., 2 * group : 2 * group + 2]
            group_kernel = kernel[:, :, 2 * group : 2 * group + 2, :]  # [3, 3, in, out]
            response = tf.nn.conv2d(inputs, group_kernel, 1, "SAME").numpy()
            expected[..., 2 * group : 2 * group + 2] += response
        self.assertAllClose(layer(features), expected, atol=1e-5)

    def test_a_new_module_is_the_identity(self):
        features = tf.random.stateless_normal([2, 5, 5, 4], seed=[3, 4])
        self.assertAllEqual(yoto_tf.SpatialCalibration()(features), features)

    def test_alpha_that_does_not_divide_the_channels_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "alpha=3 must divide the 4 channels"):
            yoto_tf.SpatialCalibration(alpha=3)(tf.zeros([1, 4, 4, 4]))


class ChannelCalibrationTest(LayerTestCase):
    def test_layer_contract(self):
        features = tf.random.stateless_normal([4, 6, 6, 4], seed=[0, 1])
        for beta in (None, 2):
            with self.subTest(beta=beta):
                self.run_layer_test(
                    lambda b=beta: yoto_tf.ChannelCalibration(b), features, (4, 6, 6, 4)
                )

    def test_it_scales_each_channel_by_a_sigmoid_gate_of_the_pooled_features(self):
        features = tf.random.stateless_normal([3, 5, 5, 4], seed=[5, 6])
        layer = yoto_tf.ChannelCalibration(beta=2)
        layer(features)
        pooled = features.numpy().mean(axis=(1, 2))
        kernel = layer.kernel.numpy()  # [beta, C / beta, C / beta]: block-diagonal 1x1 conv
        logits = np.concatenate([pooled[:, 2 * g : 2 * g + 2] @ kernel[g] for g in range(2)], -1)
        norm = layer.batch_norm  # inference: the moving statistics (0 and 1 at the start)
        normalized = (logits - norm.moving_mean.numpy()) / np.sqrt(
            norm.moving_variance.numpy() + norm.epsilon
        )
        gate = 1 / (1 + np.exp(-(normalized * norm.gamma.numpy() + norm.beta.numpy())))
        self.assertAllClose(layer(features), features.numpy() * gate[:, None, None, :], atol=1e-5)


class TaskCalibrationTest(LayerTestCase):
    def test_layer_contract(self):
        features = tf.random.stateless_normal([4, 6, 6, 4], seed=[0, 1])
        task_ids = tf.zeros([4], tf.int32)
        self.run_layer_test(
            lambda: yoto_tf.TaskCalibration(alpha=2, beta=2), [features, task_ids], (4, 6, 6, 4)
        )

    def test_each_example_gets_the_modules_of_its_own_task(self):
        features = tf.random.stateless_normal([4, 6, 6, 4], seed=[7, 8])
        layer = yoto_tf.TaskCalibration(alpha=2, beta=2)
        layer(features, tf.zeros([4], tf.int32))
        layer.add_task()
        layer.spatial_modules[1].kernel.assign(
            tf.random.stateless_normal([3, 3, 4, 2], seed=[9, 9])
        )
        mixed = layer(features, tf.constant([0, 1, 1, 0]))
        for task in (0, 1):
            alone = layer.channel_modules[task](layer.spatial_modules[task](features))
            rows = [0, 3] if task == 0 else [1, 2]
            self.assertAllClose(tf.gather(mixed, rows), tf.gather(alone, rows), atol=1e-5)

    def test_a_training_batch_of_an_older_task_is_refused(self):
        features = tf.zeros([2, 4, 4, 4])
        layer = yoto_tf.TaskCalibration()
        layer(features, tf.zeros([2], tf.int32))
        layer.add_task()
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "newest task"):
            layer(features, tf.constant([0, 1]), training=True)

    def test_older_tasks_modules_are_frozen_and_the_new_ones_start_from_them(self):
        layer = yoto_tf.TaskCalibration()
        layer(tf.random.stateless_normal([2, 4, 4, 4], seed=[1, 1]), tf.zeros([2], tf.int32))
        layer.spatial_modules[0].kernel.assign(tf.ones([3, 3, 4, 1]))
        layer.add_task()
        self.assertEqual(layer.num_tasks, 2)
        self.assertAllEqual(layer.spatial_modules[1].kernel, tf.ones([3, 3, 4, 1]))
        trainable = {id(v) for v in layer.trainable_variables}
        self.assertNotIn(id(layer.spatial_modules[0].kernel), trainable)
        self.assertIn(id(layer.spatial_modules[1].kernel), trainable)


class CalibratedModelTest(tf.test.TestCase):
    def test_old_tasks_predictions_are_bit_identical_after_a_new_task_trains(self):
        model, images = _trained_two_task_model()
        before = model.predict(images, verbose=0)
        model.add_task(3, name="three")
        new_images, new_labels = _data(1, 3)
        model.fit(new_images, new_labels, batch_size=16, epochs=2, verbose=0)
        after = model.predict({"images": images, "task_id": np.zeros(len(images))}, verbose=0)
        np.testing.assert_array_equal(after[:, :2], before)
        self.assertTrue(np.all(after[:, 2] == -1e9), "task 0 has no third class")

    def test_the_new_task_trains_only_its_modules_and_head(self):
        model, _ = _trained_two_task_model()
        model.add_task(2)
        trained = {id(v) for v in model.trainable_variables}
        expected = {id(v) for v in model.heads[1].trainable_variables}
        for layer in model.calibration_layers():
            for module in (layer.spatial_modules[1], layer.channel_modules[1]):
                expected |= {id(v) for v in module.trainable_variables}
        self.assertEqual(trained, expected)

    def test_fine_tuning_trains_the_base_and_changes_old_predictions(self):
        model, images = _trained_two_task_model(train_base="always")
        before = model.predict(images, verbose=0)
        model.add_task(2)
        new_images, new_labels = _data(1, 2)
        model.fit(new_images, new_labels, batch_size=16, epochs=2, verbose=0)
        after = model.predict({"images": images, "task_id": np.zeros(len(images))}, verbose=0)
        self.assertGreater(np.abs(after - before).max(), 1e-3)

    def test_scratch_modules_start_from_their_initializer(self):
        model, _ = _trained_two_task_model(new_task_modules="scratch")
        model.add_task(2)
        self.assertAllEqual(model.calibration_0.spatial_modules[1].kernel, tf.zeros([3, 3, 8, 1]))
        self.assertNotAllEqual(
            model.calibration_0.spatial_modules[0].kernel, tf.zeros([3, 3, 8, 1])
        )

    def test_a_base_that_is_never_trained_keeps_its_initialisation(self):
        keras.utils.set_random_seed(0)
        model = TinyNet(num_classes=2, train_base="never")
        model.compile(keras.optimizers.Adam(1e-2))
        images, labels = _data(0, 2)
        model(images)
        before = model.conv_0.kernel.numpy()
        model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
        self.assertAllEqual(model.conv_0.kernel, before)

    def test_a_task_with_another_image_shape_is_refused(self):
        model, _ = _trained_two_task_model()
        with self.assertRaisesRegex(ValueError, r"shape \(16, 16, 1\).*takes \(8, 8, 1\)"):
            model.add_task(2, input_shape=(16, 16, 1))
        model.add_task(2)
        with self.assertRaisesRegex(ValueError, "takes images of shape"):
            model(np.zeros([2, 16, 16, 1], "float32"))

    def test_labels_outside_the_tasks_classes_are_refused(self):
        model, images = _trained_two_task_model()
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "within their task"):
            model.fit(images, np.full(len(images), 2), batch_size=16, epochs=1, verbose=0)

    def test_a_checkpoint_of_another_task_list_is_refused_by_name(self):
        model, _ = _trained_two_task_model()
        model.add_task(3, name="three")
        path = tf.train.Checkpoint(model=model).save(self.get_temp_dir() + "/ckpt")
        other = TinyNet(num_classes=[2, 2], task_names=["task_0", "two"])
        other(np.zeros([1, 8, 8, 1], "float32"))
        with self.assertRaisesRegex(ValueError, "holds the tasks .*three.*this model has"):
            other.restore_checkpoint(path)
        same = TinyNet(num_classes=[2, 3], task_names=["task_0", "three"])
        same(np.zeros([1, 8, 8, 1], "float32"))
        same.restore_checkpoint(path)
        images, _ = _data(2, 2)
        inputs = {"images": images, "task_id": np.arange(len(images)) % 2}
        self.assertAllEqual(same(inputs), model(inputs))

    def test_a_calibration_layer_inside_another_layer_is_refused(self):
        class Block(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.calibration = yoto_tf.TaskCalibration()

        class Nested(TinyNet):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.block = Block()

        with self.assertRaisesRegex(ValueError, "attribute of the CalibratedModel itself"):
            Nested(num_classes=2)(np.zeros([1, 8, 8, 1], "float32"))

    def test_each_task_adds_a_small_fraction_of_the_base(self):
        model, _ = _trained_two_task_model()
        model.add_task(2)
        # Two 8-channel points: spatial 9 C + C, channel 5 C (+ its kernel); head 8 * 2 + 2.
        expected = (9 * 8 + 8) + (8 + 4 * 8) + (9 * 2 * 8 + 8) + (2 * 4 * 4 + 4 * 8) + 18
        self.assertEqual(yoto_tf.task_parameters(model, 1), expected)


if __name__ == "__main__":
    tf.test.main()
