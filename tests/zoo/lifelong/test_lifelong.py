"""The lifelong task: sequences, the run directory, no forgetting in-process and served, errors."""

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import export_lib, layout
from tests import session_bundle
from zoo import loading
from zoo.lifelong import config as lifelong_config
from zoo.lifelong import data, evaluation, sequence
from zoo.lifelong import model as lifelong_model

TINY = lifelong_config.Config.runlocal()


def _old_task_request(count=6):
    images, _ = data.evaluation_arrays(TINY, 0)
    return {"images": images[:count], "task_id": np.zeros(count, np.int64)}


class SequenceDataTest(tf.test.TestCase):
    def test_split_mnist_is_five_two_class_tasks_of_digit_pairs(self):
        specs = data.task_specs("split_mnist")
        self.assertEqual([s.digits for s in specs], [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)])
        images, labels = data.task_arrays(specs[1], "train", limit=100)
        self.assertEqual(images.shape, (100, 28, 28, 1))
        self.assertEqual(set(labels.tolist()), {0, 1})

    def test_rotated_mnist_is_ten_rotations_of_every_digit(self):
        specs = data.task_specs("rotated_mnist")
        self.assertLen(specs, 10)
        self.assertEqual(sorted({s.rotation for s in specs}), list(range(0, 360, 36)))
        upright, labels = data.task_arrays(specs[0], "train", limit=50, seed=0)
        turned, turned_labels = data.task_arrays(specs[5], "train", limit=50, seed=0)
        self.assertEqual(set(labels.tolist()) | set(turned_labels.tolist()), set(range(10)))
        # 180 degrees: a seeded subset of its own, each image upside down.
        self.assertNotAllClose(turned, upright)
        self.assertBetween(float(turned.min()), 0.0, 1.0)
        self.assertBetween(float(turned.max()), 0.0, 1.0)


class LifelongRegistryTest(tf.test.TestCase):
    def test_yoto_train_refuses_the_sequence_task_and_names_yoto_lifelong(self):
        self.assertEqual(zoo.find_task("lifelong").sequence, "zoo.lifelong.sequence")
        with self.assertRaisesRegex(ValueError, "yoto-lifelong"):
            zoo.get_task("lifelong")

    def test_an_unknown_method_or_sequence_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "method must be one of"):
            lifelong_config.Config(method="progressive")
        with self.assertRaisesRegex(ValueError, "sequence must be one of"):
            lifelong_config.Config(sequence="cifar100")


class LifelongModelConfigTest(tf.test.TestCase):
    def test_a_model_is_built_from_its_config_and_rebuilds_with_every_task_it_has(self):
        config = lifelong_config.Config.runlocal(method="ewc")
        specs = data.task_specs(config.sequence)
        model = lifelong_model.build_model(config, specs[:1])
        model.add_task(specs[1].num_classes, specs[1].name, input_shape=data.IMAGE_SHAPE)
        saved = json.loads(json.dumps(model.get_config()))
        rebuilt = lifelong_model.LifelongClassifier.from_config(saved)
        self.assertEqual(rebuilt.config, config)
        self.assertEqual(rebuilt.task_names, model.task_names)
        self.assertEqual(rebuilt.task_classes, model.task_classes)
        self.assertEqual(rebuilt.ewc_lambda, config.ewc_lambda)
        self.assertEqual(
            lifelong_model.LifelongClassifier(
                lifelong_config.Config.runlocal(method="finetune"), [2]
            ).ewc_lambda,
            0.0,
        )


