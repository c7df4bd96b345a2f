"""`make_dataset`: the tf.data input pipeline from TFRecord shards to model batches."""

import logging
import os
import warnings

from sensorlm_keras.data.dataset_manifest import SCHEMA_VERSION
from sensorlm_keras.data.tfrecord import (
    _describe_bad,
    caption_key,
    check_shards,
    feature_spec,
    read_examples,
    resolve_shards,
)
from sensorlm_keras.errors import ConfigError, DataError, describe

logger = logging.getLogger(__name__)

_MASK_DTYPES = ("bool", "float32", "int32")


def _caption_variants():
    from sensorlm_keras.data.captions import CAPTION_VARIANTS

    return CAPTION_VARIANTS


def _positive_int(value, field, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"make_dataset({field}): expected a positive integer, received {value!r}."
        )
    return value


def make_dataset(
    source,
    tokenizer,
    batch_size,
    variant="high_summary",
    text_length=None,
    shuffle_buffer=None,
    seed=None,
    repeat=False,
    drop_remainder=False,
    channels=None,
    on_corrupt="skip",
    verify="auto",
    mask_dtype="bool",
    include_metadata=False,
    cycle_length=None,
    skip_batches=0,
):
    """Build the training/evaluation ``tf.data.Dataset`` from stored TFRecord shards.

    Pipeline: shard list (shuffled when ``shuffle_buffer``) -> ``interleave`` of
    ``TFRecordDataset`` readers -> ``shuffle`` -> ``repeat`` -> ``batch`` -> vectorised parse
    (``tf.io.parse_example`` + ``decode_raw``) -> in-graph tokenisation of the chosen caption
    variant -> ``prefetch``. Elements are dicts::

        {"sensor": float32 (B, T, C), "sensor_mask": bool (B, T, C),
         "token_ids": int32 (B, L), "padding_mask": bool (B, L)}

    ``sensor_mask`` is ``True`` where the minute was missing (imputed); ``padding_mask`` is
    ``True`` on real tokens. Before reading, every shard is checked (`check_shards`): a corrupt
    or truncated shard is either skipped with a ``RuntimeWarning`` that names it and counts the
    skipped shards (``on_corrupt="skip"``, default; the list is also in
    ``dataset.skipped_shards``) or raises `DataError` (``on_corrupt="raise"``). Nothing is ever
    skipped silently; a problem the check did not catch stops iteration with TensorFlow's error.

    Args:
        source: dataset directory (with ``manifest.json``), directory of ``*.tfrecord[.gz]``,
            a shard file, a glob pattern, or a list of shard paths.
        tokenizer: a `SensorLMTokenizer` (anything callable as
            ``tokenizer(tf.string (B,), sequence_length=L) -> dict`` works).
        batch_size: examples per batch.
        variant: caption variant to train on (one of ``CAPTION_VARIANTS``; default
            ``"high_summary"``).
        text_length: token sequence length ``L``; default the tokenizer's ``sequence_length``.
        shuffle_buffer: shuffle buffer size (``None``/0: no shuffling, files in order).
        seed: seed of the file and example shuffles (deterministic order when set).
        repeat: repeat forever (for ``steps_per_epoch`` training).
        drop_remainder: drop the last partial batch (static batch dimension).
        channels: optional list of channel names to keep (in that order), e.g. the paper's 26.
        on_corrupt: ``"skip"`` (warn, count and skip bad shards) or ``"raise"``.
        verify: shard check before reading: ``"auto"``, ``"checksum"``, ``"scan"`` or
            ``"none"`` (see `check_shards`).
        mask_dtype: dtype of ``sensor_mask`` and ``padding_mask``: ``"bool"`` (default),
            ``"float32"`` or ``"int32"`` (``tf.distribute.MirroredStrategy`` cannot batch bool
            tensors inside ``model.fit`` in TF 2.21).
        include_metadata: also yield ``person_id`` (pseudonym), ``day_index`` and
            ``activity_label`` (for evaluation; not for ``model.fit``).
        cycle_length: files read in parallel by ``interleave`` (default ``min(#files, 8)``).
        skip_batches: start after this many batches of the same (seeded) stream, e.g. the
            steps an interrupted run already trained on; they are read but not decoded.

    Returns:
        A ``tf.data.Dataset``; ``dataset.skipped_shards`` lists the skipped shard paths.

    Example:

    ```python
    from sensorlm_keras.data import make_dataset
    from sensorlm_keras.tokenizers import SensorLMTokenizer

    tokenizer = SensorLMTokenizer.load("artifacts/tokenizer", sequence_length=64)
    ds = make_dataset("data/synth/train", tokenizer, batch_size=8, shuffle_buffer=1000,
                      seed=0, repeat=True, drop_remainder=True)
    model.fit(ds, steps_per_epoch=100, epochs=1)
    ```
    """
    import tensorflow as tf

    variants = _caption_variants()
    if variant not in variants:
        raise ConfigError(
            f"make_dataset(variant): unknown caption variant {variant!r}; expected one of "
            f"{list(variants)}."
        )
    batch_size = _positive_int(batch_size, "batch_size")
    shuffle_buffer = None if not shuffle_buffer else _positive_int(shuffle_buffer, "shuffle_buffer")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(
            f"make_dataset(seed): expected a non-negative integer or None, received {seed!r}."
        )
    if on_corrupt not in ("skip", "raise"):
        raise ConfigError(
            f"make_dataset(on_corrupt): expected 'skip' or 'raise', received {on_corrupt!r}."
        )
    if mask_dtype not in _MASK_DTYPES:
        raise ConfigError(
            f"make_dataset(mask_dtype): expected one of {_MASK_DTYPES}, received {mask_dtype!r}."
        )
    if tokenizer is None or not callable(tokenizer):
        raise ConfigError(
            f"make_dataset(tokenizer): expected a callable tokenizer (SensorLMTokenizer), received "
            f"{describe(tokenizer)}."
        )
    if text_length is None:
        text_length = getattr(tokenizer, "sequence_length", None)
    text_length = _positive_int(text_length, "text_length")
    cycle_length = _positive_int(cycle_length, "cycle_length", allow_none=True)
    if isinstance(skip_batches, bool) or not isinstance(skip_batches, int) or skip_batches < 0:
        raise ConfigError(
            f"make_dataset(skip_batches): expected a non-negative integer, received "
            f"{skip_batches!r}."
        )

    shards = resolve_shards(source)
    good, bad = check_shards(source, verify=verify)
    if bad:
        message = (
            f"{len(bad)} of {len(shards.files)} shard(s) corrupt or truncated: {_describe_bad(bad)}"
        )
        if on_corrupt == "raise":
            raise DataError(f"make_dataset(source): {message}.")
        warnings.warn(f"make_dataset: skipping {message}.", RuntimeWarning, stacklevel=2)
        logger.warning("make_dataset: skipping %s", message)
    if not good:
        raise DataError(f"make_dataset(source): no readable shard left in {source!r}.")
    compressions = {os.path.abspath(f): c for f, c in zip(shards.files, shards.compression)}
    if len({compressions[f] for f in good}) != 1:
        raise DataError(
            "make_dataset(source): shards mix compressed and uncompressed files; keep one kind."
        )
    compression = compressions[good[0]] or ""

    if shards.manifest is not None:
        stored = list(shards.manifest.channel_names)
        num_timesteps = shards.manifest.num_timesteps
        if variant not in shards.manifest.caption_variants:
            raise ConfigError(
                f"make_dataset(variant): the dataset stores {shards.manifest.caption_variants}, "
                f"not {variant!r}."
            )
    else:
        first = next(iter(read_examples(good[:1], variants=[variant])), None)
        if first is None:
            raise DataError(f"make_dataset(source): shard {good[0]!r} holds no example.")
        stored = first["channel_names"]
        num_timesteps = first["sensor"].shape[0]
    num_stored = len(stored)
    gather = None
    if channels is not None:
        channels = list(channels)
        unknown = [c for c in channels if c not in stored]
        if unknown or not channels:
            raise ConfigError(
                f"make_dataset(channels): unknown channel names {unknown}; the dataset stores "
                f"{stored}."
            )
        gather = [stored.index(c) for c in channels]
    num_channels = len(gather) if gather is not None else num_stored

    files = tf.data.Dataset.from_tensor_slices(good)
    if shuffle_buffer:
        files = files.shuffle(len(good), seed=seed, reshuffle_each_iteration=True)
    deterministic = seed is not None or not shuffle_buffer
    dataset = files.interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
        cycle_length=cycle_length or min(len(good), 8),
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    )
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if skip_batches:
        dataset = dataset.skip(skip_batches)  # before the parse: the stream is seeded
    spec = feature_spec([variant], metadata=include_metadata)
    out_mask_dtype = tf.as_dtype(mask_dtype)

    def parse(serialized):
        f = tf.io.parse_example(serialized, spec)
        tf.debugging.assert_equal(
            f["schema_version"],
            tf.constant(SCHEMA_VERSION, tf.int64),
            message=f"TFRecord schema_version differs from {SCHEMA_VERSION}",
        )
        shape = [-1, num_timesteps, num_stored]
        sensor = tf.reshape(tf.io.decode_raw(f["sensor"], tf.float32, little_endian=True), shape)
        mask = tf.reshape(tf.io.decode_raw(f["mask"], tf.uint8), shape)
        if gather is not None:
            sensor = tf.gather(sensor, gather, axis=-1)
            mask = tf.gather(mask, gather, axis=-1)
        tokens = tokenizer(f[caption_key(variant)], sequence_length=text_length)
        batch = batch_size if drop_remainder else None
        out = {
            "sensor": tf.ensure_shape(sensor, [batch, num_timesteps, num_channels]),
            "sensor_mask": tf.ensure_shape(
                tf.cast(tf.cast(mask, tf.bool), out_mask_dtype),
                [batch, num_timesteps, num_channels],
            ),
            "token_ids": tf.cast(tokens["token_ids"], tf.int32),
            "padding_mask": tf.cast(tokens["padding_mask"], out_mask_dtype),
        }
        if include_metadata:
            out["person_id"] = f["person_id"]
            out["day_index"] = f["day_index"]
            out["activity_label"] = f["activity_label"]
        return out

    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    skipped = sorted(bad)
    try:
        dataset.skipped_shards = skipped
    except AttributeError:  # pragma: no cover - tf.data objects accept attributes today
        pass
    return dataset
