"""Faults: SIGKILL mid-write, disk full, corrupt checkpoints and backups, NaN mid-training.

After each fault nothing half-written carries a final name, the previous good state is intact and
usable, and the error says what happened. (SIGKILL during ``sensorlm train`` and the resume from
the last backup are proven end to end by tests/training/test_train_resume.py.)
"""

import errno
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from sensorlm_keras.errors import ConfigError, DataError
from tests.core.helpers import random_batch, tiny_model

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _final_names(directory):
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


# ------------------------------------------------------------------------------ SIGKILL
@pytest.mark.slow
def test_sigkill_during_tfrecord_writing_leaves_nothing_under_a_final_name(tmp_path):
    from sensorlm_keras.data import TFRecordDatasetWriter, read_examples, resolve_shards

    stream, before = tmp_path / "stream", tmp_path / "before_manifest"
    procs = {
        d: subprocess.Popen([sys.executable, str(HERE / "_kill_writer.py"), str(d), d.name],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
        for d in (stream, before)
    }
    # Kill the streaming writer once it has flushed real bytes into its temporary shards.
    deadline = time.time() + 120
    while time.time() < deadline and procs[stream].poll() is None:
        temps = [p for p in stream.glob(".*.tmp-*")] if stream.exists() else []
        if temps and sum(p.stat().st_size for p in temps) > 1_000_000:
            break
        time.sleep(0.05)
    assert procs[stream].poll() is None, procs[stream].communicate()[1][-3000:]
    procs[stream].send_signal(signal.SIGKILL)
    for proc in procs.values():
        proc.wait(timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-3000:]

    # Killed mid-write: only hidden temporaries (and the in-progress marker), no shard, no manifest.
    assert _final_names(stream) == []
    # Killed after the shards were renamed, before the manifest: readers refuse the directory.
    assert sorted(_final_names(before)) == ["train-00000-of-00002.tfrecord",
                                            "train-00001-of-00002.tfrecord"]
    for directory in (stream, before):
        with pytest.raises(DataError, match="incomplete: a write was interrupted"):
            resolve_shards(str(directory))
        with pytest.raises(DataError, match="incomplete"):
            list(read_examples(str(directory)))

    # Writing again works and cleans up the dead writer's temporaries.
    with TFRecordDatasetWriter(stream, [f"c{i}" for i in range(4)], num_shards=1, salt="s",
                               caption_variants=["high_summary"]) as writer:
        writer.write(np.zeros((1440, 4), np.float32), np.zeros((1440, 4), bool), 0.0,
                     {"high_summary": "a day"}, person_id="p", day_index=0)
    assert sorted(os.listdir(stream)) == ["manifest.json", "train-00000-of-00001.tfrecord.gz"]
    assert len(list(read_examples(str(stream)))) == 1


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from tests.run_fixtures import make_tiny_run

    root = tmp_path_factory.mktemp("faults_run")
    make_tiny_run(root / "run", num_people=2, days_per_person=2, fit_steps=1)
    return root / "run"


@pytest.mark.slow
def test_sigkill_during_export_leaves_no_version_and_export_works_again(tiny_run, tmp_path):
    from sensorlm_keras.export import export_saved_model, next_version

    out = tmp_path / "saved_models"
    model_dir = out / "sensorlm"
    code = ("import sys; from sensorlm_keras.export import export_saved_model; "
            "export_saved_model(sys.argv[1], sys.argv[2])")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tiny_run), str(out)], cwd=ROOT,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if model_dir.exists() and list(model_dir.glob(".tmp-export-*")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the export finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    leftovers = sorted(os.listdir(model_dir))
    assert leftovers and all(n.startswith(".tmp-") for n in leftovers), leftovers
    assert next_version(out) == 1  # no version directory exists

    result = export_saved_model(tiny_run, out)
    assert result.version == 1
    assert sorted(os.listdir(model_dir)) == ["1"]  # the dead export's temporaries are gone
    assert os.path.isfile(os.path.join(result.path, "saved_model.pb"))


# ------------------------------------------------------------------------------ disk full
def test_disk_full_on_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    from sensorlm_keras.utils.atomic_io import atomic_write_text

    target = tmp_path / "manifest.json"
    atomic_write_text(target, "old")
    monkeypatch.setattr(os, "fsync", _enospc)
    with pytest.raises(OSError) as info:
        atomic_write_text(target, "new content")
    assert info.value.errno == errno.ENOSPC and "No space left" in str(info.value)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["manifest.json"]


def test_disk_full_while_finishing_tfrecords(tmp_path, monkeypatch):
    from sensorlm_keras.data import TFRecordDatasetWriter, tfrecord_writer

    out = tmp_path / "ds"
    writer = TFRecordDatasetWriter(out, ["a", "b"], num_shards=2, salt="s",
                                   caption_variants=["high_summary"])
    for i in range(3):
        writer.write(np.zeros((1440, 2), np.float32), np.zeros((1440, 2), bool), 0.0,
                     {"high_summary": "x"}, person_id=f"p{i}", day_index=i)
    monkeypatch.setattr(tfrecord_writer, "fsync_path", _enospc)
    with pytest.raises(OSError, match="No space left on device"):
        writer.close()
    assert os.listdir(out) == []  # no shard, no manifest, no temporary, no marker


def test_disk_full_when_saving_the_model_keeps_no_partial_file(tmp_path, monkeypatch):
    from sensorlm_keras.runs.run_artifacts import save_run

    model = tiny_model()
    monkeypatch.setattr(type(model), "save", _enospc)

    class _Tok:
        vocabulary_size = model.config.vocabulary_size
        text_length = 8

    class _Schema:
        num_channels = model.config.num_channels

    with pytest.raises(OSError, match="No space left on device"):
        save_run(tmp_path / "run", model, _Tok(), _Schema(), text_length=8)
    assert os.listdir(tmp_path / "run") == []


def test_disk_full_during_export_leaves_nothing(tiny_run, tmp_path, monkeypatch):
    from sensorlm_keras.utils import atomic_io
    from sensorlm_keras.export import export_saved_model

    monkeypatch.setattr(atomic_io, "atomic_write_bytes", _enospc)
    with pytest.raises(OSError, match="No space left on device"):
        export_saved_model(tiny_run, tmp_path / "out")
    assert os.listdir(tmp_path / "out" / "sensorlm") == []


def _fit(model, backup, epochs, sabotage=None):
    batch = random_batch(4)
    callbacks = [backup] + ([sabotage] if sabotage else [])
    return model.fit(batch, batch_size=4, epochs=epochs, verbose=0, callbacks=callbacks)


def _compiled():
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01), run_eagerly=True)  # no tracing: fast
    return model


