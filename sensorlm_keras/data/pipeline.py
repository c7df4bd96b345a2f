"""`make_dataset`: the tf.data input pipeline from TFRecord shards to model batches."""

import logging
import os
import warnings

from sensorlm_keras.data.dataset_manifest import SCHEMA_VERSION
from sensorlm_keras.data.tfrecord import check_shards, describe_bad, read_examples, resolve_shards
from sensorlm_keras.data.tfrecord_example import caption_key, feature_spec
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_choice, check_int, check_positive_int, check_seed

logger = logging.getLogger(__name__)

_MASK_DTYPES = ("bool", "float32", "int32")


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
            ``tokenizer(tf.string (B,), text_length=L) -> dict`` works).
        batch_size: examples per batch.
        variant: caption variant to train on (one of ``CAPTION_VARIANTS``; default
            ``"high_summary"``).
        text_length: token sequence length ``L``; default the tokenizer's ``text_length``.
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

    tokenizer = SensorLMTokenizer.load("artifacts/tokenizer", text_length=64)
    ds = make_dataset("data/synth/train", tokenizer, batch_size=8, shuffle_buffer=1000,
                      seed=0, repeat=True, drop_remainder=True)
    model.fit(ds, steps_per_epoch=100, epochs=1)
    ```
    """
    import tensorflow as tf

    _check_variant(variant)
    batch_size = check_positive_int(batch_size, "make_dataset(batch_size)")
    shuffle_buffer = (
        check_positive_int(shuffle_buffer, "make_dataset(shuffle_buffer)") if shuffle_buffer
        else None
    )
    seed = check_seed(seed, "make_dataset(seed)", allow_none=True)
    check_choice(on_corrupt, "make_dataset(on_corrupt)", ("skip", "raise"))
    check_choice(mask_dtype, "make_dataset(mask_dtype)", _MASK_DTYPES)
    text_length = _text_length(tokenizer, text_length)
    cycle_length = check_positive_int(cycle_length, "make_dataset(cycle_length)", allow_none=True)
    skip_batches = check_int(skip_batches, "make_dataset(skip_batches)", minimum=0)

    good, bad, compression, shards = _readable_shards(source, verify, on_corrupt)
    stored, num_timesteps = _stored_layout(shards, good, variant)
    gather = _channel_gather(channels, stored)
    deterministic = seed is not None or not shuffle_buffer
    dataset = _record_batches(good, compression, shuffle_buffer, seed, repeat, batch_size,
                              drop_remainder, cycle_length, skip_batches, deterministic)
    parse = _example_parser(
        variant, tokenizer, text_length, num_timesteps, len(stored), gather,
        batch_size if drop_remainder else None, tf.as_dtype(mask_dtype), include_metadata,
    )
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    try:
        dataset.skipped_shards = sorted(bad)
    except AttributeError:  # pragma: no cover - tf.data objects accept attributes today
        pass
    return dataset


def _check_variant(variant):
    from sensorlm_keras.data.captions import CAPTION_VARIANTS

    if variant not in CAPTION_VARIANTS:
        raise ConfigError(
            f"make_dataset(variant): unknown caption variant {variant!r}; expected one of "
            f"{list(CAPTION_VARIANTS)}."
        )


def _text_length(tokenizer, text_length):
    """The token length: ``text_length``, else the tokenizer's ``text_length``."""
    if tokenizer is None or not callable(tokenizer):
        raise ConfigError(
            f"make_dataset(tokenizer): expected a callable tokenizer (SensorLMTokenizer), received "
            f"{describe(tokenizer)}."
        )
    if text_length is None:
        text_length = getattr(tokenizer, "text_length", None)
    return check_positive_int(text_length, "make_dataset(text_length)")


def _readable_shards(source, verify, on_corrupt):
    """``(good, bad, compression, shards)``: the shards that passed `check_shards` (a bad one is
    skipped with a warning or raises), their common compression and the resolved `ShardSet`."""
    shards = resolve_shards(source)
    good, bad = check_shards(source, verify=verify)
    if bad:
        message = (
            f"{len(bad)} of {len(shards.files)} shard(s) corrupt or truncated: {describe_bad(bad)}"
        )
        if on_corrupt == "raise":
            raise DataError(f"make_dataset(source): {message}.")
        warnings.warn(f"make_dataset: skipping {message}.", RuntimeWarning, stacklevel=3)
        logger.warning("make_dataset: skipping %s", message)
    if not good:
        raise DataError(f"make_dataset(source): no readable shard left in {source!r}.")
    compressions = {os.path.abspath(f): c for f, c in zip(shards.files, shards.compression)}
    if len({compressions[f] for f in good}) != 1:
        raise DataError(
            "make_dataset(source): shards mix compressed and uncompressed files; keep one kind."
        )
    return good, bad, compressions[good[0]] or "", shards


def _stored_layout(shards, good, variant):
    """``(channel names, timesteps)`` of the stored examples (manifest, else first example)."""
    if shards.manifest is not None:
        if variant not in shards.manifest.caption_variants:
            raise ConfigError(
                f"make_dataset(variant): the dataset stores {shards.manifest.caption_variants}, "
                f"not {variant!r}."
            )
        return list(shards.manifest.channel_names), shards.manifest.num_timesteps
    first = next(iter(read_examples(good[:1], variants=[variant])), None)
    if first is None:
        raise DataError(f"make_dataset(source): shard {good[0]!r} holds no example.")
    return first["channel_names"], first["sensor"].shape[0]


def _channel_gather(channels, stored):
    """Indices of ``channels`` among the stored channel names (None: keep them all)."""
    if channels is None:
        return None
    channels = list(channels)
    unknown = [c for c in channels if c not in stored]
    if unknown or not channels:
        raise ConfigError(
            f"make_dataset(channels): unknown channel names {unknown}; the dataset stores "
            f"{stored}."
        )
    return [stored.index(c) for c in channels]


def _record_batches(files, compression, shuffle_buffer, seed, repeat, batch_size,
                    drop_remainder, cycle_length, skip_batches, deterministic):
    """Batches of serialized records: file shuffle, interleave, example shuffle, repeat, batch."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_buffer:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
        cycle_length=cycle_length or min(len(files), 8),
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
    return dataset


def _example_parser(variant, tokenizer, text_length, num_timesteps, num_stored, gather,
                    static_batch, mask_dtype, include_metadata):
    """The in-graph function: a batch of serialized examples -> the model's input dict."""
    import tensorflow as tf

    spec = feature_spec([variant], metadata=include_metadata)
    num_channels = len(gather) if gather is not None else num_stored
    sensor_shape = [static_batch, num_timesteps, num_channels]

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
        tokens = tokenizer(f[caption_key(variant)], text_length=text_length)
        out = {
            "sensor": tf.ensure_shape(sensor, sensor_shape),
            "sensor_mask": tf.ensure_shape(
                tf.cast(tf.cast(mask, tf.bool), mask_dtype), sensor_shape
            ),
            "token_ids": tf.cast(tokens["token_ids"], tf.int32),
            "padding_mask": tf.cast(tokens["padding_mask"], mask_dtype),
        }
        if include_metadata:
            out["person_id"] = f["person_id"]
            out["day_index"] = f["day_index"]
            out["activity_label"] = f["activity_label"]
        return out

    return parse
