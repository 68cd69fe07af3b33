"""Runs a SavedModel's signatures the way TF Serving's ModelServer does, and checks it can batch.

The ModelServer loads a SavedModel into a TF1 Session and runs a signature with
`Session::Run`, feeding the request's tensors by the signature's tensor names:
nothing compares their shapes with the signature's, and only the session checks
dtypes. `SessionBundle.run` does the same through the session's C API call, so
no Python-side check runs either, and errors carry the session's own messages
(`Expects arg[1] to be float but double is provided`). The TF Serving test double
(`tests/serving_double.py`) runs every request this way.
"""

from __future__ import annotations

import pathlib

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from export import layout

# The SavedModel's own init signature, which no request names.
INIT_SIGNATURE = "__saved_model_init_op"


class SessionBundle:
    """A SavedModel version directory in a `tf.compat.v1.Session`, as the ModelServer loads it."""

    def __init__(self, saved_model_dir):
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            self.meta_graph = tf.compat.v1.saved_model.loader.load(
                self.session, [tf.saved_model.SERVING], str(saved_model_dir)
            )

    def signature_names(self) -> list[str]:
        """The signatures a request can name."""
        return sorted(name for name in self.meta_graph.signature_def if name != INIT_SIGNATURE)

    def run_tensors(
        self, feeds, fetches: list[str], timeout_in_ms: int | None = None
    ) -> list[np.ndarray]:
        """`Session::Run` with `{tensor name: array}` feeds; raises `tf.errors.OpError`.

        `timeout_in_ms` goes into `RunOptions`, as the ModelServer sets it from a request's
        deadline: a run that takes longer is cancelled with DEADLINE_EXCEEDED.
        """
        feed_dict = {
            self.graph.get_tensor_by_name(name)._as_tf_output(): value  # noqa: SLF001
            for name, value in feeds.items()
        }
        fetch_list = [
            self.graph.get_tensor_by_name(name)._as_tf_output()  # noqa: SLF001
            for name in fetches
        ]
        if timeout_in_ms is None:
            return self.session._call_tf_sessionrun(None, feed_dict, fetch_list, [], None)  # noqa: SLF001
        from tensorflow.core.protobuf import config_pb2
        from tensorflow.python.client import pywrap_tf_session

        options = config_pb2.RunOptions(timeout_in_ms=max(1, int(timeout_in_ms)))
        buffer = pywrap_tf_session.TF_NewBufferFromString(options.SerializeToString())
        try:
            return self.session._call_tf_sessionrun(buffer, feed_dict, fetch_list, [], None)  # noqa: SLF001
        finally:
            pywrap_tf_session.TF_DeleteBuffer(buffer)

    def run(self, signature_name: str, inputs) -> dict[str, np.ndarray]:
        """Runs a signature on `{alias: array}`; raises the session's `tf.errors.OpError`."""
        signature = self.meta_graph.signature_def[signature_name]
        outputs = sorted(signature.outputs)
        feeds = {signature.inputs[alias].name: np.asarray(v) for alias, v in inputs.items()}
        values = self.run_tensors(feeds, [signature.outputs[alias].name for alias in outputs])
        return dict(zip(outputs, values, strict=True))

    def close(self):
        """Releases the session."""
        self.session.close()


def warmup_requests(saved_model_dir) -> list[tuple[str, dict[str, np.ndarray]]]:
    """`(signature name, inputs)` of every PredictRequest in the version's warmup file."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / layout.WARMUP_FILE
    requests = []
    for record in tf.data.TFRecordDataset(str(path)):
        request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        inputs = {alias: tf.make_ndarray(proto) for alias, proto in request.inputs.items()}
        requests.append((request.model_spec.signature_name, inputs))
    return requests


class BatchingRulesTests:
    """Tests that a servable satisfies TF Serving's batching rules, for a TestCase to mix in.

    With `--enable_batching` every signature is batched: every input needs a
    dimension 0 of the same size N, and every output a dimension 0 of size N.
    The TestCase sets `servable_dirs`, the version directories to check.
    """

    servable_dirs: tuple = ()

    def test_every_signature_keeps_dimension_0_for_one_and_two_examples(self):
        for saved_model_dir in self.servable_dirs:
            bundle = SessionBundle(saved_model_dir)
            for signature_name, inputs in warmup_requests(saved_model_dir):
                for count in (1, 2):
                    with self.subTest(
                        servable=pathlib.Path(saved_model_dir).parent.name,
                        signature=signature_name,
                        examples=count,
                    ):
                        batch = {alias: value[:count] for alias, value in inputs.items()}
                        outputs = bundle.run(signature_name, batch)
                        self.assertNotEmpty(batch)
                        for alias, value in {**batch, **outputs}.items():
                            self.assertGreaterEqual(np.ndim(value), 1, alias)
                            self.assertEqual(np.shape(value)[0], count, alias)
            bundle.close()

    def test_the_warmup_file_holds_one_request_per_signature(self):
        for saved_model_dir in self.servable_dirs:
            with self.subTest(servable=pathlib.Path(saved_model_dir).parent.name):
                names = [name for name, _ in warmup_requests(saved_model_dir)]
                bundle = SessionBundle(saved_model_dir)
                self.assertCountEqual(names, bundle.signature_names())
                bundle.close()
