"""Reading stored TFRecord shards safely: record framing, shard checks and `read_examples`.

Every shard is a sequence of records ``uint64 length | uint32 masked CRC32C(length) | data |
uint32 CRC``. Before TensorFlow opens a shard, `scan_record_lengths` walks the length fields
without reading any record, so a crafted length is refused before a reader allocates it;
`check_shards` adds the manifest checksums or a full read; `read_examples` decodes examples
eagerly (the example format is `tfrecord_example`, the shard discovery `shard_set`).
TensorFlow is imported inside the functions only.
"""

import hashlib
import os

from sensorlm_keras.data.shard_set import (  # noqa: F401  (re-exported: the storage API)
    INCOMPLETE_MARKER,
    SHARD_SUFFIXES,
    ShardSet,
    compression_of,
    resolve_shards,
)
from sensorlm_keras.data.tfrecord_example import (  # noqa: F401  (re-exported)
    CAPTION_PREFIX,
    caption_key,
    decode_events,
    decode_example,
    feature_spec,
    serialize_example,
)
from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.utils.validation import check_choice

VERIFY_MODES = ("auto", "checksum", "scan", "none")
# A stored person-day is ~0.3 MB; a record claiming more than this is refused before any reader
# allocates it (TensorFlow's reader would try to allocate whatever a length field claims).
MAX_RECORD_BYTES = 64 * 2**20


# CRC32C (Castagnoli), as the TFRecord framing uses it. Written here because TensorFlow does not
# expose it in Python and no dependency of this project computes it; it only ever checks 8-byte
# length headers, so a table-driven pure-Python loop is fast enough.
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


def sha256_of_file(path):
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
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
    check_choice(verify, "verify", VERIFY_MODES)
    shards = resolve_shards(source)
    entries = {}
    if shards.manifest is not None:
        base = os.path.dirname(shards.files[0])
        entries = {os.path.join(base, s["file"]): s for s in shards.manifest.shards}
    if verify == "checksum" and shards.manifest is None:
        raise ConfigError("verify='checksum' needs a dataset directory with a manifest.json.")
    good, bad = [], {}
    for path, compression in zip(shards.files, shards.compression):
        reason = _shard_problem(path, compression, entries.get(path), verify)
        if reason is None:
            good.append(path)
        else:
            bad[path] = reason
    return good, bad


def _shard_problem(path, compression, entry, verify):
    """Why one shard is unusable (see `check_shards`), or None."""
    use_checksum = verify == "checksum" or (
        verify == "auto" and entry is not None and "sha256" in entry
    )
    if use_checksum:  # pure Python: safe before the length scan
        size = os.path.getsize(path)
        if entry.get("num_bytes") is not None and size != entry["num_bytes"]:
            return (
                f"size {size} bytes differs from the manifest's {entry['num_bytes']} "
                "(truncated or overwritten)"
            )
        if sha256_of_file(path) != entry.get("sha256"):
            return "SHA-256 differs from the manifest (corrupt or modified)"
    # Always, before TensorFlow opens the file.
    count, reason = scan_record_lengths(path, compression)
    if reason is not None:
        return f"unreadable after {count} records ({reason})"
    if verify == "none" or use_checksum:
        return None
    count, error = _scan(path, compression)
    if error is not None:
        return f"unreadable after {count} records ({error})"
    if entry is not None and count != entry["num_examples"]:
        return f"{count} records, the manifest says {entry['num_examples']}"
    return None


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
            raise DataError(f"read_examples: corrupt shard(s): {describe_bad(bad)}.")
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
            yield decode_example(record.numpy(), variants, path, index)
            index += 1


def describe_bad(bad):
    """``"name: reason; ..."`` of the failing shards `check_shards` reports."""
    return "; ".join(f"{os.path.basename(p)}: {reason}" for p, reason in bad.items())
