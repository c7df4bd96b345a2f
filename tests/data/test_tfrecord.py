"""TFRecord writer/reader: bit-exact round trip, manifest, pseudonyms, corrupt shards, atomicity,
person-wise splits."""

import gzip
import hashlib
import hmac
import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import (
    CAPTION_VARIANTS,
    DatasetManifest,
    TFRecordDatasetWriter,
    assign_split,
    check_shards,
    preprocess_days,
    pseudonymize_person_id,
    read_examples,
    split_by_person,
)
from sensorlm_keras.data.dataset_builder import caption_seed
from sensorlm_keras.errors import ConfigError, DataError

from ._pipeline_helpers import SALT, write_dataset

tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfr")
    days, manifest = write_dataset(root, people=3, days=2, shards=2, compression="GZIP")
    return root / "train", days, manifest


def _by_key(examples):
    return {(e["person_id"], e["day_index"]): e for e in examples}


def test_round_trip_is_bit_exact(stored):
    directory, days, manifest = stored
    pre = preprocess_days(days.raw, missing_threshold=1.0)
    kept = pre.kept_indices
    examples = _by_key(read_examples(directory))
    assert len(examples) == len(kept) == manifest.num_examples
    assert manifest.num_examples + manifest.extra["dropped_days"] == len(days) == 6
    from sensorlm_keras.data import CaptionGenerator

    captions = CaptionGenerator(seed=0).generate_batch(
        pre.sensor,
        masks=pre.mask,
        events_list=[days.events[i] for i in kept],
        seeds=[caption_seed(0, days.person_ids[i], days.day_index[i]) for i in kept],
    )
    for j, i in enumerate(kept):
        key = (pseudonymize_person_id(days.person_ids[i], SALT), int(days.day_index[i]))
        ex = examples[key]
        assert ex["sensor"].dtype == np.float32
        assert ex["sensor"].tobytes() == pre.sensor[j].tobytes()  # bit-exact
        assert np.array_equal(ex["mask"], pre.mask[j])
        assert np.float32(ex["missing_ratio"]) == pre.missing_ratio[j]
        assert ex["events"] == days.events[i]
        assert ex["activity_label"] == days.activity_labels[i]
        assert ex["captions"] == captions[j]
        assert set(ex["captions"]) == set(CAPTION_VARIANTS)
        assert ex["channel_names"] == list(days.schema.names)
        assert ex["schema_version"] == 1


