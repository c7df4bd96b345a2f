"""Crafted length fields and oversized files are refused quickly, without allocating them.

TensorFlow's TFRecord reader trusts a record's length field: a record whose (correctly
checksummed) length claims 2**40 bytes makes ``tf.data.TFRecordDataset`` try to allocate it and
the process dies (segmentation fault, measured with TF 2.21). `scan_record_lengths` walks the
headers in pure Python first, so every reading path (`check_shards`, `read_examples`,
`make_dataset`) refuses such a shard before TensorFlow opens it.
"""

import gzip
import json
import resource
import struct
import time

import numpy as np
import pytest

from sensorlm_keras.data import tfrecord
from sensorlm_keras.data.event import Event
from sensorlm_keras.data.tfrecord import (
    _masked_crc32c,
    check_shards,
    read_examples,
    scan_record_lengths,
    serialize_example,
)
from sensorlm_keras.errors import ConfigError, DataError

HUGE = 2**40
BUDGET_S = 30.0  # generous for loaded CI machines; an allocation of 2**40 bytes crashes
BUDGET_RSS_KB = 200 * 1024


def _frame(data, claimed=None):
    """One TFRecord frame; ``claimed`` overrides the length field (with a valid CRC)."""
    length = struct.pack("<Q", len(data) if claimed is None else claimed)
    return (length + struct.pack("<I", _masked_crc32c(length)) + data
            + struct.pack("<I", _masked_crc32c(data)))


def _example(t=4, c=2, **overrides):
    kwargs = dict(
        sensor=np.zeros((t, c), np.float32), mask=np.zeros((t, c), bool), missing_ratio=0.0,
        captions={"high_summary": "a calm day"}, person_pseudonym="ab" * 32, day_index=0,
        events=[Event("activity", "run", 10, 40)], channel_names=[f"c{i}" for i in range(c)],
    )
    kwargs.update(overrides)
    return serialize_example(**kwargs)


@pytest.fixture
def bounded():
    """Asserts the block ran within the time and peak-memory budget."""
    start, peak = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    yield
    elapsed = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert elapsed < BUDGET_S, f"took {elapsed:.1f} s"
    assert grown < BUDGET_RSS_KB, f"peak memory grew by {grown} kB"


