"""`NonFiniteLossGuard`: stop training at the first NaN/Inf loss and say where."""

import math

import keras


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stop `fit` at the first non-finite batch loss and remember the optimizer step.

    After `fit` returns, ``guard.failed_step`` is the step (1-based count of optimizer updates
    including the failing one) or None. The training driver turns it into an error that names
    the step and the last good checkpoint.

    Example:

    ```python
    guard = NonFiniteLossGuard()
    model.fit(ds, epochs=3, callbacks=[guard])
    if guard.failed_step is not None:
        print("diverged at step", guard.failed_step)
    ```
    """

    def __init__(self):
        super().__init__()
        self.failed_step = None
        self.failed_loss = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if not math.isfinite(loss):
            self.failed_step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self.failed_loss = loss
            self.model.stop_training = True