def test_manifest_and_pseudonyms(stored):
    directory, days, manifest = stored
    loaded = DatasetManifest.load(directory)
    assert loaded.split == "train" and loaded.schema_version == 1
    assert loaded.channel_names == list(days.schema.names)
    assert loaded.compression == "GZIP" and loaded.num_timesteps == 1440
    assert [s["file"] for s in loaded.shards] == [
        "train-00000-of-00002.tfrecord.gz",
        "train-00001-of-00002.tfrecord.gz",
    ]
    assert sum(s["num_examples"] for s in loaded.shards) == manifest.num_examples >= 4
    for s in loaded.shards:
        data = (directory / s["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == s["sha256"] and len(data) == s["num_bytes"]
        plain = gzip.decompress(data)
        for raw_id in set(days.person_ids):
            assert raw_id.encode() not in plain  # the raw id never reaches the disk
    expected = hmac.new(SALT.encode(), days.person_ids[0].encode(), hashlib.sha256).hexdigest()
    assert expected in {e["person_id"] for e in read_examples(directory)}
    assert sorted(os.listdir(directory)) == ["manifest.json"] + [s["file"] for s in loaded.shards]
    good, bad = check_shards(directory)
    assert len(good) == 2 and bad == {}


def test_uncompressed_and_scan_mode(tmp_path):
    days, manifest = write_dataset(tmp_path, people=2, days=2, shards=3, compression=None)
    files = sorted(os.listdir(tmp_path / "train"))
    assert files[0] == "manifest.json" and len(files) == 1 + len(manifest.shards)
    assert all(f.endswith("-of-00003.tfrecord") for f in files[1:])
    good, bad = check_shards(str(tmp_path / "train" / "*.tfrecord"), verify="scan")
    assert len(good) == len(manifest.shards) and not bad
    assert len(list(read_examples(tmp_path / "train"))) == manifest.num_examples


def _copy(directory, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(directory, target)
    return target


def test_truncated_shard_is_reported_by_name(stored, tmp_path):
    directory, _, manifest = stored
    copy = _copy(directory, tmp_path)
    victim = copy / manifest.shards[1]["file"]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    good, bad = check_shards(copy)
    assert list(bad) == [str(victim)] and "size" in bad[str(victim)]
    # Without the manifest (glob): the records themselves are read and the damage found.
    good, bad = check_shards(str(copy / "*.tfrecord.gz"))
    assert list(bad) == [str(victim)] and "unreadable" in bad[str(victim)]
    with pytest.raises(DataError, match=manifest.shards[1]["file"]):
        list(read_examples(str(copy / "*.tfrecord.gz")))


def test_corrupt_record_in_uncompressed_shard(tmp_path):
    write_dataset(tmp_path, people=1, days=2, shards=1, compression=None)
    shard = tmp_path / "train" / "train-00000-of-00001.tfrecord"
    data = bytearray(shard.read_bytes())
    data[len(data) // 3] ^= 0xFF  # flip one byte inside the first record's payload
    shard.write_bytes(bytes(data))
    _, bad = check_shards(tmp_path / "train", verify="scan")
    assert str(shard) in bad and "DataLossError" in bad[str(shard)]
    _, bad = check_shards(tmp_path / "train")  # checksum
    assert "SHA-256" in bad[str(shard)]


def _valid_example(n_channels=34):
    rng = np.random.default_rng(0)
    return dict(
        sensor=rng.normal(size=(1440, n_channels)).astype(np.float32),
        mask=np.zeros((1440, n_channels), bool),
        missing_ratio=0.0,
        captions={v: f"caption {v}" for v in CAPTION_VARIANTS},
        person_id="alice",
        day_index=0,
    )


NAMES = [f"c{i}" for i in range(34)]


def test_failure_mid_write_leaves_no_final_file(tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(RuntimeError, match="boom"):
        with TFRecordDatasetWriter(out, NAMES, num_shards=2, salt="s") as writer:
            writer.write(**_valid_example())
            writer.write(**_valid_example())
            raise RuntimeError("boom")
    assert os.listdir(out) == []


def test_failure_while_finishing_leaves_no_final_file(tmp_path, monkeypatch):
    out = tmp_path / "ds"
    writer = TFRecordDatasetWriter(out, NAMES, num_shards=2, salt="s")
    writer.write(**_valid_example())
    writer.write(**_valid_example())

    def broken_save(self, directory):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(DatasetManifest, "save", broken_save)
    with pytest.raises(OSError, match="simulated"):
        writer.close()
    assert os.listdir(out) == []


def test_writer_validation(tmp_path, monkeypatch):
    w = TFRecordDatasetWriter(tmp_path / "a", NAMES, salt="s")
    bad_sensor = _valid_example()
    bad_sensor["sensor"][3, 4] = np.nan
    with pytest.raises(DataError, match="finite"):
        w.write(**bad_sensor)
    with pytest.raises(DataError, match=r"shape \(1440, 34\)"):
        w.write(**{**_valid_example(), "sensor": np.zeros((10, 34), np.float32)})
    with pytest.raises(DataError, match="missing caption variants"):
        w.write(**{**_valid_example(), "captions": {"low": "x"}})
    with pytest.raises(DataError, match="missing_ratio"):
        w.write(**{**_valid_example(), "missing_ratio": 1.5})
    with pytest.raises(DataError, match="day_index"):
        w.write(**{**_valid_example(), "day_index": -1})
    w.write(**_valid_example())
    w.close()
    with pytest.raises(ConfigError, match="overwrite"):
        TFRecordDatasetWriter(tmp_path / "a", NAMES, salt="s")
    monkeypatch.delenv("SENSORLM_SALT", raising=False)
    with pytest.raises(ConfigError, match="SENSORLM_SALT"):
        TFRecordDatasetWriter(tmp_path / "b", NAMES)
    monkeypatch.setenv("SENSORLM_SALT", "from-env")
    assert pseudonymize_person_id("x") == pseudonymize_person_id("x", salt="from-env")
    with pytest.raises(ConfigError, match="num_shards"):
        TFRecordDatasetWriter(tmp_path / "c", NAMES, num_shards=0)
    with pytest.raises(ConfigError, match="compression"):
        TFRecordDatasetWriter(tmp_path / "c", NAMES, compression="zip")


def test_overwrite_removes_stale_shards(tmp_path):
    with TFRecordDatasetWriter(tmp_path, NAMES, num_shards=3, salt="s") as w:
        for _ in range(3):
            w.write(**_valid_example())
    with TFRecordDatasetWriter(tmp_path, NAMES, num_shards=1, salt="s", overwrite=True) as w:
        w.write(**_valid_example())
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "train-00000-of-00001.tfrecord.gz"]
    assert DatasetManifest.load(tmp_path).num_examples == 1


def test_pseudonyms_depend_on_salt():
    a = pseudonymize_person_id("alice", salt="one")
    assert a == pseudonymize_person_id("alice", salt="one")
    assert a != pseudonymize_person_id("alice", salt="two")
    assert a != pseudonymize_person_id("bob", salt="one")
    assert len(a) == 64 and "alice" not in a


@settings(max_examples=30, deadline=None)
@given(
    ids=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=60),
    method=st.sampled_from(["hash", "rank"]),
    salt=st.text(max_size=4),
)
def test_person_split_is_disjoint_and_complete(ids, method, salt):
    splits = split_by_person(ids, method=method, salt=salt)
    rows = np.concatenate(list(splits.values()))
    assert sorted(rows.tolist()) == list(range(len(ids)))
    people = {name: {ids[i] for i in r} for name, r in splits.items()}
    names = list(people)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            assert not people[names[a]] & people[names[b]]
    if method == "hash":
        for name, members in people.items():
            assert all(assign_split(p, salt=salt) == name for p in members)
    elif len(set(ids)) >= 3:
        assert all(members for members in people.values())


def test_split_is_stable_and_validated():
    ids = [f"person-{i}" for i in range(200)]
    first = {p: assign_split(p) for p in ids}
    assert first == {p: assign_split(p) for p in reversed(ids)}
    counts = {k: sum(v == k for v in first.values()) for k in ("train", "validation", "test")}
    assert 130 < counts["train"] < 190 and counts["validation"] > 5 and counts["test"] > 5
    with pytest.raises(ConfigError, match="sum"):
        split_by_person(ids, fractions={"train": 0.5})
    with pytest.raises(ConfigError, match="method"):
        split_by_person(ids, method="random")
