"""`ShardSet` and `resolve_shards`: which TFRecord files make up one stored split."""

import dataclasses
import glob
import os

from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME, DatasetManifest
from sensorlm_keras.errors import DataError

# Written by `TFRecordDatasetWriter` while a split is being written, removed with the manifest.
INCOMPLETE_MARKER = ".write-in-progress"
SHARD_SUFFIXES = (".tfrecord", ".tfrecord.gz")


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
        files, manifest = [os.path.abspath(os.fspath(s)) for s in source], None
    else:
        source = os.fspath(source)
        files, manifest = _find_shards(source)
        files = [os.path.abspath(f) for f in files]
    if not files:
        raise _nothing_found(source, manifest)
    for f in files:
        if not os.path.isfile(f):
            raise DataError(f"source: shard {f!r} does not exist.")
    return ShardSet(files=files, manifest=manifest, compression=[compression_of(f) for f in files])


def _find_shards(source):
    """``(files, manifest)`` of a directory, a file or a glob pattern."""
    if os.path.isfile(source):
        return [source], None
    if not os.path.isdir(source):
        return sorted(p for p in glob.glob(source) if os.path.isfile(p)), None
    if os.path.isfile(os.path.join(source, INCOMPLETE_MARKER)):
        raise DataError(
            f"source {source!r}: the dataset is incomplete: a write was interrupted "
            f"(killed or out of space) before its manifest was written ({INCOMPLETE_MARKER} "
            "is present); write the split again (e.g. 'sensorlm data synth --overwrite')."
        )
    if not os.path.isfile(os.path.join(source, MANIFEST_FILENAME)):
        files = sorted(
            p
            for p in glob.glob(os.path.join(source, "*"))
            if p.endswith(SHARD_SUFFIXES) and os.path.isfile(p)
        )
        return files, None
    manifest = DatasetManifest.load(source)
    files = [os.path.join(source, s["file"]) for s in manifest.shards]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise DataError(
            f"source {source!r}: the manifest lists shards that do not exist: "
            f"{[os.path.basename(m) for m in missing]}."
        )
    return files, manifest


def _nothing_found(source, manifest):
    """The `DataError` for a source without shards (naming the splits of a dataset root)."""
    if manifest is not None:
        return DataError(f"source {source!r}: the manifest lists no shards (0 examples).")
    if isinstance(source, str) and os.path.isdir(source):
        splits = sorted(
            d
            for d in os.listdir(source)
            if os.path.isfile(os.path.join(source, d, MANIFEST_FILENAME))
        )
        if splits:
            return DataError(
                f"source {source!r}: this is a dataset root; pass one split directory, "
                f"e.g. {os.path.join(source, splits[0])!r} (splits: {splits})."
            )
    return DataError(
        f"source: expected a dataset directory, a *.tfrecord[.gz] file or a glob pattern "
        f"matching some, received {source!r} which matches nothing."
    )