class LifelongRunTest(session_bundle.BatchingRulesTests, tf.test.TestCase):
    """One tiny calibrated run of two tasks, exported, then a third task and version 2."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = pathlib.Path(tf.compat.v1.test.get_temp_dir()) / "lifelong_test"
        shutil.rmtree(root, ignore_errors=True)
        cls.model_dir, cls.base_dir = root / "run", root / "serving"
        cls.first = sequence.train_sequence(cls.model_dir, TINY, num_tasks=2, verbose=0)
        cls.model_before, _, _ = loading.restore_model(cls.model_dir)
        cls.version_1 = export_lib.export_model_dir(cls.model_dir, cls.base_dir, "lifelong")
        cls.results = sequence.train_sequence(cls.model_dir, TINY, num_tasks=3, verbose=0)
        cls.model_after, _, _ = loading.restore_model(cls.model_dir)
        cls.version_2 = export_lib.export_model_dir(cls.model_dir, cls.base_dir, "lifelong")
        cls.servable_dirs = (cls.version_1, cls.version_2)

    def test_adding_a_task_leaves_old_predictions_bit_identical_in_process(self):
        request = _old_task_request()
        for task in (0, 1):
            inputs = {**request, "task_id": np.full(6, task)}
            with self.subTest(task=task):
                before = self.model_before(inputs).numpy()
                after = self.model_after(inputs).numpy()
                np.testing.assert_array_equal(after[:, :2], before[:, :2])

    def test_the_accuracy_matrix_keeps_old_tasks_exactly(self):
        matrix = self.results["accuracy"]
        self.assertEqual([len(row) for row in matrix], [1, 2, 3])
        self.assertEqual(matrix[:2], self.first["accuracy"])
        self.assertEqual([row[0] for row in matrix], [matrix[0][0]] * 3)
        self.assertEqual(self.results["forgetting"], 0.0)
        self.assertEqual(
            json.loads((self.model_dir / sequence.RESULTS_FILE).read_text())["accuracy"], matrix
        )

    def test_each_version_serves_every_task_learned_by_then(self):
        self.assertEqual([self.version_1.name, self.version_2.name], ["1", "2"])
        for version, count in ((self.version_1, 2), (self.version_2, 3)):
            tasks = layout.read_metadata(version)["tasks"]
            self.assertEqual([t["task_id"] for t in tasks], list(range(count)))
        self.assertIn("lifelong", (self.base_dir / layout.MODELS_CONFIG).read_text())

    def test_a_served_request_for_an_old_task_gets_the_same_answer_from_the_next_version(self):
        request = _old_task_request()
        answers = []
        for version in (self.version_1, self.version_2):
            bundle = session_bundle.SessionBundle(version)
            answers.append(bundle.run("classify", request))
            bundle.close()
        old, new = answers
        self.assertAllClose(new["probabilities"][:, :2], old["probabilities"], atol=1e-6)
        self.assertAllEqual(new["class_id"], old["class_id"])
        in_process = tf.nn.softmax(self.model_after(request)).numpy()
        self.assertAllClose(new["probabilities"], in_process, atol=1e-6)

    def test_the_task_id_is_a_named_per_example_input(self):
        loaded = tf.saved_model.load(str(self.version_2))
        _, inputs = loaded.signatures["classify"].structured_input_signature
        self.assertEqual(set(inputs), {"images", "task_id"})
        images, _ = data.evaluation_arrays(TINY, 2)
        mixed = {"images": images[:3], "task_id": tf.constant([2, 0, 1], tf.int64)}
        served = loaded.signatures["classify"](**mixed)
        self.assertAllEqual(served["num_classes"], [2, 2, 2])
        in_process = self.model_after({"images": images[:3], "task_id": [2, 0, 1]})
        self.assertAllClose(served["probabilities"], tf.nn.softmax(in_process), atol=1e-6)

    def test_an_unknown_task_id_is_refused_by_name(self):
        bundle = session_bundle.SessionBundle(self.version_1)
        request = {**_old_task_request(2), "task_id": np.array([0, 2], np.int64)}
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, r"task_id must be a task this model has learned"
        ):
            bundle.run("classify", request)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "one task id per image"):
            bundle.run("classify", {**request, "task_id": np.array([0], np.int64)})
        bundle.close()

    def test_a_checkpoint_of_another_task_list_is_refused(self):
        other = self.model_dir.parent / "other_sequence"
        shutil.copytree(self.model_dir, other, dirs_exist_ok=True)
        record = json.loads((other / sequence.CONFIG_FILE).read_text())
        record["config"]["sequence"] = "rotated_mnist"
        (other / sequence.CONFIG_FILE).write_text(json.dumps(record))
        with self.assertRaisesRegex(ValueError, "rotated_mnist sequence.*digits_0_1"):
            loading.restore_model(other)

    def test_a_run_continued_with_another_config_is_refused(self):
        changed = lifelong_config.Config.runlocal(method="finetune")
        with self.assertRaisesRegex(ValueError, "another config or seed"):
            sequence.train_sequence(self.model_dir, changed, num_tasks=3, verbose=0)

    def test_each_task_adds_its_modules_and_head(self):
        parameters = self.results["parameters"]
        model = self.model_after
        self.assertEqual(parameters["base"], sum(int(np.prod(w.shape)) for w in _convs(model)))
        self.assertLen(parameters["per_task"], 3)
        self.assertEqual(len(set(parameters["per_task"])), 1)


def _convs(model):
    return [w for layer in (*model.convs, *model.norms) for w in layer.weights]


@pytest.mark.slow
class LifelongTrainingTest(tf.test.TestCase):
    """Real training on split MNIST (about two minutes): calibration keeps, fine-tuning forgets."""

    def test_calibration_learns_split_mnist_without_forgetting_and_fine_tuning_forgets(self):
        root = pathlib.Path(self.get_temp_dir())
        settings = dict(
            filters=(16, 32, 64), strides=(2, 2, 2), steps_per_task=100, eval_examples_per_task=500
        )
        results = {}
        for method in ("calibration", "finetune"):
            config = lifelong_config.Config(method=method, **settings)
            results[method] = sequence.train_sequence(root / method, config, verbose=0)
        calibrated = results["calibration"]
        self.assertEqual(calibrated["forgetting"], 0.0)
        self.assertGreater(calibrated["average_accuracy"], 0.95)
        self.assertGreater(results["finetune"]["forgetting"], 0.05)

    def test_every_method_learns_three_tiny_tasks(self):
        root = pathlib.Path(self.get_temp_dir())
        for method in lifelong_config.METHODS:
            with self.subTest(method=method):
                config = lifelong_config.Config.runlocal(method=method)
                results = sequence.train_sequence(root / method, config, num_tasks=3, verbose=0)
                self.assertEqual([len(row) for row in results["accuracy"]], [1, 2, 3])
                if method in ("calibration", "sc", "sf"):
                    self.assertEqual(results["forgetting"], 0.0)

    def test_ewc_consolidation_anchors_the_weights_and_adds_fisher(self):
        config = lifelong_config.Config.runlocal(method="ewc")
        specs = data.task_specs(config.sequence)
        model = lifelong_model.build_model(config, specs[:1])
        images, labels = data.task_arrays(specs[0], "train", 8)
        model.consolidate(images, labels, 0)
        self.assertGreater(float(tf.add_n([tf.reduce_sum(f) for f in model._fisher])), 0.0)
        self.assertAllClose(float(model.penalty()), 0.0)
        model.convs[0].kernel.assign_add(tf.ones_like(model.convs[0].kernel))
        self.assertGreater(float(model.penalty()), 0.0)
        self.assertAllClose(evaluation.forgetting([[0.9], [0.5, 0.8]]), 0.4)
