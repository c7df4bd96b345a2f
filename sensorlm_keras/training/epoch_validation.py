"""`EpochValidation`: validation loss and metrics at the end of every epoch, on a fresh
iterator each time."""

import keras


class EpochValidation(keras.callbacks.Callback):
    """Evaluate a validation dataset after every epoch and add ``val_<name>`` to the logs.

    What `model.fit(validation_data=...)` does, with one difference that matters for speed:
    Keras caches the validation iterator across epochs, and on TensorFlow re-using it from
    the second epoch on stalled training by 13-60 s per epoch with this project's TFRecord
    pipeline (measured: the time grew with the epoch's length; docs/learning.md, "Where the
    time goes"). This callback builds a new dataset for every evaluation and reads it to its
    end, which costs the evaluation itself (about a second here) and nothing more.

    Put it before callbacks that read the validation logs (TensorBoard, checkpoints): they
    receive the same logs dict.

    Args:
        make_dataset: callable returning the (finite) validation ``tf.data.Dataset``.
        steps: batches per evaluation when known (the dataset's length). A TFRecord
            pipeline's length is unknown to Keras, which then ends every evaluation with the
            misleading warning "Your input ran out of data; interrupting training"; giving
            ``steps`` avoids it. None reads the dataset to its end.

    Example:

    ```python
    validation = EpochValidation(lambda: make_dataset("data/validation", tokenizer, 32))
    model.fit(train_ds, epochs=4, steps_per_epoch=500, callbacks=[validation])
    ```
    """

    def __init__(self, make_dataset, steps=None):
        super().__init__()
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):
            raise ValueError(f"EpochValidation(steps): expected None or an int >= 1, "
                             f"received {steps!r}.")
        self.steps = steps
        if not callable(make_dataset):
            raise TypeError(
                f"EpochValidation(make_dataset): expected a callable returning a dataset, "
                f"received {type(make_dataset).__name__}."
            )
        self.make_dataset = make_dataset

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        results = self.model.evaluate(self.make_dataset(), steps=self.steps, verbose=0,
                                      return_dict=True)
        logs.update({f"val_{name}": value for name, value in results.items()})
