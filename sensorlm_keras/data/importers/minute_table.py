"""`read_minute_tables`: minute-level CSV / Parquet tables of several people -> `WearableDays`.

Files are read in chunks (what is kept of a row is its channels as float32 and three int64:
wall-clock minute, real time and line, never the file's text), checked row by row (every
error names the file, the line and the column), cut into local wall-clock days (`wall_clock`)
and joined with an optional event log (`read_event_log`) for semantic captions and activity
labels.

`days_of_samples` (values on wall-clock minutes -> days) is shared with the export importers
(`apple_health`, `fitbit_takeout`, through `ChannelMinutes`): one place puts values on minutes
and cuts days.
"""

import collections.abc
import os

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.disk_day_array import DiskDayArray
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.importers.accelerometer_features import AccelerometerFeatures
from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.data.importers.table_reader import TICK_NAMES, TableReader, row_name
from sensorlm_keras.data.importers.wall_clock import time_text
from sensorlm_keras.data.preprocessing.recording_days import events_of_day
from sensorlm_keras.data.train_split_normalization import with_custom_channels
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_float, check_positive_int

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
SUM_CHANNELS = ("steps",)
"""Channels whose minute value is the sum of its readings (counts); the others are means."""


def table_files(path):
    """``(files, is_directory)``: the table files of ``path`` (a file, or a directory whose
    ``.csv``, ``.csv.gz`` and ``.parquet`` files are read in name order)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        files = sorted(
            os.path.join(path, n) for n in os.listdir(path) if n.lower().endswith(TABLE_SUFFIXES)
        )
        if not files:
            raise DataError(f"--input {path}: expected .csv, .csv.gz or .parquet files in the "
                            "directory, found none.")
        return files, True
    if not os.path.exists(path):
        raise DataError(f"--input {path}: does not exist.")
    if not path.lower().endswith(TABLE_SUFFIXES):
        raise DataError(f"--input {path}: expected a .csv, .csv.gz or .parquet file or a "
                        "directory of them.")
    return [path], False


def read_minute_tables(path, schema=None, channels=None, timestamp_column="timestamp",
                       person_column="person", events=None, chunk_rows=100_000, max_days=366,
                       max_implausible_fraction=0.01, samples=False, progress=False,
                       spill_dir=None, accelerometer=None, accelerometer_unit="g"):
    """Read minute-level tables (one row per person and minute) into raw person-days.

    With ``samples=True`` the rows are timestamped samples at any rate (1 Hz heart rate, a
    pedometer's counts every few seconds, ...): each minute holds the mean of its samples, or
    their sum for the count channels (`SUM_CHANNELS`: steps); timestamps then only have to be
    distinct, not a minute apart. A raw tri-axial accelerometer stream among the samples
    (``accelerometer``: its three axis columns) becomes the minute features ``enmo`` and
    ``vm_sd`` (`AccelerometerFeatures`, custom channels in milli-g) instead of axis means.

    Each file has a timestamp column, a person column (or, for a directory of files, one file
    per person named after the person) and one column per channel, in physical units (any
    subset of the schema; blank or NaN = missing). Values outside a channel's plausible range
    (`PLAUSIBLE_RANGES`) are glitches: dropped and counted, unless more than
    ``max_implausible_fraction`` of a column's values in a file are out of range, which means
    the units cannot be right and is refused.

    Args:
        path: a ``.csv`` / ``.csv.gz`` / ``.parquet`` file or a directory of them.
        schema: `ChannelSchema` the channel names come from (default: the 34 SensorLM
            channels).
        channels: names of the columns to keep; a name outside the schema is a custom channel
            (mean of its samples per minute; normalised on the train split when the dataset is
            built, `build_tfrecord_dataset`); ``None``: every column other than the timestamp
            and person columns, each of which must be a channel of the schema.
        timestamp_column, person_column: column names.
        events: optional event log (`read_event_log` result, or a CSV path).
        chunk_rows: rows read at once.
        max_days: most calendar days one person may span (a stray timestamp decades away is
            refused instead of allocating decades of minutes).
        max_implausible_fraction: see above (default 0.01).
        samples: rows are samples at any rate (see above) instead of one per minute.
        progress: show a tqdm bar of the rows read.
        spill_dir: a directory for what is kept while reading and for the days (bounded
            memory: one chunk of rows and one person's minutes at a time; the returned days'
            ``raw`` is then a `DiskDayArray` whose file lives there until it is garbage
            collected). ``None`` (default) keeps everything in memory.
        accelerometer: with ``samples=True``, the x, y and z axis columns of a raw
            accelerometer stream (any rate; see `AccelerometerFeatures`); a file whose
            magnitudes are not gravity's in ``accelerometer_unit`` is refused.
        accelerometer_unit: ``"g"`` (default), ``"mg"`` or ``"m/s2"``.

    Returns:
        ``(days, summary)``: `WearableDays` (every calendar day from each person's first to
        last minute that has at least one valid value; ``info["date"]`` holds the dates) and a
        dict of what was read, kept and dropped.

    Raises:
        DataError: a file, line and column for unparsable timestamps, time going backwards,
            duplicated minutes, non-numeric values, implausible units, missing columns.

    Example:

    ```python
    from sensorlm_keras.data.importers import read_minute_tables

    # minutes.csv: timestamp,person,HR,steps
    #              2024-05-01 00:00,p01,61,0 ...
    days, summary = read_minute_tables("minutes.csv", events="events.csv")
    days.raw.shape        # (days, 1440, 2)
    summary["rows"], summary["implausible_values"]
    ```
    """
    from sensorlm_keras.data.importers.event_log import read_event_log

    schema = ChannelSchema.resolve(schema)
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    max_days = check_positive_int(max_days, "max_days")
    fraction = check_float(max_implausible_fraction, "max_implausible_fraction", 0.0, 1.0)
    features = None
    if accelerometer is not None:
        features = AccelerometerFeatures(accelerometer, accelerometer_unit)
        if not samples:
            raise ConfigError("accelerometer: expected samples=True (--format samples): the "
                              "features are computed from a raw stream's samples, not from "
                              "one row per minute.")
    files, is_directory = table_files(path)
    headers = {f: _header(f) for f in files}
    for f, header in headers.items():
        if timestamp_column not in header:
            raise DataError(f"{os.path.basename(f)}: expected a timestamp column "
                            f"{timestamp_column!r}, received the columns {header[:10]}; pass "
                            "--timestamp-column NAME.")
    axes = () if features is None else features.axes
    for field, wanted in (("accelerometer", axes), ("channels", None)):
        if wanted is None:
            wanted = names = _channel_names(headers, schema, channels, timestamp_column,
                                            person_column, axes)
        absent = [n for n in wanted if not any(n in header for header in headers.values())]
        if absent:
            raise DataError(f"{field}: {absent} are not columns of any input file (columns: "
                            f"{sorted({c for h in headers.values() for c in h})[:12]}).")
    used = with_custom_channels(names if features is None else features.reader_names(names),
                                schema)
    if isinstance(events, (str, os.PathLike)):
        events = read_event_log(events)
    spill = SpillFile(spill_dir)
    try:
        reader = TableReader(used, timestamp_column, person_column, chunk_rows, fraction,
                             progress, "ms" if samples else "m", spill, features)
        _read_files(reader, files, headers, is_directory, person_column)
        return _to_days(reader, used, events or {}, max_days, spill_dir, features)
    finally:
        spill.close()


def _read_files(reader, files, headers, is_directory, person_column):
    for f in files:
        person = None
        if person_column not in headers[f]:
            if not is_directory:
                raise DataError(
                    f"{os.path.basename(f)}: expected a person column {person_column!r}, "
                    f"received the columns {headers[f][:10]}; pass --person-column NAME, or put "
                    "one file per person in a directory (the file name is the person)."
                )
            person = _file_person(f)
        reader.read(f, headers[f], person)
    reader.close()


def _header(path):
    import pandas as pd

    name = os.path.basename(path)
    try:
        if path.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        return list(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError) as err:
        raise DataError(f"{name}: expected a readable table, could not read its header "
                        f"({type(err).__name__}: {str(err)[:200]}).") from None
    except ImportError:
        raise DataError(f"{name}: reading Parquet needs pyarrow (pip install pyarrow).") from None


def _file_person(path):
    name = os.path.basename(path)
    for suffix in TABLE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def channel_subset(channels, allowed, expected, note=""):
    """``set(channels)`` of a ``channels`` argument: a list of names, each one in ``allowed``
    (``expected`` and ``note`` word the error); ``None`` is all of ``allowed``."""
    if channels is None:
        return set(allowed)
    if isinstance(channels, str) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"channels: expected a list of channel names, received "
                          f"{describe(channels)}.")
    unknown = [c for c in channels if c not in allowed]
    if unknown:
        raise ConfigError(f"channels: expected {expected}, received {unknown}{note}.")
    return set(channels)


def _channel_names(headers, schema, channels, timestamp_column, person_column, axes=()):
    """The channels of the dataset, in schema order (the accelerometer's ``axes`` are read
    for its features, and kept as channels only when ``channels`` names them)."""
    if channels is not None:  # names outside the schema are kept as custom channels
        channel_subset(channels, channels, "channel names")
        custom = [c for c in dict.fromkeys(channels) if c not in schema]
        names = [n for n in schema.names if n in set(channels)] + custom
        if not names and not axes:
            raise DataError("channels: expected at least one channel name, received none.")
        return names
    else:
        wanted = set()
        for path, header in headers.items():
            extra = [c for c in header if c not in (timestamp_column, person_column, *axes)]
            unknown = [c for c in extra if c not in schema]
            if unknown:
                raise DataError(
                    f"{os.path.basename(path)}: columns {unknown[:10]} are not channels of the "
                    f"{len(schema)}-channel schema (e.g. {list(schema.names[:3])}); pass "
                    "--channels to keep only the channel columns you name."
                )
            wanted.update(extra)
    if not wanted and not axes:
        raise DataError("input: expected at least one channel column besides the timestamp and "
                        "person columns, found none.")
    return [n for n in schema.names if n in wanted]


def _to_days(reader, schema, events, max_days, spill_dir, accelerometer):
    """`WearableDays` of every person's calendar days that hold at least one valid value."""
    days, counts = days_of_samples(_PersonSamples(reader), schema, events, max_days, spill_dir,
                                   accelerometer)
    summary = {"files": len(reader.files), "rows": int(reader.rows), **counts,
               "implausible_values": {k: v for k, v in reader.implausible.items() if v}}
    return days, summary


class _PersonSamples(collections.abc.Mapping):
    """``person -> (wall, values[, counts])`` of a `TableReader`, read back from its spill,
    concatenated (and checked across files) when asked for: one person's arrays at a time."""

    def __init__(self, reader):
        self.reader = reader

    def __getitem__(self, person):
        parts = self.reader.people[person]
        _check_across_files(self.reader, parts)
        kept = [self.reader.spill.get(p[3]) for p in parts]
        wall = np.concatenate([k[0] for k in kept])
        if all(len(k) == 2 for k in kept):  # one row per minute
            return wall, np.concatenate([k[1] for k in kept])
        sums = np.concatenate([k[1] if len(k) == 3 else k[1].astype(np.float64) for k in kept])
        counts = np.concatenate([k[2] if len(k) == 3 else np.isfinite(k[1]).astype(np.int32)
                                 for k in kept])
        return wall, sums, counts

    def __iter__(self):
        return iter(self.reader.people)

    def __len__(self):
        return len(self.reader.people)


def days_of_samples(people, schema, events, max_days, spill_dir=None, accelerometer=None):
    """Values at local wall-clock minutes -> `WearableDays`: the one place that puts values on
    minutes and cuts days (every importer ends here).

    A minute holds the mean of its values, or their sum for `SUM_CHANNELS` (steps); the
    repeated hour of a fall-back day (two readings of one wall-clock minute) is averaged (summed)
    the same way. Each calendar day from a person's first to last value that holds at least one
    valid value is a day; the person's events (wall-clock minutes since 1970, ``end``
    exclusive, as `read_event_log` returns them) become its `Event` lists and its label.

    Args:
        people: mapping ``person -> (wall, values)``: int64 wall-clock minutes since
            1970-01-01 (`wall_clock`) and float32 ``(n, C)`` values in ``schema`` order (NaN =
            none), or ``person -> (wall, sums, counts)`` where each entry sums ``counts``
            readings (`minute_sums`); read one person at a time (a lazy mapping keeps one
            person in memory).
        schema: `ChannelSchema` of the values' columns.
        events: dict ``person -> [(kind, label, start, end), ...]``.
        max_days: most calendar days one person may span.
        spill_dir: a directory to write the days to (the returned ``raw`` is a
            `DiskDayArray`); ``None`` keeps them in memory.
        accelerometer: optional `AccelerometerFeatures` whose `MOMENTS` are the last columns
            of ``schema``: the days hold its features instead (`AccelerometerFeatures.finish`).

    Returns:
        ``(days, counts)``: `WearableDays` (``info["date"]`` holds the dates) and a dict of
        ``people, channels, days, empty_days, empty_day_examples, events,
        events_of_unknown_people``.

    Raises:
        DataError: a person spanning more than ``max_days`` days, or no valid value at all.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.data.importers.minute_table import days_of_samples

    wall = np.array([28_575_780, 28_575_780])          # 2024-05-01 07:00, twice
    values = np.array([[60.0], [62.0]], np.float32)   # -> that minute's HR is 61
    days, counts = days_of_samples({"p01": (wall, values)},
                                   ChannelSchema.default().select(["HR"]), {}, 366)
    ```
    """
    day_schema = schema
    if accelerometer is not None:
        day_schema = with_custom_channels(
            list(schema.names[: -len(accelerometer.MOMENTS)]) + list(accelerometer.CHANNELS),
            schema)
    raws = [] if spill_dir is None else DiskDayArray.appender(spill_dir, MINUTES_PER_DAY,
                                                              day_schema.num_channels)
    event_lists, persons, day_index, labels, dates = [], [], [], [], []
    empty_days = []
    for person in sorted(people):
        first_day, cube = _person_cube(person, people[person], schema, max_days)
        if accelerometer is not None:
            cube = accelerometer.finish(cube)
        intervals = [(k, label, s - first_day * MINUTES_PER_DAY, e - first_day * MINUTES_PER_DAY)
                     for k, label, s, e in events.get(person, [])]
        for d in range(cube.shape[0]):
            date = str(np.datetime64(first_day + d, "D"))
            if not np.isfinite(cube[d]).any():
                empty_days.append(f"{person} {date}")
                continue
            day_events, longest = events_of_day(intervals, d)
            raws.append(cube[d])
            event_lists.append(day_events)
            persons.append(person)
            day_index.append(d)
            labels.append(longest)
            dates.append(date)
    if not persons:
        raise DataError("input: no day with a valid value in any channel "
                        f"({len(empty_days)} empty day(s)).")
    days = WearableDays(
        raw=np.stack(raws) if isinstance(raws, list) else raws.finish(), events=event_lists,
        person_ids=np.asarray(persons, dtype=object),
        day_index=np.asarray(day_index, dtype=np.int32), activity_labels=tuple(labels),
        schema=day_schema, info={"date": np.asarray(dates)},
    )
    counts = {
        "people": len(people), "channels": list(day_schema.names), "days": len(persons),
        "empty_days": len(empty_days), "empty_day_examples": empty_days[:5],
        "events": int(sum(len(v) for p, v in events.items() if p in people)),
        "events_of_unknown_people": sorted(set(events) - set(people))[:10],
    }
    return days, counts


def _person_cube(person, samples, schema, max_days):
    """``(first day, cube)``: the person's float32 ``(days, 1440, C)`` minute grid from
    ``(wall, values)`` or ``(wall, sums, counts)``."""
    wall, values = samples[0], samples[1]
    counts = samples[2] if len(samples) == 3 else None
    first_day, last_day = int(wall.min() // MINUTES_PER_DAY), int(wall.max() // MINUTES_PER_DAY)
    span = last_day - first_day + 1
    if span > max_days:
        raise DataError(
            f"person {person!r}: the timestamps span {span} calendar days "
            f"({np.datetime64(first_day, 'D')} to {np.datetime64(last_day, 'D')}), more than "
            f"max_days={max_days}; check for a stray timestamp or raise --max-days."
        )
    cell = wall - first_day * MINUTES_PER_DAY
    size = span * MINUTES_PER_DAY
    cube = np.full((size, schema.num_channels), np.nan, dtype=np.float32)
    for j, name in enumerate(schema.names):
        ok = np.isfinite(values[:, j]) if counts is None else counts[:, j] > 0
        total = np.bincount(cell[ok], weights=values[ok, j], minlength=size)
        count = np.bincount(cell[ok], minlength=size, weights=None if counts is None
                            else counts[ok, j])
        has = count > 0
        minute = total[has] if name in SUM_CHANNELS else total[has] / count[has]
        cube[has, j] = minute.astype(np.float32)
    return first_day, cube.reshape(span, MINUTES_PER_DAY, schema.num_channels)


def _check_across_files(reader, parts):
    """The same real time in two files of one person is an error naming both lines. Only the
    parts whose time ranges overlap a part of another file are read back (within a file the
    order check already makes times distinct)."""
    origin = np.array([p[0] for p in parts])
    if np.unique(origin).size < 2:
        return
    first, last = np.array([p[1] for p in parts]), np.array([p[2] for p in parts])
    overlap = ((first[:, None] <= last[None, :]) & (first[None, :] <= last[:, None])
               & (origin[:, None] != origin[None, :]))
    suspects = np.flatnonzero(overlap.any(axis=1))
    if suspects.size == 0:
        return
    kept = [reader.spill.get(parts[i][4]) for i in suspects]
    absolute = np.concatenate([k[0] for k in kept])
    lines = np.concatenate([k[1] for k in kept])
    files = np.concatenate([np.full(k[0].size, origin[i]) for i, k in zip(suspects, kept)])
    order = np.argsort(absolute, kind="stable")
    same = np.flatnonzero(np.diff(absolute[order]) == 0)
    if same.size:
        a, b = order[same[0]], order[same[0] + 1]

        def name(k):
            return row_name(reader.files[files[k]], int(lines[k]))

        raise DataError(f"{name(b)}: duplicated {TICK_NAMES[reader.unit]} "
                        f"{time_text(absolute[a], reader.unit)} (also on "
                        f"{name(a)}).")
