"""Privacy: raw person ids (and the salt) never reach TFRecords, captions, training logs,
TensorBoard event files, run directories or exported SavedModels; pseudonyms are HMAC-SHA256
keyed by a salt the user controls."""

import dataclasses
import gzip
import hashlib
import hmac
import os

import numpy as np
import pytest

from sensorlm_keras.data import pseudonymize_person_id
from sensorlm_keras.errors import ConfigError, DataError

SALT = "user-chosen-salt-7f3a"


def _raw_ids(n):
    return [f"alice.{i:03d}@clinic.example" for i in range(n)]


def _files_containing(root, needles):
    """Every file under ``root`` (gzip members decompressed) that contains one of ``needles``."""
    hits = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                data = f.read()
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            for needle in needles:
                if needle.encode("utf-8") in data:
                    hits.append((path, needle))
    return hits


def test_pseudonym_is_salted_hmac_and_salt_is_user_controlled(monkeypatch):
    raw = "alice.000@clinic.example"
    a = pseudonymize_person_id(raw, salt=SALT)
    assert a == hmac.new(SALT.encode(), raw.encode(), hashlib.sha256).hexdigest()
    assert a == pseudonymize_person_id(raw, salt=SALT)  # stable
    assert a != pseudonymize_person_id(raw, salt=SALT + "x")  # the salt changes it
    assert a != hashlib.sha256(raw.encode()).hexdigest()  # not an unsalted (guessable) hash
    assert raw not in a and len(a) == 64
    monkeypatch.setenv("SENSORLM_SALT", SALT)
    assert pseudonymize_person_id(raw) == a
    monkeypatch.delenv("SENSORLM_SALT")
    with pytest.raises(ConfigError, match="salt: expected a non-empty salt"):
        pseudonymize_person_id(raw)
    with pytest.raises(ConfigError, match="salt"):
        pseudonymize_person_id(raw, salt="")
    with pytest.raises(DataError, match="person_id"):
        pseudonymize_person_id(None, salt=SALT)


def test_writer_without_a_salt_is_refused(tmp_path, monkeypatch):
    from sensorlm_keras.data import TFRecordDatasetWriter

    monkeypatch.delenv("SENSORLM_SALT", raising=False)
    with pytest.raises(ConfigError, match="salt"):
        TFRecordDatasetWriter(tmp_path / "ds", ["a"], salt=None)
    assert not (tmp_path / "ds").exists()


@pytest.mark.slow
def test_raw_ids_never_leave_the_data_step(tmp_path, capsys):
    from sensorlm_keras.data import SyntheticDayGenerator, build_tfrecord_dataset, read_examples
    from sensorlm_keras.export import export_saved_model
    from sensorlm_keras.training import TrainConfig
    from sensorlm_keras.training.trainer import train
    from tests.training.tiny_train_config import TINY_TRAIN_CONFIG

    days = SyntheticDayGenerator().generate(6, 2, seed=0)
    originals = sorted(set(days.person_ids.tolist()))
    mapping = dict(zip(originals, _raw_ids(len(originals))))
    days = dataclasses.replace(days, person_ids=np.array([mapping[p] for p in days.person_ids]))
    raw = list(mapping.values())
    secrets = raw + [SALT]

    # 1. TFRecords, manifests and captions.
    data = tmp_path / "data"
    build_tfrecord_dataset(days, data, salt=SALT, num_shards=2, seed=0)
    assert _files_containing(data, secrets) == []
    examples = [e for split in ("train", "validation", "test") if (data / split).exists()
                for e in read_examples(str(data / split))]
    expected = {pseudonymize_person_id(r, salt=SALT) for r in raw}
    assert {e["person_id"] for e in examples} <= expected and len(examples) > 0
    for example in examples:
        assert not any(r in text for r in raw for text in example["captions"].values())

    # 2. Training: console log, TensorBoard event files, checkpoints, backup, run directory.
    run_dir = tmp_path / "run"
    config = TrainConfig(**{**TINY_TRAIN_CONFIG, "run_dir": str(run_dir), "data": str(data),
                            "steps": 3, "steps_per_checkpoint": 3, "tensorboard": True})
    run = train(config, verbose=1)
    log = capsys.readouterr()
    assert not [s for s in secrets if s in log.out or s in log.err]
    assert list((run_dir / "logs").rglob("events.out.tfevents*")), "no TensorBoard events"
    assert _files_containing(run_dir, secrets) == []

    # 3. The exported SavedModel (graph, variables, assets).
    result = export_saved_model(run, tmp_path / "saved_models")
    assert _files_containing(result.path, secrets) == []