def test_disk_full_during_backup_keeps_the_previous_backup(tmp_path, monkeypatch):
    from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore

    backup_dir = tmp_path / "backup"
    model = _compiled()
    _fit(model, AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False, verbose=0), 2)
    before = (backup_dir / "latest.weights.h5").read_bytes()
    monkeypatch.setattr(type(model), "save_weights", _enospc)
    with pytest.raises(OSError, match="No space left on device"):
        _fit(model, AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False, verbose=0), 4)
    monkeypatch.undo()
    assert (backup_dir / "latest.weights.h5").read_bytes() == before
    assert json.loads((backup_dir / "training_metadata.json").read_text())["epoch"] == 2
    assert not list(backup_dir.glob(".tmp-*"))


# ------------------------------------------------------------------------------ corrupt files
def test_corrupt_latest_backup_falls_back_to_the_previous_one(tmp_path, capsys):
    from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore

    backup_dir = tmp_path / "backup"
    _fit(_compiled(), AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False,
                                             verbose=0), 3)
    previous = json.loads((backup_dir / "training_metadata.json.bkp").read_text())
    latest = backup_dir / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:100])  # truncated (as by a crash of the disk)
    resumed = AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False, verbose=1)
    model = _compiled()
    history = _fit(model, resumed, 4)
    out = capsys.readouterr().out
    assert f"Backup {latest} is corrupt or unreadable" in out and "previous backup" in out
    assert resumed.restored_step == previous["step"] and len(history.epoch) == 4 - previous["epoch"]

    # Corrupt metadata (torn JSON) of the latest backup also falls back.
    (backup_dir / "training_metadata.json").write_text('{"epoch": ')
    _fit(_compiled(), AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False,
                                             verbose=0), 5)
    assert "corrupt or unreadable (JSONDecodeError" in capsys.readouterr().out