def test_real_crc_matches_tensorflow(tmp_path):
    import tensorflow as tf

    path = str(tmp_path / "ok.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"hello")
    assert (tmp_path / "ok.tfrecord").read_bytes() == _frame(b"hello")
    assert scan_record_lengths(path) == (1, None)


@pytest.mark.parametrize("compressed", [False, True])
def test_huge_length_field_is_refused_without_allocating(tmp_path, bounded, compressed):
    good = _example()
    raw = _frame(good) + _frame(b"x" * 64, claimed=HUGE)
    name = "evil.tfrecord.gz" if compressed else "evil.tfrecord"
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    count, reason = scan_record_lengths(str(path), "GZIP" if compressed else None)
    assert count == 1 and f"claims {HUGE} bytes" in reason
    _, bad = check_shards(str(path), verify="none")
    assert "refused without allocating" in bad[str(path)]
    with pytest.raises(DataError, match=f"{name}.*claims {HUGE} bytes"):
        list(read_examples(str(path)))


def test_make_dataset_refuses_the_shard_before_tensorflow_reads_it(tmp_path, bounded):
    from sensorlm_keras.data import make_dataset

    path = tmp_path / "evil.tfrecord"
    path.write_bytes(_frame(b"x" * 8, claimed=HUGE))
    for verify in ("none", "scan", "auto"):
        with pytest.raises(DataError, match="claims"):
            make_dataset(str(path), lambda t, text_length=None: t, batch_size=2, text_length=8,
                         on_corrupt="raise", verify=verify)


def test_record_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "a.tfrecord"
    path.write_bytes(_frame(b"y" * 1000))
    monkeypatch.setattr(tfrecord, "MAX_RECORD_BYTES", 999)
    assert "more than the 999-byte limit" in scan_record_lengths(str(path))[1]
    assert scan_record_lengths(str(path), max_record_bytes=1000) == (1, None)


@pytest.mark.parametrize(
    "raw, phrase",
    [
        (b"\x01\x02\x03", "truncated length header"),
        (struct.pack("<Q", 10) + b"\x00\x00\x00\x00" + b"x" * 14, "CRC mismatch"),
        (_frame(b"z" * 50)[:30], "the file ends first"),
    ],
)
def test_corrupt_headers_are_refused(tmp_path, raw, phrase):
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(raw)
    assert phrase in scan_record_lengths(str(path))[1]
    with pytest.raises(DataError, match="bad.tfrecord"):
        list(read_examples(str(path)))


def _read_one(tmp_path, record):
    path = tmp_path / "one.tfrecord"
    path.write_bytes(_frame(record))
    return list(read_examples(str(path)))


@pytest.mark.parametrize(
    "mutate, phrase",
    [
        (lambda f: f["sensor"].bytes_list.value.__setitem__(0, b"\0" * 12), "hold 3/8 values"),
        (lambda f: f["num_timesteps"].int64_list.value.__setitem__(0, 2**62), "hold 8/8 values, expected 4611686018427387904 x 2"),
        (lambda f: f["num_timesteps"].int64_list.value.__setitem__(0, -4), "num_timesteps=-4"),
        (lambda f: f["num_channels"].int64_list.value.__setitem__(0, 3), "num_channels=3"),
        (lambda f: f["caption/high_summary"].bytes_list.value.__setitem__(0, b"\xff\xfe"),
         "caption/high_summary: expected UTF-8"),
        (lambda f: f["events"].bytes_list.value.__setitem__(0, b"{not json"), "not a valid JSON"),
        (lambda f: f["events"].bytes_list.value.__setitem__(0, b"[" * 100000 + b"]" * 100000),
         "not a valid JSON"),
        (lambda f: f["events"].bytes_list.value.__setitem__(0, b'{"a": 1}'), "expected a JSON list"),
        (lambda f: f["events"].bytes_list.value.__setitem__(0, b"[1]"), r"events\[0\]"),
        (lambda f: f["events"].bytes_list.value.__setitem__(0, b'[{"x": 1}]'), "unexpected or missing"),
        (lambda f: f["events"].bytes_list.value.__setitem__(
            0, b'[{"kind": "activity", "label": "run", "start_minute": 10, "end_minute": 99999}]'), "end_minute"),
        (lambda f: f["schema_version"].int64_list.value.__setitem__(0, 99), "schema_version"),
        (lambda f: f.pop("sensor"), "missing feature 'sensor'"),
    ],
)
def test_malformed_features_raise_data_error(tmp_path, bounded, mutate, phrase):
    import tensorflow as tf

    example = tf.train.Example.FromString(_example())
    mutate(example.features.feature)
    with pytest.raises(DataError, match=phrase) as info:
        _read_one(tmp_path, example.SerializeToString())
    assert "one.tfrecord record 0" in str(info.value)


def test_garbage_record_is_not_an_example(tmp_path):
    with pytest.raises(DataError, match="not a tf.train.Example"):
        _read_one(tmp_path, b"\xff" * 40)


# ------------------------------------------------------------------------------ tokenizer
def test_tokenizer_model_garbage_and_huge_files_are_refused(tmp_path, bounded):
    from sensorlm_keras.tokenizers import SensorLMTokenizer
    from sensorlm_keras.tokenizers import sensorlm_tokenizer as module

    garbage = tmp_path / "garbage.model"
    garbage.write_bytes(b"\x08\x96\x01" + bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match="not a valid SentencePiece model"):
        SensorLMTokenizer(str(garbage))
    huge = tmp_path / "huge.model"
    with open(huge, "wb") as f:  # sparse: claims 64 MiB + 1 byte, occupies no disk
        f.truncate(module.MAX_MODEL_BYTES + 1)
    with pytest.raises(ConfigError, match="refused unread"):
        SensorLMTokenizer(str(huge))
    with pytest.raises(ConfigError, match="byte limit"):
        SensorLMTokenizer(b"\0" * (module.MAX_MODEL_BYTES + 1))


def test_tokenizer_config_bounds(tmp_path):
    from sensorlm_keras.tokenizers import SensorLMTokenizer
    from sensorlm_keras.tokenizers import sensorlm_tokenizer as module

    directory = tmp_path / "tok"
    directory.mkdir()
    (directory / "tokenizer.model").write_bytes(b"\x00")
    config = {"format_version": 1, "sequence_length": 10**12}
    (directory / "tokenizer.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"text_length: expected an integer in \[1, 65536\], "
                                          r"received 1000000000000"):
        SensorLMTokenizer.load(directory)
    with open(directory / "tokenizer.json", "wb") as f:
        f.truncate(module.MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match="byte limit for a tokenizer config"):
        SensorLMTokenizer.load(directory)
    (directory / "tokenizer.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        SensorLMTokenizer.load(directory)
