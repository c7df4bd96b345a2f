"""`build_tfrecord_dataset`: raw person-days -> preprocess -> captions -> sharded TFRecords."""

import dataclasses
import hashlib
import os

import numpy as np

from sensorlm_keras.data.channel import CUSTOM_FAMILY
from sensorlm_keras.data.person_split import split_by_person
from sensorlm_keras.data.train_split_normalization import train_split_schema
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.errors import ConfigError, describe
from sensorlm_keras.utils.progress import progress_bar
from sensorlm_keras.utils.validation import check_positive_int


def caption_seed(seed, person_id, day_index):
    """Per-example caption seed: a stable hash of ``(seed, person id, day index)``, so an
    example's caption randomness does not depend on batching or on the other examples."""
    text = f"{int(seed)}\x1f{person_id}\x1f{int(day_index)}".encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFFFFFF


def build_tfrecord_dataset(
    days,
    out_dir,
    salt=None,
    num_shards=1,
    compression="GZIP",
    fractions=None,
    split_method="rank",
    missing_threshold=0.8,
    seed=0,
    chunk_size=64,
    progress=False,
    overwrite=False,
    extra=None,
):
    """Write a captioned, person-split TFRecord dataset from raw person-days.

    For every split (by person, `split_by_person`), days are processed in chunks: cleaned,
    z-scored and imputed (`preprocess_days`; days above ``missing_threshold`` are dropped and
    counted), captioned in all eight variants (`CaptionGenerator`, seeded per example with
    `caption_seed`) and streamed into ``<out_dir>/<split>/`` with `TFRecordDatasetWriter`
    (atomic shards, manifest last). Person ids are pseudonymised with ``salt``. Channels
    outside the 34-channel schema (family `CUSTOM_FAMILY`, e.g. from ``read_minute_tables(...,
    channels=[...])``) are normalised with the train split's constants (`train_split_schema`),
    recorded in every manifest (``normalization``, ``channels``).

    Args:
        days: `WearableDays` (e.g. from `SyntheticDayGenerator.generate`).
        out_dir: output directory; one sub-directory per split.
        salt: person-id salt (``None``: ``$SENSORLM_SALT``).
        num_shards: shards per split (at most one per kept example).
        compression: ``"GZIP"`` or ``None``.
        fractions: split fractions (default train 0.8 / validation 0.1 / test 0.1).
        split_method: ``"rank"`` (default; every split gets people when there are enough) or
            ``"hash"`` (see `split_by_person`).
        missing_threshold: passed to `preprocess_days`.
        seed: caption seed.
        chunk_size: days processed at once (bounds memory).
        progress: show a tqdm progress bar.
        overwrite: replace existing splits.
        extra: provenance stored in each manifest.

    Returns:
        dict split -> `DatasetManifest` (splits without any person are not written).

    Example:

    ```python
    from sensorlm_keras.data import SyntheticDayGenerator, build_tfrecord_dataset

    days = SyntheticDayGenerator().generate(num_people=20, days_per_person=5, seed=0)
    manifests = build_tfrecord_dataset(days, "data/synth", salt="s3cret", num_shards=4)
    manifests["train"].num_examples
    ```
    """
    from sensorlm_keras.data.captions import CAPTION_VARIANTS, CaptionGenerator
    from sensorlm_keras.data.tfrecord_writer import TFRecordDatasetWriter

    if not isinstance(days, WearableDays):
        raise ConfigError(
            f"build_tfrecord_dataset(days): expected WearableDays, received {describe(days)}."
        )
    chunk_size = check_positive_int(chunk_size, "build_tfrecord_dataset(chunk_size)")
    out_dir = os.fspath(out_dir)
    splits = split_by_person(days.person_ids, fractions, method=split_method)
    normalization = {}
    if any(c.family == CUSTOM_FAMILY for c in days.schema.channels):
        if splits["train"].size == 0:
            raise ConfigError("build_tfrecord_dataset: channels outside the schema are "
                              "normalised on the train split, which has no person.")
        schema, normalization = train_split_schema(days.raw, days.schema, splits["train"])
        days = dataclasses.replace(days, schema=schema)
    generator = CaptionGenerator(schema=days.schema, seed=seed)
    bar = progress_bar(progress, "caption + write", "day", total=len(days))
    manifests = {}
    try:
        for split, rows in splits.items():
            if rows.size == 0:
                continue
            writer = TFRecordDatasetWriter(
                os.path.join(out_dir, split),
                days.schema.names,
                split=split,
                num_shards=int(min(num_shards, rows.size)),
                compression=compression,
                salt=salt,
                caption_variants=list(CAPTION_VARIANTS),
                overwrite=overwrite,
                extra={
                    **(extra or {}),
                    "missing_threshold": missing_threshold,
                    "caption_seed": seed,
                    "num_people": int(np.unique(days.person_ids[rows]).size),
                    **({"normalization": normalization, "channels": days.schema.to_config()}
                       if normalization else {}),
                },
            )
            with writer:
                dropped = 0
                for begin in range(0, rows.size, chunk_size):
                    chunk = rows[begin : begin + chunk_size]
                    dropped += _write_chunk(writer, days, chunk, generator, missing_threshold,
                                            seed)
                    if bar is not None:
                        bar.update(chunk.size)
                writer.extra["dropped_days"] = dropped  # recorded in the manifest on close
            manifests[split] = writer.manifest
    finally:
        if bar is not None:
            bar.close()
    return manifests


def _write_chunk(writer, days, chunk, generator, missing_threshold, seed):
    """Preprocess, caption and write the days ``chunk``; returns how many were dropped."""
    from sensorlm_keras.data.preprocessing import preprocess_days

    pre = preprocess_days(days.raw[chunk], schema=days.schema, missing_threshold=missing_threshold)
    kept = chunk[pre.kept_indices]
    if kept.size:
        captions = generator.generate_batch(
            pre.sensor,
            masks=pre.mask,
            events_list=[days.events[i] for i in kept],
            seeds=[caption_seed(seed, days.person_ids[i], days.day_index[i]) for i in kept],
        )
        for j, i in enumerate(kept):
            writer.write(
                pre.sensor[j],
                pre.mask[j],
                pre.missing_ratio[j],
                captions[j],
                person_id=str(days.person_ids[i]),
                day_index=int(days.day_index[i]),
                events=days.events[i],
                activity_label=days.activity_labels[i],
            )
    return int(pre.dropped_indices.size)
