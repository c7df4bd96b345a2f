"""TFRecord storage of captioned person-days: example format, shard discovery and reading.

One ``tf.train.Example`` per person-day (`SCHEMA_VERSION` 1):

=====================  =========  ===========================================================
key                    type       content
=====================  =========  ===========================================================
``sensor``             bytes      float32 little-endian z-scores, ``T x C`` row-major
``mask``               bytes      uint8 0/1, ``T x C`` (1 = missing before imputation)
``missing_ratio``      float      fraction of missing cells
``num_timesteps``      int64      ``T`` (1440)
``num_channels``       int64      ``C``
``channel_names``      bytes[]    the ``C`` channel names, in order
``caption/<variant>``  bytes      UTF-8 caption, one feature per variant of CAPTION_VARIANTS
``person_id``          bytes      pseudonym (HMAC-SHA256 of the raw id with a secret salt)
``day_index``          int64      day number within the person
``activity_label``     bytes      longest logged activity of >= 20 min or ``"none"``
``events``             bytes      JSON list of event dicts (`Event.to_dict`)
``schema_version``     int64      `SCHEMA_VERSION`
=====================  =========  ===========================================================

Raw bytes keep the sensor values bit-exact and parse fast (``tf.io.decode_raw``). TensorFlow is
imported inside the functions only.
"""

import dataclasses
import glob
import hashlib
import json
import os

import numpy as np

from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME, SCHEMA_VERSION, DatasetManifest
from sensorlm_keras.data.event import Event
from sensorlm_keras.errors import ConfigError, DataError, describe

CAPTION_PREFIX = "caption/"
# Written by `TFRecordDatasetWriter` while a split is being written, removed with the manifest.
INCOMPLETE_MARKER = ".write-in-progress"
SHARD_SUFFIXES = (".tfrecord", ".tfrecord.gz")


def caption_key(variant):
    """Feature key of a caption variant, e.g. ``"caption/high_summary"``."""
    return CAPTION_PREFIX + variant


