"""make_dataset: parse + in-graph tokenisation + batching, corrupt-shard handling."""

import shutil

import numpy as np
import pytest

from sensorlm_keras.data import make_dataset, read_examples
from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece

from ._pipeline_helpers import caption_corpus, write_dataset

tf = pytest.importorskip("tensorflow")
L = 32


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipe")
    _, manifest = write_dataset(root, people=3, days=2, shards=2)
    directory = root / "train"
    proto = train_sentencepiece(caption_corpus(directory), vocabulary_size=200)
    return directory, SensorLMTokenizer(proto, text_length=L), manifest


def _collect(dataset):
    batches = list(dataset.as_numpy_iterator())
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def test_batches_match_the_stored_examples(setup):
    directory, tokenizer, manifest = setup
    ds = make_dataset(directory, tokenizer, batch_size=2, variant="high_all")
    spec = ds.element_spec
    assert set(spec) == {"sensor", "sensor_mask", "token_ids", "padding_mask"}
    assert spec["sensor"].dtype == tf.float32 and spec["sensor"].shape[1:] == (1440, 34)
    assert spec["sensor_mask"].dtype == tf.bool
    assert spec["token_ids"].dtype == tf.int32 and spec["token_ids"].shape[1:] == (L,)
    assert spec["padding_mask"].dtype == tf.bool
    got = _collect(ds)
    stored = list(read_examples(directory))
    assert got["sensor"].shape[0] == len(stored) == manifest.num_examples
    # Without shuffling the order is the interleave order; compare as sets of rows.
    expected_sensor = {e["sensor"].tobytes() for e in stored}
    assert {row.tobytes() for row in got["sensor"]} == expected_sensor
    by_sensor = {e["sensor"].tobytes(): e for e in stored}
    for sensor, mask, ids, pad in zip(
        got["sensor"], got["sensor_mask"], got["token_ids"], got["padding_mask"]
    ):
        ex = by_sensor[sensor.tobytes()]
        assert np.array_equal(mask, ex["mask"])
        eager = tokenizer(ex["captions"]["high_all"])
        assert np.array_equal(ids, eager["token_ids"])
        assert np.array_equal(pad, eager["padding_mask"])


def test_static_batch_shuffle_repeat_and_options(setup):
    directory, tokenizer, manifest = setup
    options = dict(
        batch_size=2,
        shuffle_buffer=8,
        seed=3,
        repeat=True,
        drop_remainder=True,
        text_length=16,
        channels=["HR", "steps"],
        mask_dtype="float32",
    )
    ds = make_dataset(directory, tokenizer, **options)
    assert ds.element_spec["sensor"].shape == (2, 1440, 2)
    assert ds.element_spec["token_ids"].shape == (2, 16)
    assert ds.element_spec["sensor_mask"].dtype == tf.float32
    first = [b["sensor"].numpy() for b in ds.take(5)]
    again = [b["sensor"].numpy() for b in make_dataset(directory, tokenizer, **options).take(5)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # seeded => reproducible
    assert len(first) == 5 > manifest.num_examples // 2  # repeat goes past one epoch
    meta = next(iter(make_dataset(directory, tokenizer, batch_size=3, include_metadata=True)))
    assert meta["person_id"].dtype == tf.string and meta["day_index"].dtype == tf.int64


def test_validation_errors(setup, tmp_path):
    directory, tokenizer, _ = setup
    with pytest.raises(ConfigError, match="unknown caption variant 'medium'"):
        make_dataset(directory, tokenizer, batch_size=2, variant="medium")
    with pytest.raises(ConfigError, match="batch_size"):
        make_dataset(directory, tokenizer, batch_size=0)
    with pytest.raises(ConfigError, match="channels"):
        make_dataset(directory, tokenizer, batch_size=2, channels=["HR", "nope"])
    with pytest.raises(ConfigError, match="on_corrupt"):
        make_dataset(directory, tokenizer, batch_size=2, on_corrupt="ignore")
    with pytest.raises(ConfigError, match="tokenizer"):
        make_dataset(directory, None, batch_size=2)
    with pytest.raises(DataError, match="matches nothing"):
        make_dataset(tmp_path / "nothing-here", tokenizer, batch_size=2)


def test_truncated_shard_skipped_with_warning_or_raised(setup, tmp_path):
    directory, tokenizer, manifest = setup
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    victim = manifest.shards[0]["file"]
    data = (copy / victim).read_bytes()
    (copy / victim).write_bytes(data[: len(data) - 100])
    with pytest.raises(DataError, match=victim):
        make_dataset(copy, tokenizer, batch_size=2, on_corrupt="raise")
    with pytest.warns(RuntimeWarning, match=rf"skipping 1 of 2 shard\(s\).*{victim}"):
        ds = make_dataset(copy, tokenizer, batch_size=2, on_corrupt="skip")
    assert [p.endswith(victim) for p in ds.skipped_shards] == [True]
    count = sum(b["sensor"].shape[0] for b in ds)
    assert count == manifest.shards[1]["num_examples"]
    # Glob without manifest: records are scanned, same outcome.
    with pytest.warns(RuntimeWarning, match=victim):
        ds = make_dataset(str(copy / "*.tfrecord.gz"), tokenizer, batch_size=2)
    assert sum(b["sensor"].shape[0] for b in ds) == manifest.shards[1]["num_examples"]
