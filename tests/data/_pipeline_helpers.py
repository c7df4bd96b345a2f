"""Shared builders for the TFRecord / tokenizer / pipeline / CLI tests (not a test module)."""

import os

from sensorlm_keras.data import SyntheticDayGenerator, build_tfrecord_dataset
from sensorlm_keras.data.tfrecord import read_examples

SALT = "unit-test-salt"


def write_dataset(root, people=3, days=2, shards=2, compression="GZIP", seed=0, split="train"):
    """Synthetic days -> one split of TFRecords under ``root/split``; returns (days, manifest)."""
    wearable = SyntheticDayGenerator().generate(num_people=people, days_per_person=days, seed=seed)
    manifests = build_tfrecord_dataset(
        wearable,
        os.fspath(root),
        salt=SALT,
        num_shards=shards,
        compression=compression,
        fractions={split: 1.0},
        missing_threshold=1.0,
        seed=seed,
    )
    return wearable, manifests[split]


def caption_corpus(dataset_dir):
    """All stored captions of a dataset (every variant)."""
    texts = []
    for example in read_examples(dataset_dir):
        texts.extend(example["captions"].values())
    return texts
