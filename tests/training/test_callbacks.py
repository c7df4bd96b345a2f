"""The NaN guard stops at the first non-finite loss; backups and checkpoints skip NaN epochs."""

import math
import os

import keras

from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore
from sensorlm_keras.training.non_finite_loss_guard import NonFiniteLossGuard
from sensorlm_keras.training.periodic_checkpoint import PeriodicCheckpoint
from tests.core.helpers import random_batch, tiny_model


def _compiled_model():
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    model.train_on_batch(random_batch(4))  # one real step: optimizer.iterations == 1
    return model


def test_guard_stops_and_names_the_step():
    model = _compiled_model()
    guard = NonFiniteLossGuard()
    guard.set_model(model)
    guard.on_train_batch_end(0, {"loss": 1.5})
    assert guard.failed_step is None and not model.stop_training
    guard.on_train_batch_end(1, {"loss": math.nan})
    assert model.stop_training and guard.failed_step == 1 and math.isnan(guard.failed_loss)


def test_backup_and_checkpoint_are_not_written_for_a_nan_epoch(tmp_path):
    model = _compiled_model()
    backup = AtomicBackupAndRestore(str(tmp_path / "backup"), verbose=0)
    checkpoints = PeriodicCheckpoint(str(tmp_path / "ckpt"))
    for callback in (backup, checkpoints):
        callback.set_model(model)
    backup.on_epoch_end(0, {"loss": 2.0})
    checkpoints.on_epoch_end(0, {"loss": 2.0})
    weights = os.path.join(backup.backup_dir, "latest.weights.h5")
    stamp = os.path.getmtime(weights)
    assert len(os.listdir(tmp_path / "ckpt")) == 1
    backup.on_epoch_end(1, {"loss": math.inf})
    checkpoints.on_epoch_end(1, {"loss": math.nan})
    assert os.path.getmtime(weights) == stamp  # the last good backup is kept
    assert len(os.listdir(tmp_path / "ckpt")) == 1
    assert not [n for n in os.listdir(backup.backup_dir) if n.startswith(".tmp-")]
