"""One shared check for every yoto_tf layer, in the spirit of keras-hub's test_case.py."""

import tensorflow as tf

keras = tf.keras


class LayerTestCase(tf.test.TestCase):
    """Adds `run_layer_test`: config round trip, eager and symbolic calls, a fit step."""

    def run_layer_test(self, make_layer, inputs, expected_shape):
        """Checks `make_layer()` on `inputs` (a tensor or a list of positional tensors)."""
        inputs = inputs if isinstance(inputs, list) else [inputs]
        layer = make_layer()
        eager = layer(*inputs)
        self.assertEqual(tuple(eager.shape), tuple(expected_shape))

        with self.subTest("config_round_trip"):
            rebuilt = type(layer).from_config(layer.get_config())
            self.assertEqual(rebuilt.get_config(), layer.get_config())
            rebuilt(*inputs)
            rebuilt.set_weights(layer.get_weights())
            self.assertAllClose(rebuilt(*inputs), eager)

        with self.subTest("serialize_by_registered_name"):
            restored = keras.layers.deserialize(keras.layers.serialize(layer))
            self.assertIsInstance(restored, type(layer))

        with self.subTest("symbolic_call_in_a_functional_model"):
            symbolic = [keras.Input(shape=t.shape[1:]) for t in inputs]
            model = keras.Model(symbolic, make_layer()(*symbolic))
            self.assertEqual(tuple(model(inputs).shape), tuple(expected_shape))

        with self.subTest("one_fit_step_changes_every_weight"):
            symbolic = [keras.Input(shape=t.shape[1:]) for t in inputs]
            fitted_layer = make_layer()
            model = keras.Model(symbolic, fitted_layer(*symbolic))
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
            before = [w.numpy().copy() for w in fitted_layer.trainable_weights]
            target = tf.random.stateless_normal(expected_shape, seed=[1, 2])
            model.fit(inputs, target, batch_size=len(inputs[0]), epochs=1, verbose=0)
            for old, new in zip(before, fitted_layer.trainable_weights, strict=True):
                self.assertNotAllClose(old, new.numpy())
