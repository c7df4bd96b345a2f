"""`AtomicBackupAndRestore`: Keras' BackupAndRestore with atomic writes and a NaN guard."""

import json
import os

import keras

from sensorlm_keras.utils.atomic_io import fsync_path
from sensorlm_keras.errors import DataError


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Back up weights + optimizer state so a killed run resumes where it stopped.

    Same contract as `keras.callbacks.BackupAndRestore` (restores on `fit` start, sets the
    initial epoch, deletes the backup when training ends normally), with these changes:

    - the weights file and the metadata are written under temporary names and renamed into
      place, so a kill mid-write never leaves a half-written backup under the final name (the
      previous backup stays valid);
    - a backup is never written when the epoch's loss is NaN/Inf, so the last backup is always a
      good one;
    - the step counter (``optimizer.iterations``) is recorded and reported on restore;
    - a run stopped by a NaN/Inf loss keeps its backup (Keras deletes it at the end of every
      ``fit``), so the same command resumes from the last good state;
    - a corrupt or truncated backup (weights or metadata) falls back to the previous one with a
      notice; if both are unusable, `DataError` names the files and the cause;
    - ``write=False`` (non-chief workers of a multi-worker run) restores from the backup but
      never writes, moves or deletes it (its saves go to a private temporary file that is
      deleted: every process takes part in a save);
    - `restore` restores before `fit` and returns the step, so that the caller can start the
      data stream where the interrupted run stopped (``dataset.skip(step)``); `fit` then does
      not restore a second time.

    Args:
        backup_dir: directory of the backup.
        save_freq: ``"epoch"`` (default) or an int number of batches.
        delete_checkpoint: delete the backup after training ends normally.
        verbose: print resume and skipped-backup notices.
        write: write (and at the end delete) backups; False only restores.

    Example:

    ```python
    from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore

    model.fit(ds, epochs=10, steps_per_epoch=100,
              callbacks=[AtomicBackupAndRestore("runs/x/backup")])
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, verbose=1,
                 write=True):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=delete_checkpoint)
        self.verbose = verbose
        self.write = bool(write)
        self.restored_step = None
        self._last_logs = None
        self._saw_non_finite_loss = False
        self._restored_before_fit = False

    def restore(self, model):
        """Restore ``model`` (built and compiled) from the backup now, before `fit`.

        Returns the optimizer step of the backup (0 when there is none): the number of batches
        the interrupted run consumed, which the caller skips in its data stream so that the
        resumed run sees the batches the uninterrupted one would have seen.
        """
        self.set_model(model)
        self._restore()
        self._restored_before_fit = True
        return self.restored_step or 0

    def on_train_begin(self, logs=None):
        self._saw_non_finite_loss = False
        if self._restored_before_fit:  # done by restore(); model._initial_epoch is set
            self._restored_before_fit = False
            return
        self._restore()

    def _restore(self):
        has_backup = os.path.exists(self._weights_path) or os.path.exists(
            self._training_metadata_path
        )
        if not has_backup or not self.model.built:
            self._load_model()  # nothing to restore, or Keras' own "build the model" error
            return
        try:
            self._load_model()
            return
        except Exception as error:  # h5py OSError, JSON errors, shape mismatches, ...
            first = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        if not os.path.exists(self._prev_weights_path):
            raise DataError(
                f"backup {self._weights_path} (or its metadata {self._training_metadata_path}) is "
                f"corrupt or unreadable ({first}) and there is no previous backup to fall back "
                f"to; delete {self.backup_dir} to start the run over."
            ) from None
        print(
            f"Backup {self._weights_path} is corrupt or unreadable ({first}); resuming from the "
            f"previous backup {self._prev_weights_path}.",
            flush=True,
        )
        if not self.write:  # read the previous backup where it lies; the chief repairs
            self._weights_path = self._prev_weights_path
            self._training_metadata_path = self._prev_training_metadata_path
        for src, dst in ((self._prev_weights_path, self._weights_path),
                         (self._prev_training_metadata_path, self._training_metadata_path)):
            if src == dst:
                continue
            if os.path.exists(src):
                tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}-restore")
                with open(src, "rb") as fin, open(tmp, "wb") as fout:
                    fout.write(fin.read())
                os.replace(tmp, dst)
            elif os.path.exists(dst):
                os.remove(dst)
        try:
            self._load_model()
        except Exception as error:
            raise DataError(
                f"backups {self._weights_path} and {self._prev_weights_path} are both corrupt or "
                f"unreadable ({type(error).__name__}: {' '.join(str(error).split())[:300]}); "
                f"delete {self.backup_dir} to start the run over."
            ) from None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not _finite(loss):
            self._saw_non_finite_loss = True
        super().on_train_batch_end(batch, logs)

    def on_train_end(self, logs=None):
        if not self.write:
            return
        if self._saw_non_finite_loss:
            if self.verbose:
                print(
                    f"Training stopped on a non-finite loss: keeping the last good backup in "
                    f"{self.backup_dir}.",
                    flush=True,
                )
            return
        super().on_train_end(logs)

    def _load_model(self):
        super()._load_model()
        if os.path.exists(self._weights_path) and self.model.optimizer is not None:
            self.restored_step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            if self.verbose:
                print(
                    f"Resuming from backup {self.backup_dir}: epoch {self.model._initial_epoch}, "
                    f"optimizer step {self.restored_step}.",
                    flush=True,
                )

    def on_epoch_end(self, epoch, logs=None):
        self._last_logs = logs
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        if not self.write:
            # A non-chief worker still takes part in the save (fetching sharded JAX arrays
            # can be a collective every process must join) but keeps nothing.
            discard_save(self.model.save_weights, ".weights.h5")
            return
        logs = self._last_logs or {}
        loss = logs.get("loss")
        if loss is not None and not _finite(loss):
            if self.verbose:
                print(
                    f"Not backing up epoch {self._current_epoch}: loss is {loss}; the last "
                    "backup is kept.",
                    flush=True,
                )
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights_tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}.weights.h5")
        meta_tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}.json")
        try:
            self.model.save_weights(weights_tmp, overwrite=True)
            fsync_path(weights_tmp)
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            with open(meta_tmp, "w", encoding="utf-8") as f:
                json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen,
                           "step": step}, f)
                f.flush()
                os.fsync(f.fileno())
            if os.path.exists(self._weights_path):
                os.replace(self._weights_path, self._prev_weights_path)
            if os.path.exists(self._training_metadata_path):
                os.replace(self._training_metadata_path, self._prev_training_metadata_path)
            os.replace(weights_tmp, self._weights_path)
            os.replace(meta_tmp, self._training_metadata_path)
        finally:
            for path in (weights_tmp, meta_tmp):
                if os.path.exists(path):
                    os.remove(path)


def discard_save(save, suffix):
    """Run ``save(path)`` into a private temporary file and delete it (non-chief workers)."""
    import tempfile

    directory = tempfile.mkdtemp(prefix="sensorlm-worker-")
    try:
        save(os.path.join(directory, "discarded" + suffix))
    finally:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


def _finite(value):
    try:
        import math

        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True

