"""`EpochValidation` gives the validation numbers `model.evaluate` gives, every epoch."""

import keras
import numpy as np
import pytest

from sensorlm_keras.training.epoch_validation import EpochValidation
from tests.core.helpers import random_batch, tiny_model


def test_val_logs_equal_evaluate_after_each_epoch():
    keras.utils.set_random_seed(0)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    train, val = random_batch(16, seed=1), random_batch(8, seed=2)
    after_epoch = []

    class Reference(keras.callbacks.Callback):  # runs after EpochValidation, same weights
        def on_epoch_end(self, epoch, logs=None):
            after_epoch.append(self.model.evaluate(val, batch_size=8, verbose=0,
                                                   return_dict=True)["loss"])

    calls = []

    def make_dataset():
        calls.append(1)
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices(val).batch(8)

    history = model.fit(train, batch_size=8, epochs=3, verbose=0,
                        callbacks=[EpochValidation(make_dataset), Reference()])
    assert len(calls) == 3  # a fresh dataset for every epoch
    np.testing.assert_allclose(history.history["val_loss"], after_epoch, rtol=1e-5)
    assert "val_loss" in history.history and len(history.history["val_loss"]) == 3


def test_make_dataset_must_be_callable():
    with pytest.raises(TypeError, match="expected a callable returning a dataset"):
        EpochValidation([1, 2, 3])


def test_known_steps_end_the_evaluation_without_keras_ran_out_of_data_warning():
    """A dataset of unknown length (a TFRecord pipeline) read to its end makes Keras warn
    "Your input ran out of data; interrupting training" after every epoch; with ``steps``
    the evaluation stops at the last batch, gives the same loss and warns nothing."""
    import warnings

    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    val = random_batch(8, seed=2)

    def make_dataset():  # filter(): TensorFlow no longer knows the length
        return tf.data.Dataset.from_tensor_slices(val).filter(lambda x: True).batch(4)

    logs = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unknown = EpochValidation(make_dataset)
        unknown.set_model(model)
        unknown.on_epoch_end(0, logs)
    assert any("ran out of data" in str(w.message) for w in caught)  # what steps avoids
    known_logs = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        known = EpochValidation(make_dataset, steps=2)
        known.set_model(model)
        known.on_epoch_end(0, known_logs)
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    np.testing.assert_allclose(known_logs["val_loss"], logs["val_loss"], rtol=1e-6)


@pytest.mark.parametrize("steps", [0, -1, 2.5, True, "3"])
def test_steps_must_be_a_positive_int(steps):
    with pytest.raises(ValueError, match="EpochValidation\\(steps\\)"):
        EpochValidation(lambda: None, steps=steps)
