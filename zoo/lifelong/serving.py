"""Serving signatures of a lifelong classifier: every task learned so far, by a task id input."""

from __future__ import annotations

import tensorflow as tf

from zoo import serving_inputs, serving_module

# TF Serving batching for this servable (`batching_params.pbtxt`): one fixed image shape
# and one task id per example, so requests for any mix of tasks merge into one batch.
BATCHING_PARAMETERS = {
    "max_batch_size": 256,
    "batch_timeout_micros": 1000,
    "max_enqueued_batches": 100,
    "num_batch_threads": 2,
    "pad_variable_length_inputs": False,
}


class LifelongServing(serving_module.ServingModule):
    """The lifelong classifier's serving surface.

    * `classify(images [N, 28, 28, 1] float32 in [0, 1], task_id int64 [N])` ->
      `probabilities [N, K]` (K: the largest class count of any task; a task's classes
      beyond its own count have probability 0), `class_id [N]` int64 (the class within
      the example's task) and `num_classes [N]` int64; also `serving_default`.

    A task id the model has not learned fails the request with INVALID_ARGUMENT naming
    `task_id` and the tasks it has. Each version serves every task learned up to its
    export; adding a task and exporting again writes the next version, in which the older
    tasks' answers are the same.
    """

    def __init__(self, model):
        super().__init__(model, name="lifelong_serving")
        self.tasks = list(zip(model.task_names, model.task_classes, strict=True))
        image_spec = tf.TensorSpec(None, tf.float32, name="images")
        task_spec = tf.TensorSpec(None, tf.int64, name="task_id")
        self.classify = tf.function(self._classify, input_signature=[image_spec, task_spec])

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        concrete = self.classify.get_concrete_function()
        return {"serving_default": concrete, "classify": concrete}

    def batching_parameters(self) -> dict:
        """TF Serving's per-model batching settings for this servable."""
        return dict(BATCHING_PARAMETERS)

    def extra_metadata(self) -> dict:
        """The tasks this version serves, by task id, for `yoto_metadata.json`."""
        return {
            "tasks": [
                {"task_id": i, "name": name, "num_classes": count}
                for i, (name, count) in enumerate(self.tasks)
            ],
            "image_shape": list(self.model.image_shape),
        }

    def _check_task_id(self, task_id):
        task_id = serving_inputs.check_shape("task_id", task_id, ["N"])
        known = ", ".join(f"{i} ({name})" for i, (name, _) in enumerate(self.tasks))
        return serving_inputs.in_order(
            task_id,
            [
                lambda t: tf.debugging.assert_greater(
                    tf.size(t), 0, message="task_id is empty: send one task id per image"
                ),
                # Checked here, not left to the model's gathers: an id past the last task
                # would fail there with an index error that does not name the input, and a
                # GPU gather returns zeros for it instead of failing.
                lambda t: tf.debugging.Assert(
                    tf.reduce_all((t >= 0) & (t < len(self.tasks))),
                    [f"task_id must be a task this model has learned: {known}; got", t],
                ),
            ],
        )

    def _classify(self, images, task_id):
        task_id = self._check_task_id(task_id)
        images = serving_inputs.check_images(
            "images",
            images,
            self.model.image_shape,
            batch_size_of=task_id,
            batch_message="images and task_id need the same batch size (one task id per image)",
        )
        logits = self.model({"images": images, "task_id": task_id}, training=False)
        counts = tf.gather(tf.constant([c for _, c in self.tasks], tf.int64), task_id)
        return {
            "probabilities": tf.nn.softmax(logits),
            "class_id": tf.argmax(logits, axis=-1),
            "num_classes": counts,
        }

    def warmup_inputs(self) -> dict:
        """Valid inputs of two examples (the first and the last task) for every signature."""
        inputs = {
            "images": tf.zeros([2, *self.model.image_shape], tf.float32),
            "task_id": tf.constant([0, len(self.tasks) - 1], tf.int64),
        }
        return {"serving_default": inputs, "classify": inputs}