def test_both_backups_corrupt_is_a_clear_error(tmp_path):
    from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore

    backup_dir = tmp_path / "backup"
    _fit(_compiled(), AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False,
                                             verbose=0), 2)
    for name in ("latest.weights.h5", "latest.weights.h5.bkp"):
        (backup_dir / name).write_bytes(b"garbage")
    with pytest.raises(DataError, match="are both corrupt or unreadable.*delete .*backup"):
        _fit(_compiled(), AtomicBackupAndRestore(str(backup_dir), verbose=0), 3)
    (backup_dir / "latest.weights.h5.bkp").unlink()
    with pytest.raises(DataError, match="no previous backup to fall back to"):
        _fit(_compiled(), AtomicBackupAndRestore(str(backup_dir), verbose=0), 3)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupt_keras_checkpoint_is_a_clear_error(tmp_path, damage):
    from sensorlm_keras.runs import load_keras_model_safely

    path = tmp_path / "step-00000003.keras"
    tiny_model().save(path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        for i in range(len(data) // 2, len(data) // 2 + 64):
            data[i] ^= 0xFF
    else:
        data = b""
    path.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="step-00000003.keras"):
        load_keras_model_safely(path)


# ------------------------------------------------------------------------------ NaN mid-run
@pytest.mark.slow
def test_nan_loss_mid_training_names_the_step_and_keeps_the_last_good_backup(tmp_path, monkeypatch):
    import tensorflow as tf

    import sensorlm_keras.data as data_module
    from sensorlm_keras.training import TrainConfig
    from sensorlm_keras.training.trainer import TrainingDivergedError, train
    from tests.training.tiny_train_config import TINY_TRAIN_CONFIG

    poisoned_batch = 7  # 0-based: optimizer step 8, in the third 3-step "epoch"
    real_make_dataset = data_module.make_dataset

    def poisoned(*args, **kwargs):
        dataset = real_make_dataset(*args, **kwargs)
        if not kwargs.get("repeat"):
            return dataset

        def poison(i, batch):
            bad = tf.fill(tf.shape(batch["sensor"]), float("nan"))
            return {**batch, "sensor": tf.where(i == poisoned_batch, bad, batch["sensor"])}

        return dataset.enumerate().map(poison)

    config = TrainConfig(**{**TINY_TRAIN_CONFIG, "run_dir": str(tmp_path / "run")})
    monkeypatch.setattr(data_module, "make_dataset", poisoned)
    with pytest.raises(TrainingDivergedError) as info:
        train(config, verbose=0)
    message = str(info.value)
    backup = tmp_path / "run" / "backup"
    assert "the loss became nan at optimizer step 8" in message
    assert str(backup / "latest.weights.h5") in message
    saved = json.loads((backup / "training_metadata.json").read_text())
    assert saved == {"epoch": 2, "batch": 0, "step": 6}  # the last good state, before the NaN
    checkpoints = sorted(os.listdir(tmp_path / "run" / "checkpoints"))
    assert checkpoints == ["step-00000003.keras", "step-00000006.keras"]
    assert not (tmp_path / "run" / "model.keras").exists()

    # The same command with clean data resumes from step 6 and finishes with finite weights.
    monkeypatch.setattr(data_module, "make_dataset", real_make_dataset)
    run = train(config, verbose=0)
    assert run.config["training"]["resumed_from_step"] == 6
    assert run.config["training"]["steps"] == 12
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in run.model.weights)