def serialize_example(
    sensor,
    mask,
    missing_ratio,
    captions,
    person_pseudonym,
    day_index,
    events,
    channel_names,
    activity_label="none",
):
    """Encode one person-day as a serialized ``tf.train.Example`` (see the module table).

    Inputs are assumed validated (`TFRecordDatasetWriter.write` validates them).
    """
    import tensorflow as tf

    sensor = np.ascontiguousarray(sensor, dtype="<f4")
    mask = np.ascontiguousarray(mask, dtype=np.uint8)

    def b(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))

    def i(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    def f(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    feature = {
        "sensor": b([sensor.tobytes()]),
        "mask": b([mask.tobytes()]),
        "missing_ratio": f([float(missing_ratio)]),
        "num_timesteps": i([sensor.shape[0]]),
        "num_channels": i([sensor.shape[1]]),
        "channel_names": b([n.encode("utf-8") for n in channel_names]),
        "person_id": b([person_pseudonym.encode("utf-8")]),
        "day_index": i([int(day_index)]),
        "activity_label": b([str(activity_label).encode("utf-8")]),
        "events": b([json.dumps([e.to_dict() for e in events]).encode("utf-8")]),
        "schema_version": i([SCHEMA_VERSION]),
    }
    for variant, text in captions.items():
        feature[caption_key(variant)] = b([text.encode("utf-8")])
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString()


def feature_spec(variants=(), metadata=False):
    """``tf.io.parse_example`` spec for the sensor, mask and the given caption variants."""
    import tensorflow as tf

    spec = {
        "sensor": tf.io.FixedLenFeature([], tf.string),
        "mask": tf.io.FixedLenFeature([], tf.string),
        "missing_ratio": tf.io.FixedLenFeature([], tf.float32),
        "schema_version": tf.io.FixedLenFeature([], tf.int64),
    }
    for variant in variants:
        spec[caption_key(variant)] = tf.io.FixedLenFeature([], tf.string)
    if metadata:
        spec["person_id"] = tf.io.FixedLenFeature([], tf.string)
        spec["day_index"] = tf.io.FixedLenFeature([], tf.int64)
        spec["activity_label"] = tf.io.FixedLenFeature([], tf.string, default_value="none")
    return spec


def compression_of(path):
    """``"GZIP"`` for ``*.gz`` files, else ``None``."""
    return "GZIP" if os.fspath(path).endswith(".gz") else None


@dataclasses.dataclass
class ShardSet:
    """Shards of one dataset split as found by `resolve_shards`.

    Args:
        files: absolute shard paths (sorted).
        manifest: the `DatasetManifest` when the source is a dataset directory, else ``None``.
        compression: ``"GZIP"``/``None`` per file, aligned with ``files``.
    """

    files: list
    manifest: object
    compression: list


def resolve_shards(source):
    """Find the shards of a dataset directory (with ``manifest.json``), a directory of
    ``*.tfrecord[.gz]`` files, a single file or a glob pattern.

    Raises:
        DataError: nothing matches, or a manifest lists files that do not exist.
    """
    if isinstance(source, (list, tuple)):
        files = [os.path.abspath(os.fspath(s)) for s in source]
        manifest = None
    else:
        source = os.fspath(source)
        manifest = None
        if os.path.isdir(source):
            if os.path.isfile(os.path.join(source, INCOMPLETE_MARKER)):
                raise DataError(
                    f"source {source!r}: the dataset is incomplete: a write was interrupted "
                    f"(killed or out of space) before its manifest was written ({INCOMPLETE_MARKER} "
                    "is present); write the split again (e.g. 'sensorlm data synth --overwrite')."
                )
            if os.path.isfile(os.path.join(source, MANIFEST_FILENAME)):
                manifest = DatasetManifest.load(source)
                files = [os.path.join(source, s["file"]) for s in manifest.shards]
                missing = [f for f in files if not os.path.isfile(f)]
                if missing:
                    raise DataError(
                        f"source {source!r}: the manifest lists shards that do not exist: "
                        f"{[os.path.basename(m) for m in missing]}."
                    )
            else:
                files = sorted(
                    p
                    for p in glob.glob(os.path.join(source, "*"))
                    if p.endswith(SHARD_SUFFIXES) and os.path.isfile(p)
                )
        elif os.path.isfile(source):
            files = [source]
        else:
            files = sorted(p for p in glob.glob(source) if os.path.isfile(p))
        files = [os.path.abspath(f) for f in files]
    if not files:
        if manifest is not None:
            raise DataError(f"source {source!r}: the manifest lists no shards (0 examples).")
        if isinstance(source, str) and os.path.isdir(source):
            splits = sorted(
                d
                for d in os.listdir(source)
                if os.path.isfile(os.path.join(source, d, MANIFEST_FILENAME))
            )
            if splits:
                raise DataError(
                    f"source {source!r}: this is a dataset root; pass one split directory, "
                    f"e.g. {os.path.join(source, splits[0])!r} (splits: {splits})."
                )
        raise DataError(
            f"source: expected a dataset directory, a *.tfrecord[.gz] file or a glob pattern "
            f"matching some, received {source!r} which matches nothing."
        )
    for f in files:
        if not os.path.isfile(f):
            raise DataError(f"source: shard {f!r} does not exist.")
    return ShardSet(files=files, manifest=manifest, compression=[compression_of(f) for f in files])


# A stored person-day is ~0.3 MB; a record claiming more than this is refused before any reader
# allocates it (TensorFlow's reader would try to allocate whatever a length field claims).
MAX_RECORD_BYTES = 64 * 2**20


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def _masked_crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def scan_record_lengths(path, compression=None, max_record_bytes=None):
    """Walk the record headers of a TFRecord shard without reading (or allocating) any record.

    Each record is ``uint64 length | uint32 masked CRC32C(length) | data | uint32 CRC``. The
    length fields are checked (CRC, bound, within the file) and the data is skipped, so a crafted
    length such as 2**40 is refused before TensorFlow's reader (which would try to allocate it)
    ever opens the file. Memory use is constant.

    Args:
        path: shard file.
        compression: ``"GZIP"`` or ``None``.
        max_record_bytes: largest record accepted (default `MAX_RECORD_BYTES`).

    Returns:
        ``(num_records, None)`` or ``(records_before_the_problem, reason)``.
    """
    import gzip
    import struct
    import zlib

    limit = MAX_RECORD_BYTES if max_record_bytes is None else int(max_record_bytes)
    count = 0
    opener = gzip.open if compression == "GZIP" else open
    try:
        with opener(path, "rb") as f:
            end = None if compression == "GZIP" else os.fstat(f.fileno()).st_size
            while True:
                header = f.read(12)
                if not header:
                    return count, None
                if len(header) < 12:
                    return count, f"record {count}: truncated length header ({len(header)} bytes)"
                (length,) = struct.unpack("<Q", header[:8])
                (crc,) = struct.unpack("<I", header[8:])
                if crc != _masked_crc32c(header[:8]):
                    return count, f"record {count}: corrupt length header (CRC mismatch)"
                if length > limit:
                    return count, (
                        f"record {count}: length field claims {length} bytes, more than the "
                        f"{limit}-byte limit (refused without allocating)"
                    )
                target = f.tell() + length + 4
                if end is not None and target > end:
                    return count, (
                        f"record {count}: truncated ({length} bytes announced, the file ends first)"
                    )
                f.seek(target)
                if f.tell() != target:
                    return count, (
                        f"record {count}: truncated ({length} bytes announced, the file ends first)"
                    )
                count += 1
    except (OSError, EOFError, zlib.error) as error:
        return count, f"record {count}: unreadable ({type(error).__name__}: {error})"


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scan(path, compression):
    """Read every record of a shard; returns (count, error message or None)."""
    import tensorflow as tf

    count = 0
    try:
        for _ in tf.data.TFRecordDataset(path, compression_type=compression or ""):
            count += 1
    except (
        tf.errors.DataLossError,
        tf.errors.InvalidArgumentError,
        tf.errors.OutOfRangeError,
        tf.errors.UnknownError,
    ) as error:
        return count, f"{type(error).__name__}: {error.message.splitlines()[0]}"
    return count, None


def check_shards(source, verify="auto"):
    """Check that every shard of a dataset is complete and readable, without stopping at the
    first problem.

    Args:
        source: anything `resolve_shards` accepts.
        verify: ``"checksum"``: compare size and SHA-256 with the manifest (fast, needs a
            manifest); ``"scan"``: read every record (detects truncated and corrupt records);
            ``"auto"`` (default): checksum when the manifest has checksums, else scan;
            ``"none"``: no check of the content. Whatever the mode, the record length fields
            are always checked first (`scan_record_lengths`): a record claiming more than
            `MAX_RECORD_BYTES` is refused before any reader allocates it.

    Returns:
        ``(good_files, bad)`` where ``bad`` maps each failing shard path to the reason.

    Example:

    ```python
    from sensorlm_keras.data import check_shards

    good, bad = check_shards("data/synth/train")
    for shard, reason in bad.items():
        print(shard, reason)
    ```
    """
    if verify not in ("auto", "checksum", "scan", "none"):
        raise ConfigError(
            f"verify: expected 'auto', 'checksum', 'scan' or 'none', received {verify!r}."
        )
    shards = resolve_shards(source)
    good, bad = [], {}
    entries = {}
    if shards.manifest is not None:
        base = os.path.dirname(shards.files[0])
        entries = {os.path.join(base, s["file"]): s for s in shards.manifest.shards}
    if verify == "checksum" and shards.manifest is None:
        raise ConfigError("verify='checksum' needs a dataset directory with a manifest.json.")
    for path, compression in zip(shards.files, shards.compression):
        entry = entries.get(path)
        use_checksum = verify == "checksum" or (
            verify == "auto" and entry is not None and "sha256" in entry
        )
        reason = None
        if use_checksum and verify != "none":  # pure Python: safe before the length scan
            size = os.path.getsize(path)
            if entry.get("num_bytes") is not None and size != entry["num_bytes"]:
                reason = (
                    f"size {size} bytes differs from the manifest's {entry['num_bytes']} "
                    "(truncated or overwritten)"
                )
            elif _sha256(path) != entry.get("sha256"):
                reason = "SHA-256 differs from the manifest (corrupt or modified)"
        if reason is None:  # always, before TensorFlow opens the file
            count, reason = scan_record_lengths(path, compression)
            if reason is not None:
                reason = f"unreadable after {count} records ({reason})"
        if reason is None and verify != "none" and not use_checksum:
            count, error = _scan(path, compression)
            if error is not None:
                reason = f"unreadable after {count} records ({error})"
            elif entry is not None and count != entry["num_examples"]:
                reason = f"{count} records, the manifest says {entry['num_examples']}"
        if reason is None:
            good.append(path)
        else:
            bad[path] = reason
    return good, bad


def decode_events(text):
    """JSON text of the ``events`` feature -> list of `Event`."""
    try:
        items = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"events: not a valid JSON event list ({error}).") from None
    if not isinstance(items, list):
        raise DataError(f"events: expected a JSON list of event objects, received {describe(items)}.")
    events = []
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            raise DataError(f"events[{i}]: expected a JSON object, received {describe(d)}.")
        try:
            events.append(Event.from_dict(d))
        except TypeError as error:
            raise DataError(f"events[{i}]: unexpected or missing fields ({error}).") from None
    return events


def read_examples(source, variants=None, verify="none"):
    """Iterate over stored examples eagerly as NumPy / Python values (for tests, inspection,
    the CLI and evaluation; use `make_dataset` for training).

    Args:
        source: anything `resolve_shards` accepts.
        variants: caption variants to return (default: every ``caption/*`` feature found).
        verify: see `check_shards`; a failing shard raises `DataError` naming it.

    Yields:
        dicts with ``sensor`` float32 ``(T, C)``, ``mask`` bool ``(T, C)``, ``missing_ratio``,
        ``captions`` (dict variant -> str), ``person_id``, ``day_index``, ``activity_label``,
        ``events`` (list of `Event`), ``channel_names``, ``schema_version``, ``shard``.
    """
    import tensorflow as tf

    if verify != "none":
        _, bad = check_shards(source, verify=verify)
        if bad:
            raise DataError(f"read_examples: corrupt shard(s): {_describe_bad(bad)}.")
    shards = resolve_shards(source)
    for path, compression in zip(shards.files, shards.compression):
        _, reason = scan_record_lengths(path, compression)
        if reason is not None:
            raise DataError(f"read_examples: shard {path!r} is corrupt: {reason}.")
        dataset = tf.data.TFRecordDataset(path, compression_type=compression or "")
        iterator = iter(dataset)
        index = 0
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
                raise DataError(
                    f"read_examples: shard {path!r} is corrupt or truncated after {index} "
                    f"records ({error.message.splitlines()[0]})."
                ) from None
            yield _decode_record(record.numpy(), variants, path, index)
            index += 1


def _utf8(raw, field):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{field}: expected UTF-8 text, received invalid bytes ({error}).") from None


def _describe_bad(bad):
    return "; ".join(f"{os.path.basename(p)}: {reason}" for p, reason in bad.items())


def _decode_record(serialized, variants, path, index):
    import tensorflow as tf

    example = tf.train.Example()
    try:
        example.ParseFromString(serialized)
    except Exception as error:  # protobuf DecodeError
        raise DataError(f"{path!r} record {index}: not a tf.train.Example ({error}).") from None
    f = example.features.feature
    where = f"{os.path.basename(path)} record {index}"

    def one(key, kind):
        if key not in f:
            raise DataError(f"{where}: missing feature {key!r}.")
        values = getattr(f[key], kind).value
        if len(values) != 1:
            raise DataError(f"{where}: feature {key!r} expected 1 value, received {len(values)}.")
        return values[0]

    version = one("schema_version", "int64_list")
    if version != SCHEMA_VERSION:
        raise DataError(f"{where}: schema_version expected {SCHEMA_VERSION}, received {version}.")
    t, c = one("num_timesteps", "int64_list"), one("num_channels", "int64_list")
    names = [n.decode("utf-8", "replace") for n in f["channel_names"].bytes_list.value] if (
        "channel_names" in f) else []
    if t < 1 or c < 1 or c != len(names):
        raise DataError(
            f"{where}: expected num_timesteps >= 1 and num_channels equal to the "
            f"{len(names)} channel_names, received num_timesteps={t}, num_channels={c}."
        )
    sensor = np.frombuffer(one("sensor", "bytes_list"), dtype="<f4")
    mask = np.frombuffer(one("mask", "bytes_list"), dtype=np.uint8)
    if sensor.size != t * c or mask.size != t * c:
        raise DataError(
            f"{where}: sensor/mask hold {sensor.size}/{mask.size} values, expected "
            f"{t} x {c} = {t * c}."
        )
    if variants is None:
        keys = sorted(k[len(CAPTION_PREFIX) :] for k in f if k.startswith(CAPTION_PREFIX))
    else:
        keys = list(variants)
    captions = {v: _utf8(one(caption_key(v), "bytes_list"), f"{where}: caption/{v}") for v in keys}
    try:
        events = decode_events(_utf8(one("events", "bytes_list"), "events"))
    except DataError as error:
        raise DataError(f"{where}: {error}") from None
    return {
        "sensor": sensor.reshape(t, c).astype(np.float32),
        "mask": mask.reshape(t, c).astype(bool),
        "missing_ratio": float(one("missing_ratio", "float_list")),
        "captions": captions,
        "person_id": _utf8(one("person_id", "bytes_list"), f"{where}: person_id"),
        "day_index": int(one("day_index", "int64_list")),
        "activity_label": _utf8(one("activity_label", "bytes_list"), f"{where}: activity_label"),
        "events": events,
        "channel_names": [_utf8(n, f"{where}: channel_names") for n in
                          f["channel_names"].bytes_list.value],
        "schema_version": int(version),
        "shard": path,
    }
