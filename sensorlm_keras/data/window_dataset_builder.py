"""`build_window_dataset`: labelled windows of any length -> captioned, split TFRecord shards."""

import os

import numpy as np

from sensorlm_keras.data.channel import CUSTOM_FAMILY, Channel
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.labelled_windows import LabelledWindows
from sensorlm_keras.data.person_split import split_by_person
from sensorlm_keras.data.train_split_normalization import train_split_schema, with_custom_channels
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.progress import progress_bar


def window_schema(windows, train_rows):
    """The `ChannelSchema` that normalises ``windows``: schema channels keep their constants,
    any other channel gets those of the train split ``train_rows`` (`train_split_schema`);
    z-scored windows get mean 0 and standard deviation 1 everywhere.

    Returns:
        ``(schema, normalization)``: the schema and a JSON-able dict channel ->
        ``{"mean", "std", "source"}`` (``"schema"``, ``"train split"`` or ``"z-scored input"``).
    """
    if windows.zscored:
        schema = ChannelSchema([Channel(n, 0.0, 1.0, CUSTOM_FAMILY)
                                for n in windows.channel_names])
        return schema, {n: {"mean": 0.0, "std": 1.0, "source": "z-scored input"}
                        for n in windows.channel_names}
    return train_split_schema(windows.sensor, with_custom_channels(windows.channel_names),
                              train_rows, windows.source)


def build_window_dataset(
    windows,
    out_dir,
    salt=None,
    num_shards=1,
    compression="GZIP",
    fractions=None,
    split_method="rank",
    missing_threshold=0.8,
    seed=0,
    progress=False,
    overwrite=False,
    extra=None,
):
    """Write labelled windows as a captioned TFRecord dataset that `sensorlm train --data` reads.

    Windows are split by person (`split_by_person`) unless they carry their own split; each
    split is normalised with `window_schema` (train-split constants for channels outside the
    34-channel schema), clipped, imputed (`preprocess_days` with the windows' length;
    windows above ``missing_threshold`` are dropped and counted), captioned by
    `WindowCaptioner` (seeded per window with `caption_seed`) and written with
    `TFRecordDatasetWriter` (atomic shards, manifest last). Each manifest records the window
    length, step, the normalisation of every channel and the zero-shot templates of window
    captions (`WINDOW_PROMPT_TEMPLATES`, used by `evaluate_run`).

    Args:
        windows: `LabelledWindows`.
        out_dir: output directory; one sub-directory per split.
        salt: person-id salt (``None``: ``$SENSORLM_SALT``).
        num_shards: shards per split (at most one per kept window).
        compression: ``"GZIP"`` or ``None``.
        fractions: split fractions when the windows carry no split (default 0.8 / 0.1 / 0.1).
        split_method: ``"rank"`` or ``"hash"`` (`split_by_person`).
        missing_threshold: windows with a larger fraction of missing cells are dropped.
        seed: caption seed.
        progress: show a progress bar.
        overwrite: replace existing splits.
        extra: provenance stored in each manifest.

    Returns:
        dict split -> `DatasetManifest`.

    Example:

    ```python
    from sensorlm_keras.data import LabelledWindows, build_window_dataset

    windows = LabelledWindows.from_npz("har_windows.npz")
    manifests = build_window_dataset(windows, "data/har", salt="s3cret")
    manifests["train"].num_timesteps
    ```
    """
    from sensorlm_keras.data.captions.window_captioner import (
        WindowCaptioner,
        window_caption_variants,
    )
    from sensorlm_keras.data.captions.zero_shot_prompts import WINDOW_PROMPT_TEMPLATES
    from sensorlm_keras.data.dataset_builder import caption_seed
    from sensorlm_keras.data.preprocessing import preprocess_days
    from sensorlm_keras.data.tfrecord_writer import TFRecordDatasetWriter

    if not isinstance(windows, LabelledWindows):
        raise ConfigError(
            f"build_window_dataset(windows): expected LabelledWindows, received "
            f"{describe(windows)}."
        )
    splits = _splits(windows, fractions, split_method)
    if splits.get("train", np.zeros(0)).size == 0:
        raise DataError(f"{windows.source}: no window in the train split (people: "
                        f"{len(set(windows.person_ids))}); add people or pass a 'split' array.")
    schema, normalization = window_schema(windows, splits["train"])
    captioner = WindowCaptioner(schema, windows.step_seconds)
    day_index = _index_within_person(windows.person_ids)
    bar = progress_bar(progress, "caption + write", "window", total=len(windows))
    manifests = {}
    try:
        for split, rows in splits.items():
            if rows.size == 0:
                continue
            pre = preprocess_days(
                windows.sensor[rows], schema=schema, missing_threshold=missing_threshold,
                num_timesteps=windows.num_timesteps,
                plausible_ranges={} if windows.zscored else None,
            )
            kept = rows[pre.kept_indices]
            pick = (lambda values: None if values is None else [values[i] for i in kept])
            captions = captioner.generate_batch(
                pre.sensor, pre.mask, labels=pick(windows.labels),
                captions=pick(windows.captions),
                seeds=[caption_seed(seed, windows.person_ids[i], day_index[i]) for i in kept],
            )
            writer = TFRecordDatasetWriter(
                os.path.join(os.fspath(out_dir), split), schema.names, split=split,
                num_shards=int(max(1, min(num_shards, kept.size))), compression=compression,
                salt=salt, num_timesteps=windows.num_timesteps,
                caption_variants=list(window_caption_variants(windows.num_timesteps)),
                overwrite=overwrite,
                extra={
                    **(extra or {}),
                    "kind": "labelled windows",
                    "window": {"num_timesteps": windows.num_timesteps,
                               "step_seconds": windows.step_seconds},
                    "normalization": normalization,
                    "channels": schema.to_config(),
                    "zero_shot_templates": list(WINDOW_PROMPT_TEMPLATES),
                    "missing_threshold": missing_threshold,
                    "caption_seed": seed,
                    "num_people": int(np.unique([windows.person_ids[i] for i in rows]).size),
                    "dropped_windows": int(pre.dropped_indices.size),
                },
            )
            with writer:
                for j, i in enumerate(kept):
                    writer.write(
                        pre.sensor[j], pre.mask[j], pre.missing_ratio[j], captions[j],
                        person_id=windows.person_ids[i], day_index=day_index[i],
                        activity_label="none" if windows.labels is None else windows.labels[i],
                    )
            manifests[split] = writer.manifest
            if bar is not None:
                bar.update(rows.size)
    finally:
        if bar is not None:
            bar.close()
    return manifests


def _splits(windows, fractions, split_method):
    if windows.splits is None:
        return split_by_person(windows.person_ids, fractions, method=split_method)
    first = {}
    for i, (person, split) in enumerate(zip(windows.person_ids, windows.splits)):
        if first.setdefault(person, split) != split:
            raise DataError(
                f"{windows.source}: field 'split' puts person {person!r} in both "
                f"{first[person]!r} and {split!r} (window {i}); a person's windows must stay in "
                "one split."
            )
    names = np.asarray(windows.splits)
    return {s: np.flatnonzero(names == s).astype(np.int64) for s in sorted(set(windows.splits))}


def _index_within_person(person_ids):
    """The window's position among its person's windows (the stored ``day_index``)."""
    seen = {}
    out = []
    for p in person_ids:
        out.append(seen.get(p, 0))
        seen[p] = out[-1] + 1
    return out
