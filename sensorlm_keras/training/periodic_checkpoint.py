"""`PeriodicCheckpoint`: keep the last K full `.keras` checkpoints, written atomically."""

import glob
import math
import os

import keras


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Save ``<directory>/step-<optimizer step>.keras`` every ``every_epochs`` epochs.

    Each file is written under a temporary name and renamed; only the newest ``keep`` files are
    kept; a checkpoint is never written for an epoch whose loss is NaN/Inf.

    Args:
        directory: checkpoint directory.
        every_epochs: int, save frequency in epochs.
        keep: int, number of checkpoints kept.
        write: keep the checkpoints; False (non-chief workers) saves into a private
            temporary file and deletes it, taking part in the save without writing here.

    Example:

    ```python
    model.fit(ds, epochs=10, steps_per_epoch=100,
              callbacks=[PeriodicCheckpoint("runs/x/checkpoints", every_epochs=2)])
    ```
    """

    def __init__(self, directory, every_epochs=1, keep=3, write=True):
        super().__init__()
        self.write = bool(write)
        self.directory = directory
        self.every_epochs = max(int(every_epochs), 1)
        self.keep = max(int(keep), 1)
        self.saved = []

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            return
        if (epoch + 1) % self.every_epochs:
            return
        if not self.write:
            from sensorlm_keras.training.atomic_backup_and_restore import discard_save

            discard_save(self.model.save, ".keras")
            return
        os.makedirs(self.directory, exist_ok=True)
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        final = os.path.join(self.directory, f"step-{step:08d}.keras")
        tmp = os.path.join(self.directory, f".tmp-{os.getpid()}.keras")
        try:
            self.model.save(tmp)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        self.saved.append(final)
        existing = sorted(glob.glob(os.path.join(self.directory, "step-*.keras")))
        for old in existing[: -self.keep]:
            os.remove(old)
