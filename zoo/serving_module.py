"""The base of every task's serving module: the model's variables saved, not its Keras layers.

`tf.saved_model.save` of a module that holds a Keras model as an attribute also
serializes the model as a Keras object, tracing every layer's `call` into functions that
no signature uses (experiments/README.md measures the cost). A servable needs only the
signatures and the variables they read, so the module keeps the model as a plain
attribute and tracks its variables alone.
"""

import tensorflow as tf


class ServingModule(tf.Module):
    """A `tf.Module` whose SavedModel holds `model`'s variables but not the Keras model.

    `self.model` is the model, for the signatures to call; `self.model_variables` is what
    the SavedModel stores: the variables `model` has when this is constructed, so a
    subclass builds whatever the model still lacks (a codec's coding tables) first.
    Variables a subclass creates itself are tracked as usual.
    """

    def __init__(self, model, name=None):
        super().__init__(name=name)
        # Past tf.Module's attribute tracking: the model is not a child of the SavedModel.
        object.__setattr__(self, "model", model)
        self.model_variables = list(model.variables)
