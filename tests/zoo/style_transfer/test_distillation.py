"""Distilling a style network from a frozen teacher (`Config.teacher`), with tiny networks."""

import dataclasses
import pathlib
import shutil
import tempfile
import types
import warnings
from unittest import mock

import numpy as np
import tensorflow as tf

from export import export_lib
from zoo import loading
from zoo.loading import snapshots
from zoo.style_transfer import config as style_config
from zoo.style_transfer import data as style_data
from zoo.style_transfer import model as style_transfer
from zoo.training import train_lib

keras = tf.keras
DISTILL_TERMS = ("distill_pixel", "distill_features")


class DistillationTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        keras.utils.set_random_seed(0)
        cls.teacher_dir = pathlib.Path(tempfile.mkdtemp()) / "teacher"
        train_lib.train("style_transfer", cls.teacher_dir, steps=1, runlocal=True, verbose=0)
        cls.config = dataclasses.replace(
            style_config.Config.runlocal(), teacher=str(cls.teacher_dir)
        )
        cls.crops = next(iter(style_data.train_dataset(cls.config, seed=0)))
        cls.weights = tf.constant([[1.0, 1.0, 0, 0, 0, 1e-3], [0.3, 0.5, 0.5, 0, 0, 1e-3]])

        # One compiled student (and so one loaded teacher) for every test that trains it or
        # reads it; building a VGG16 is the slow part of each model.
        cls.student = cls.distilled_student()

    @classmethod
    def distilled_student(cls, teacher=None, seed=1):
        """A compiled student with its own initial weights; `teacher` skips loading one."""
        keras.utils.set_random_seed(seed)
        model = style_transfer.build_model(cls.config, seed=seed)
        model._teacher = teacher
        with warnings.catch_warnings():
            # A training dir as teacher warns that it moves; a test of its own says so.
            warnings.simplefilter("ignore", UserWarning)
            model.compile(optimizer=style_transfer.optimizer(cls.config))
        return model

    def test_the_distillation_terms_vanish_when_the_student_is_the_teacher(self):
        student = self.distilled_student(teacher=self.student._teacher, seed=2)
        terms = student.compute_loss_terms(self.crops, None, self.weights, training=True)
        for name in DISTILL_TERMS:
            self.assertTrue(np.all(terms[name].numpy() > 1e-4), f"{name} of an untrained student")
        # The same architecture, so the teacher's checkpoint loads into the student.
        latest = tf.train.latest_checkpoint(str(self.teacher_dir / loading.CHECKPOINT_DIR))
        tf.train.Checkpoint(model=student).restore(latest).expect_partial()
        terms = student.compute_loss_terms(self.crops, None, self.weights, training=True)
        for name in DISTILL_TERMS:
            self.assertAllClose(terms[name], [0.0, 0.0], atol=1e-6, msg=name)
        # So the teacher was fed the student's weights: at others its outputs differ.
        teacher, images = student._teacher.model, tf.cast(self.crops, tf.float32)
        other = tf.constant([[10.0, 0.1, 0, 0, 0, 1e-3], [0.1, 0, 0, 0, 10.0, 1e-3]])
        self.assertNotAllClose(student(images, self.weights), teacher(images, other), atol=1.0)

    def test_gradients_reach_only_the_student_and_a_fit_step_leaves_the_teacher_alone(self):
        student = self.student
        teacher = student._teacher.model
        teacher_ids = {id(v) for v in teacher.weights}
        self.assertFalse(teacher_ids & {id(v) for v in student.trainable_variables})
        self.assertFalse(teacher_ids & {id(v) for v in student.weights})
        with tf.GradientTape(persistent=True) as tape:
            terms = student.compute_loss_terms(self.crops, None, self.weights, training=True)
            distillation = tf.reduce_sum(terms["distill_pixel"] + terms["distill_features"])
        self.assertTrue(all(g is None for g in tape.gradient(distillation, teacher.weights)))
        student_gradients = tape.gradient(distillation, student.trainable_variables)
        self.assertTrue(any(g is not None and tf.reduce_any(g != 0) for g in student_gradients))

        teacher_before = [v.numpy().copy() for v in teacher.weights]
        student_before = [v.numpy().copy() for v in student.trainable_variables]
        history = student.fit(
            style_data.train_dataset(self.config, seed=0), steps_per_epoch=1, epochs=1, verbose=0
        )
        for before, variable in zip(teacher_before, teacher.weights, strict=True):
            self.assertAllEqual(before, variable.numpy(), msg=variable.name)
        moved = [
            not np.array_equal(before, variable.numpy())
            for before, variable in zip(student_before, student.trainable_variables, strict=True)
        ]
        self.assertTrue(all(moved))
        self.assertTrue(set(DISTILL_TERMS) <= set(history.history))
        for name in DISTILL_TERMS:
            self.assertTrue(np.isfinite(history.history[name][0]) and history.history[name][0] > 0)

    def test_a_pixels_only_student_learns_the_teachers_outputs_without_the_loss_network(self):
        config = dataclasses.replace(self.config, distill_only=True)
        keras.utils.set_random_seed(3)
        student = style_transfer.build_model(config, seed=3)
        student._teacher = self.student._teacher
        student.compile(optimizer=keras.optimizers.Adam(1e-2))
        self.assertEqual(student.auxiliary_terms, ("distill_pixel",))
        images = tf.cast(self.crops, tf.float32)
        teacher = student._teacher.model

        def distance():
            return float(
                tf.reduce_mean(
                    tf.abs(student(images, self.weights) - teacher(images, self.weights))
                )
            )

        before = distance()
        dataset = tf.data.Dataset.from_tensors(self.crops).repeat()
        refuse = mock.Mock(side_effect=AssertionError("the loss network ran in training"))
        with mock.patch.object(style_transfer, "loss_features", refuse):
            history = student.fit(dataset, steps_per_epoch=20, epochs=1, verbose=0)
        self.assertEqual(set(history.history), {"distill_pixel"})
        self.assertLess(distance(), before)  # Nearer the teacher at these weights too.
        # Evaluation still measures the YOTO terms, through the loss network.
        results = student.evaluate(self.crops, steps=1, verbose=0, return_dict=True)
        self.assertEqual(set(results), {"loss", *style_config.TERM_NAMES})

    def test_pixels_only_distillation_needs_a_teacher_and_the_pixel_term(self):
        with self.assertRaisesRegex(ValueError, "distill_only .* needs teacher="):
            style_config.Config(distill_only=True)
        with self.assertRaisesRegex(ValueError, "distill_pixel > 0"):
            dataclasses.replace(self.config, distill_only=True, distill_pixel=0.0)

    def test_the_student_exports_and_snapshots_without_its_teacher(self):
        # The teacher is a plain model of the same config: the student holds only more trackers.
        plain = snapshots.checkpoint_values(self.student._teacher.model)
        ours = snapshots.checkpoint_values(self.student)
        # The optimizer's own state comes along once the student has trained (snapshots
        # write a model without it, from a restored checkpoint).
        extra = {key for key in set(ours) - set(plain) if not key.startswith("model/optimizer/")}
        self.assertEqual({key.split("/")[2] for key in extra}, set(DISTILL_TERMS))
        version_dir = export_lib.export_model(
            "style_transfer", self.student, pathlib.Path(tempfile.mkdtemp()), "student"
        )
        loaded = tf.saved_model.load(str(version_dir))
        terms = loaded.signatures["loss_terms"](
            images=tf.cast(self.crops, tf.uint8), loss_weights=self.weights[:, :5]
        )
        self.assertEqual(set(terms), set(style_config.TERM_NAMES))
        inputs = loaded.signatures["stylize"].structured_input_signature[1]
        self.assertEqual(set(inputs), {"images", "loss_weights"})

    def test_evaluation_leaves_the_distillation_terms_out(self):
        terms = self.student.compute_loss_terms(self.crops, None, self.weights, training=False)
        self.assertEqual(set(terms), set(style_config.TERM_NAMES))
        results = self.student.evaluate(self.crops, steps=1, verbose=0, return_dict=True)
        self.assertEqual(set(results), {"loss", *style_config.TERM_NAMES})

    def test_only_the_weighted_terms_are_trained_on_without_a_teacher_or_with_zero_weights(self):
        self.assertEqual(self.student.auxiliary_terms, DISTILL_TERMS)
        self.assertEqual(style_config.Config().distill_terms(), ())
        config = dataclasses.replace(self.config, distill_pixel=0.0)
        self.assertEqual(config.distill_terms(), ("distill_features",))

    def test_a_missing_teacher_is_refused_naming_the_field(self):
        config = dataclasses.replace(self.config, teacher="/no/such/teacher")
        model = style_transfer.build_model(config)  # Building needs no teacher...
        with self.assertRaisesRegex(ValueError, r"teacher='/no/such/teacher' cannot be loaded"):
            model.compile(optimizer=style_transfer.optimizer(config))  # ...training does.

    def test_a_teacher_of_other_styles_or_weight_ranges_is_refused(self):
        styles = dataclasses.replace(self.config, styles=("retina", "grass", "gravel", "brick"))
        with self.assertRaisesRegex(ValueError, "trained with styles=.*not targets"):
            style_transfer.load_teacher(styles, self.student)
        # The student's own sampler says its ranges: beyond the teacher's is refused...
        ranges = dataclasses.replace(self.config, content_high=20.0)
        student = types.SimpleNamespace(weight_sampler=ranges.weight_sampler())
        with self.assertRaisesRegex(ValueError, "weight ranges.*cannot answer"):
            style_transfer.load_teacher(ranges, student)
        # ...inside it, a narrower range or one fixed weight vector, is taught.
        for inside in (
            dataclasses.replace(self.config, content_high=5.0),
            dataclasses.replace(self.config, fixed_weights=(1.0, 0.0, 2.0, 0.0, 0.0)),
        ):
            student = types.SimpleNamespace(weight_sampler=inside.weight_sampler())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.assertIsNotNone(style_transfer.load_teacher(inside, student))
        outside = dataclasses.replace(self.config, fixed_weights=(30.0, 0.0, 2.0, 0.0, 0.0))
        student = types.SimpleNamespace(weight_sampler=outside.weight_sampler())
        with self.assertRaisesRegex(ValueError, "weight ranges.*cannot answer"):
            style_transfer.load_teacher(outside, student)

    def test_a_teacher_of_another_task_is_refused(self):
        root = pathlib.Path(tempfile.mkdtemp())
        train_lib.train("beta_vae", root, steps=1, runlocal=True, verbose=0)
        with self.assertRaisesRegex(ValueError, "holds a beta_vae model, not style transfer"):
            style_transfer.load_teacher(
                dataclasses.replace(self.config, teacher=str(root)), self.student
            )

    def test_negative_distillation_weights_are_refused(self):
        with self.assertRaisesRegex(ValueError, "distill_pixel must be a finite number >= 0"):
            style_config.Config(distill_pixel=-1.0)

    def test_a_training_dir_as_teacher_warns_that_it_moves_while_it_trains(self):
        with self.assertWarnsRegex(UserWarning, "latest checkpoint.*snapshot"):
            style_transfer.load_teacher(self.config, self.student)

    def test_a_distilled_run_restores_and_stylizes_after_its_teacher_is_gone(self):
        from zoo.style_transfer import stylizer

        root = pathlib.Path(tempfile.mkdtemp())
        shutil.copytree(self.teacher_dir, root / "teacher")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            train_lib.train(
                "style_transfer",
                root / "student",
                steps=1,
                config_overrides={"teacher": str(root / "teacher")},
                runlocal=True,
                verbose=0,
            )
        shutil.rmtree(root / "teacher")
        _, config, _ = loading.restore_model(root / "student")
        self.assertEqual(config.teacher, str(root / "teacher"))  # Recorded, not needed.
        image = style_data.evaluation_images(1, size=32)[0]
        stylized = stylizer.Stylizer.load(root / "student").stylize(image, [1, 1, 0, 0, 0])
        self.assertEqual(stylized.shape, (32, 32, 3))
