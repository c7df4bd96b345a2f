"""`TFRecordDatasetWriter`: stream captioned person-days into sharded TFRecord files."""

import contextlib
import os

import numpy as np

from sensorlm_keras.utils.atomic_io import (
    atomic_write_text,
    fsync_directory,
    fsync_path,
    remove_stale_temporaries,
)
from sensorlm_keras.utils.array_checks import check_bool_mask
from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME, DatasetManifest
from sensorlm_keras.data.event import Event
from sensorlm_keras.data.pseudonym import pseudonymize_person_id, resolve_salt
from sensorlm_keras.data.shard_set import INCOMPLETE_MARKER
from sensorlm_keras.data.tfrecord import sha256_of_file
from sensorlm_keras.data.tfrecord_example import serialize_example
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_choice, check_int

_COMPRESSIONS = {None: None, "": None, "none": None, "gzip": "GZIP", "GZIP": "GZIP"}


def _default_variants():
    from sensorlm_keras.data.captions import CAPTION_VARIANTS

    return list(CAPTION_VARIANTS)


class TFRecordDatasetWriter:
    """Writes one split of a dataset: ``num_shards`` TFRecord files plus ``manifest.json``.

    Example ``k`` goes to shard ``k % num_shards``. Every shard is written under a hidden
    temporary name in the same directory and only renamed to its final name
    (``<split>-00000-of-00004.tfrecord.gz``) after it is complete, flushed and fsync-ed; the
    manifest (shard sizes, example counts, SHA-256) is written last, atomically. If anything
    fails (or the ``with`` block raises) the temporary files are removed: no half-written file
    ever carries a final name. Person ids are pseudonymised with a salted SHA-256 (HMAC) before
    they are written; the raw id never reaches the disk.

    Args:
        directory: output directory of this split (created if needed).
        channel_names: the channel names of the sensor's last axis.
        split: split name recorded in the manifest and used as the file prefix.
        num_shards: number of shard files (shards that receive no example are not created).
        compression: ``"GZIP"`` (default) or ``None``.
        salt: salt for the person-id pseudonyms; ``None`` reads ``$SENSORLM_SALT``.
        num_timesteps: minutes per example (1440).
        caption_variants: variants every example must carry (default all eight).
        overwrite: replace an existing dataset in ``directory`` (its old shards are removed
            after the new manifest is in place). Without it an existing manifest is an error.
        extra: provenance dict stored in the manifest.

    Example:

    ```python
    from sensorlm_keras.data import TFRecordDatasetWriter

    with TFRecordDatasetWriter("data/train", schema.names, num_shards=4, salt="s3cret") as w:
        for i in range(len(pre)):
            w.write(pre.sensor[i], pre.mask[i], pre.missing_ratio[i], captions[i],
                    person_id=ids[i], day_index=days[i], events=events[i])
    manifest = w.manifest
    ```
    """

    def __init__(
        self,
        directory,
        channel_names,
        split="train",
        num_shards=1,
        compression="GZIP",
        salt=None,
        num_timesteps=1440,
        caption_variants=None,
        overwrite=False,
        extra=None,
    ):
        self.directory = _check_directory(directory)
        if not isinstance(split, str) or not split or os.sep in split or split.startswith("."):
            raise ConfigError(
                f"TFRecordDatasetWriter.split: expected a plain name such as 'train', received "
                f"{split!r}."
            )
        self.split = split
        self.num_shards = check_int(num_shards, "TFRecordDatasetWriter.num_shards", 1, 99999)
        self.compression = _COMPRESSIONS[
            check_choice(compression, "TFRecordDatasetWriter.compression", _COMPRESSIONS)
        ]
        self.channel_names = _check_channel_names(channel_names)
        self._salt = resolve_salt(salt)
        self.num_timesteps = int(num_timesteps)
        variants = _default_variants() if caption_variants is None else list(caption_variants)
        if not variants:
            raise ConfigError("TFRecordDatasetWriter.caption_variants: expected at least one.")
        self.caption_variants = variants
        self.extra = dict(extra or {})
        self._old_manifest = self._existing_manifest(overwrite)
        os.makedirs(self.directory, exist_ok=True)
        # Temporary shards of a writer that was killed (SIGKILL, power loss) never carry a final
        # name; remove them so they do not pile up.
        remove_stale_temporaries(self.directory)
        # Present from the first shard until the manifest is written: readers refuse a directory
        # holding it (a write was interrupted between renaming shards and the manifest).
        atomic_write_text(os.path.join(self.directory, INCOMPLETE_MARKER), f"pid {os.getpid()}\n")
        self._writers = [None] * self.num_shards
        self._tmp_paths = [None] * self.num_shards
        self._counts = [0] * self.num_shards
        self._next = 0
        self._closed = False
        self.manifest = None

    def _existing_manifest(self, overwrite):
        """The manifest of the dataset being replaced (None if there is none or unreadable)."""
        if not os.path.isfile(os.path.join(self.directory, MANIFEST_FILENAME)):
            return None
        if not overwrite:
            raise ConfigError(
                f"TFRecordDatasetWriter.directory: {self.directory!r} already holds a dataset "
                "(manifest.json); pass overwrite=True (CLI: --overwrite) to replace it."
            )
        with contextlib.suppress(Exception):
            return DatasetManifest.load(self.directory)
        return None

    # ------------------------------------------------------------------ naming
    def shard_name(self, index):
        suffix = ".tfrecord.gz" if self.compression == "GZIP" else ".tfrecord"
        return f"{self.split}-{index:05d}-of-{self.num_shards:05d}{suffix}"

    # ------------------------------------------------------------------ writing
    def _writer(self, shard):
        if self._writers[shard] is None:
            import tensorflow as tf

            final = os.path.join(self.directory, self.shard_name(shard))
            tmp = os.path.join(
                self.directory, f".{os.path.basename(final)}.tmp-{os.getpid()}-{id(self):x}"
            )
            options = tf.io.TFRecordOptions(compression_type=self.compression or "")
            self._tmp_paths[shard] = tmp
            self._writers[shard] = tf.io.TFRecordWriter(tmp, options)
        return self._writers[shard]

    def _validate(self, sensor, mask, missing_ratio, captions, person_id, day_index, events):
        shape = (self.num_timesteps, len(self.channel_names))
        sensor = np.asarray(sensor)
        if sensor.shape != shape or sensor.dtype.kind != "f":
            raise DataError(
                f"write(sensor): expected float z-scores of shape {shape}, received "
                f"{describe(sensor)}."
            )
        if not np.isfinite(sensor).all():
            raise DataError(
                "write(sensor): expected finite values (impute missing minutes first, e.g. with "
                "preprocess_days); received NaN or Inf."
            )
        mask = check_bool_mask(mask, shape, "write(mask)", "True = missing")
        try:
            ratio = float(missing_ratio)
        except (TypeError, ValueError):
            raise DataError(
                f"write(missing_ratio): expected a number in [0, 1], received {missing_ratio!r}."
            ) from None
        if not 0.0 <= ratio <= 1.0:
            raise DataError(f"write(missing_ratio): expected a number in [0, 1], received {ratio}.")
        self._check_captions(captions)
        check_int(day_index, "write(day_index)", minimum=0, error=DataError)
        events = list(events or [])
        for e in events:
            if not isinstance(e, Event):
                raise DataError(f"write(events): expected Event objects, received {describe(e)}.")
        return sensor.astype(np.float32), mask, ratio, events

    def _check_captions(self, captions):
        if not isinstance(captions, dict):
            raise DataError(
                "write(captions): expected a dict variant -> caption, received "
                f"{describe(captions)}."
            )
        missing = [v for v in self.caption_variants if v not in captions]
        if missing:
            raise DataError(
                f"write(captions): missing caption variants {missing}; expected all of "
                f"{self.caption_variants}."
            )
        for v in self.caption_variants:
            if not isinstance(captions[v], str):
                raise DataError(
                    f"write(captions[{v!r}]): expected a string, received {describe(captions[v])}."
                )

    def write(
        self,
        sensor,
        mask,
        missing_ratio,
        captions,
        person_id,
        day_index,
        events=(),
        activity_label="none",
    ):
        """Append one person-day (validated; the person id is pseudonymised here).

        Args:
            sensor: float z-scores ``(T, C)``, finite (imputed).
            mask: bool ``(T, C)``, ``True`` = missing before imputation.
            missing_ratio: fraction of missing cells, in ``[0, 1]``.
            captions: dict variant -> caption, at least ``caption_variants``.
            person_id: raw person id (pseudonymised before writing).
            day_index: integer >= 0.
            events: list of `Event`.
            activity_label: the day's activity class (``"none"`` if no activity).
        """
        if self._closed:
            raise DataError("TFRecordDatasetWriter.write: the writer is already closed.")
        sensor, mask, ratio, events = self._validate(
            sensor, mask, missing_ratio, captions, person_id, day_index, events
        )
        pseudonym = pseudonymize_person_id(person_id, self._salt)
        record = serialize_example(
            sensor,
            mask,
            ratio,
            {v: captions[v] for v in self.caption_variants},
            pseudonym,
            int(day_index),
            events,
            self.channel_names,
            activity_label=activity_label,
        )
        shard = self._next % self.num_shards
        self._writer(shard).write(record)
        self._counts[shard] += 1
        self._next += 1

    @property
    def num_written(self):
        return self._next

    # ------------------------------------------------------------------ finishing
    def close(self):
        """Finish every shard (flush, fsync, rename) and write the manifest; returns it."""
        if self._closed:
            return self.manifest
        renamed = []
        try:
            shards = []
            for index, writer in enumerate(self._writers):
                if writer is None:
                    continue
                writer.close()
                self._writers[index] = None
            for index, tmp in enumerate(self._tmp_paths):
                if tmp is None:
                    continue
                final = os.path.join(self.directory, self.shard_name(index))
                fsync_path(tmp)
                entry = {
                    "file": os.path.basename(final),
                    "num_examples": self._counts[index],
                    "num_bytes": os.path.getsize(tmp),
                    "sha256": sha256_of_file(tmp),
                }
                os.replace(tmp, final)
                renamed.append(final)
                self._tmp_paths[index] = None
                shards.append(entry)
            fsync_directory(self.directory)
            manifest = DatasetManifest(
                split=self.split,
                channel_names=list(self.channel_names),
                num_timesteps=self.num_timesteps,
                compression=self.compression,
                caption_variants=list(self.caption_variants),
                shards=shards,
                extra=self.extra,
            )
            manifest.save(self.directory)
        except BaseException:
            # Without its manifest a shard set is unusable: remove what this writer renamed.
            for final in renamed:
                with contextlib.suppress(OSError):
                    os.remove(final)
            self.abort()
            raise
        self._closed = True
        self.manifest = manifest
        self._remove_marker()
        self._remove_stale_shards(manifest)
        return manifest

    def _remove_stale_shards(self, manifest):
        if self._old_manifest is None:
            return
        keep = {s["file"] for s in manifest.shards}
        for s in self._old_manifest.shards:
            if s["file"] not in keep:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(self.directory, s["file"]))

    def abort(self):
        """Drop everything written so far (temporary files are deleted)."""
        for index, writer in enumerate(self._writers):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
                self._writers[index] = None
        for index, tmp in enumerate(self._tmp_paths):
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.remove(tmp)
                self._tmp_paths[index] = None
        self._closed = True
        self._remove_marker()

    def _remove_marker(self):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(self.directory, INCOMPLETE_MARKER))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def __del__(self):
        # A writer dropped without close() must not leave temporary files behind.
        if not getattr(self, "_closed", True):
            self.abort()


def _check_directory(directory):
    directory = os.path.abspath(os.fspath(directory))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigError(
            f"TFRecordDatasetWriter.directory: expected a directory, received the file "
            f"{directory!r}."
        )
    return directory


def _check_channel_names(channel_names):
    names = [str(n) for n in channel_names]
    if not names or len(set(names)) != len(names):
        raise ConfigError(
            f"TFRecordDatasetWriter.channel_names: expected unique, non-empty names, "
            f"received {names!r}."
        )
    return names
