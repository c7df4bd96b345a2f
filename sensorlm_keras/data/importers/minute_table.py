"""`read_minute_tables`: minute-level CSV / Parquet tables of several people -> `WearableDays`.

Files are read in chunks (bounded memory: what is kept is one float32 value per channel and
minute, never the file's text), checked row by row (every error names the file, the line and
the column), cut into local wall-clock days (`wall_clock`) and joined with an optional event
log (`read_event_log`) for semantic captions and activity labels.
"""

import os

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.importers.wall_clock import (
    time_text,
    string_dtype,
    wall_clock_minutes,
)
from sensorlm_keras.data.preprocessing.plausible_ranges import range_bounds
from sensorlm_keras.data.preprocessing.recording_days import events_of_day
from sensorlm_keras.data.wearable_days import WearableDays
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_float, check_positive_int

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
SUM_CHANNELS = ("steps",)
"""Channels whose minute value is the sum of its readings (counts); the others are means."""
_TICK = {"m": "minute", "ms": "timestamp"}


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
                       max_implausible_fraction=0.01, samples=False, progress=False):
    """Read minute-level tables (one row per person and minute) into raw person-days.

    With ``samples=True`` the rows are timestamped samples at any rate (1 Hz heart rate, a
    pedometer's counts every few seconds, ...): each minute holds the mean of its samples, or
    their sum for the count channels (`SUM_CHANNELS`: steps); timestamps then only have to be
    distinct, not a minute apart.

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
        channels: names of the columns to keep (a subset of the schema); ``None``: every
            column other than the timestamp and person columns, each of which must be a
            channel of the schema.
        timestamp_column, person_column: column names.
        events: optional event log (`read_event_log` result, or a CSV path).
        chunk_rows: rows read at once.
        max_days: most calendar days one person may span (a stray timestamp decades away is
            refused instead of allocating decades of minutes).
        max_implausible_fraction: see above (default 0.01).
        samples: rows are samples at any rate (see above) instead of one per minute.
        progress: show a tqdm bar of the rows read.

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
    files, is_directory = table_files(path)
    headers = {f: _header(f) for f in files}
    for f, header in headers.items():
        if timestamp_column not in header:
            raise DataError(f"{os.path.basename(f)}: expected a timestamp column "
                            f"{timestamp_column!r}, received the columns {header[:10]}; pass "
                            "--timestamp-column NAME.")
    names = _channel_names(headers, schema, channels, timestamp_column, person_column)
    used = schema.select(names)
    if isinstance(events, (str, os.PathLike)):
        events = read_event_log(events)
    reader = _TableReader(used, timestamp_column, person_column, chunk_rows, fraction, progress,
                          "ms" if samples else "m")
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
    return _to_days(reader, used, events or {}, max_days)


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


def _channel_names(headers, schema, channels, timestamp_column, person_column):
    """The channels of the dataset, in schema order."""
    if channels is not None:
        if isinstance(channels, str) or not all(isinstance(c, str) for c in channels):
            raise ConfigError(f"channels: expected a list of channel names, received "
                              f"{describe(channels)}.")
        unknown = [c for c in channels if c not in schema]
        if unknown:
            raise ConfigError(f"channels: expected names of the {len(schema)}-channel schema, "
                              f"received {unknown} (channels outside the schema are not "
                              "supported yet).")
        wanted = set(channels)
    else:
        wanted = set()
        for path, header in headers.items():
            extra = [c for c in header if c not in (timestamp_column, person_column)]
            unknown = [c for c in extra if c not in schema]
            if unknown:
                raise DataError(
                    f"{os.path.basename(path)}: columns {unknown[:10]} are not channels of the "
                    f"{len(schema)}-channel schema (e.g. {list(schema.names[:3])}); pass "
                    "--channels to keep only the channel columns you name."
                )
            wanted.update(extra)
    if not wanted:
        raise DataError("input: expected at least one channel column besides the timestamp and "
                        "person columns, found none.")
    return [n for n in schema.names if n in wanted]


class _TableReader:
    """Chunked reading and row checks; keeps, per person, the minutes and their values."""

    def __init__(self, schema, timestamp_column, person_column, chunk_rows, fraction, progress,
                 unit):
        self.schema = schema
        self.timestamp_column = timestamp_column
        self.person_column = person_column
        self.chunk_rows = chunk_rows
        self.fraction = fraction
        self.low, self.high = range_bounds(schema)
        self.people = {}  # person -> list of (wall, absolute, values, file index, lines)
        self.files = []
        self.rows = 0
        self.implausible = dict.fromkeys(schema.names, 0)
        self.bar = _bar(progress)
        self.unit = unit  # of the real time the order and duplicate checks compare

    def read(self, path, header, person):
        name = os.path.basename(path)
        self.files.append(name)
        present = [c for c in self.schema.names if c in header]
        try:
            self._read_file(path, name, present, person, fast=True)
        except _FastReaderRefused as refused:
            # Arrow's CSV reader stops at the first cell it cannot convert without saying on
            # which line; forget the file's rows and read it again with pandas, whose checks
            # name the line and the column.
            self._forget(len(self.files) - 1)
            self._read_file(path, name, present, person, fast=False)
            if str(refused).startswith("CSV parse error"):  # a row pandas would misalign
                raise DataError(f"{name}: expected a CSV table, {str(refused)[16:200].strip()}") from None

    def _read_file(self, path, name, present, person, fast):
        counts = {"observed": np.zeros(len(self.schema), np.int64),
                  "bad": np.zeros(len(self.schema), np.int64), "first": {}}
        last = {}  # person -> (real time, line) of the file's previous row
        start = 0
        for chunk in _chunks(path, self.timestamp_column, self.person_column, present,
                             self.chunk_rows, person, fast):
            self._read_chunk(name, chunk, start, present, counts, last, person)
            start += len(chunk)
            if self.bar is not None:
                self.bar.update(len(chunk))
        self._check_units(name, counts)
        self.rows += start

    def _forget(self, file_index):
        for person in list(self.people):
            self.people[person] = [p for p in self.people[person] if p[3] != file_index]
            if not self.people[person]:
                del self.people[person]

    def _read_chunk(self, name, chunk, start, present, counts, last, person):
        import pandas as pd

        def where(row):
            return _row_name(name, start + row)

        wall, absolute, offset = wall_clock_minutes(chunk[self.timestamp_column], where,
                                                    self.timestamp_column, self.unit)
        if counts.setdefault("offset", offset) != offset:  # chunks of one file agree
            raise DataError(
                f"{where(0)}, column {self.timestamp_column!r}: expected every timestamp of the "
                f"file {'with' if counts['offset'] else 'without'} a UTC offset as on its first "
                f"row, received {chunk[self.timestamp_column].iloc[0]!r}."
            )
        values = self._values(chunk, present, where, counts)
        if person is None:
            ids = chunk[self.person_column].astype(string_dtype()).str.strip()
            empty = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
            if empty.any():
                raise DataError(f"{where(int(np.flatnonzero(empty)[0]))}, column "
                                f"{self.person_column!r}: expected a person id, received ''.")
            codes, people = pd.factorize(ids)
        else:
            codes, people = np.zeros(len(chunk), dtype=np.int64), [person]
        file_index = len(self.files) - 1
        order = np.argsort(codes, kind="stable")  # each person's rows, in file order
        bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(people)))])
        for k, pid in enumerate(people):
            rows = order[bounds[k]:bounds[k + 1]]
            _check_order(absolute[rows], rows, last.get(pid), where, self.timestamp_column,
                         self.unit)
            last[pid] = (int(absolute[rows[-1]]), where(int(rows[-1])))
            self.people.setdefault(str(pid), []).append(
                (wall[rows], absolute[rows], values[rows], file_index, rows + start)
            )

    def _values(self, chunk, present, where, counts):
        import pandas as pd

        values = np.full((len(chunk), len(self.schema)), np.nan, dtype=np.float32)
        for name in present:
            j = self.schema.index(name)
            column = chunk[name]
            if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
                numbers = pd.to_numeric(column, errors="coerce")
                text = column.astype(string_dtype()).str.strip()
                bad = (numbers.isna() & ~(text.isna() | text.isin(["", "nan", "NaN", "NA"])))
                if bad.any():
                    row = int(np.flatnonzero(bad.to_numpy())[0])
                    raise DataError(f"{where(row)}, column {name!r}: expected a number, "
                                    f"received {column.iloc[row]!r}.")
                column = numbers
            x = column.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = np.isfinite(x)
            out = finite & ((x < self.low[j]) | (x > self.high[j]))
            counts["observed"][j] += int(finite.sum())
            if out.any():
                counts["bad"][j] += int(out.sum())
                row = int(np.flatnonzero(out)[0])
                counts["first"].setdefault(name, (where(row), x[row]))
                x = np.where(out, np.nan, x)
            values[:, j] = x
        return values

    def _check_units(self, name, counts):
        for j, channel in enumerate(self.schema.names):
            bad, observed = int(counts["bad"][j]), int(counts["observed"][j])
            if bad and bad > self.fraction * observed:
                where, value = counts["first"][channel]
                low, high = self.low[j], self.high[j]
                raise DataError(
                    f"{where}, column {channel!r}: {bad} of {observed} values are outside the "
                    f"plausible range [{low:g}, {high:g}] (first {value:g}); the units cannot "
                    f"be right (more than {self.fraction:.0%} of the column)."
                )
            self.implausible[channel] += bad

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _bar(progress):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return None
    return tqdm(desc="read tables", unit="row", unit_scale=True)


class _FastReaderRefused(Exception):
    """Arrow's CSV reader could not convert a cell (the pandas reader will name it)."""


def _chunks(path, timestamp_column, person_column, present, chunk_rows, person, fast):
    """DataFrames of at most ``chunk_rows`` rows of the columns the import uses.

    CSV is read by Arrow's streaming reader when ``fast`` (multi-threaded parsing, strings kept
    in Arrow: 1.6x faster than pandas' C reader here), else by pandas in chunks.
    """
    import pandas as pd

    columns = [timestamp_column] + ([] if person is not None else [person_column]) + present
    if path.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows, columns=columns):
            frame = batch.to_pandas()
            frame[timestamp_column] = frame[timestamp_column].astype(str)
            yield frame
        return
    if fast:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            fast = False
    if not fast:
        dtype = {timestamp_column: str, person_column: str}
        try:
            yield from pd.read_csv(path, usecols=columns, dtype=dtype, chunksize=chunk_rows,
                                   keep_default_na=True)
        except pd.errors.ParserError as err:  # e.g. "Expected 4 fields in line 3, saw 5"
            message = str(err).split("C error: ")[-1].strip()
            raise DataError(f"{os.path.basename(path)}: expected a CSV table, {message}") from None
        return
    yield from _arrow_csv_chunks(path, columns, present, chunk_rows)


def _arrow_csv_chunks(path, columns, present, chunk_rows):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types = {c: pa.string() for c in columns[: len(columns) - len(present)]}
    types.update({c: pa.float64() for c in present})
    try:
        reader = pcsv.open_csv(
            pa.input_stream(path, compression="detect"),
            read_options=pcsv.ReadOptions(block_size=8 << 20),
            convert_options=pcsv.ConvertOptions(column_types=types, include_columns=columns),
        )
        for batch in reader:
            for begin in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(begin, chunk_rows).to_pandas(types_mapper=pd.ArrowDtype)
    except pa.ArrowInvalid as err:
        raise _FastReaderRefused(str(err)) from None


def _check_order(absolute, rows, previous, where, field, unit):
    """Timestamps of one person within a file must increase (by at least a minute for minute
    tables: ``unit="m"``); ``previous`` is ``(real time, row name)`` of the person's last row in
    the file's previous chunk."""
    head = [] if previous is None else [previous[0]]
    series = np.concatenate([np.asarray(head, dtype=np.int64), absolute])
    step = np.diff(series)
    if step.size == 0 or step.min() > 0:
        return
    k = int(np.flatnonzero(step <= 0)[0])  # series[k + 1] <= series[k]
    offset = 0 if previous is None else 1

    def name(i):
        return previous[1] if (previous is not None and i == 0) else where(int(rows[i - offset]))

    if step[k] == 0:
        raise DataError(f"{name(k + 1)}, column {field!r}: duplicated {_TICK[unit]} "
                        f"{time_text(series[k + 1], unit)} (also on {name(k)}).")
    raise DataError(f"{name(k + 1)}, column {field!r}: time goes backwards, "
                    f"{time_text(series[k + 1], unit)} after {time_text(series[k], unit)} "
                    f"({name(k)}); sort the file by person and time.")


def _row_name(file_name, row):
    """``"f.csv line 7"`` (header on line 1) or ``"f.parquet row 6"`` of a 0-based data row."""
    if file_name.lower().endswith(".parquet"):
        return f"{file_name} row {row + 1}"
    return f"{file_name} line {row + 2}"


def _to_days(reader, schema, events, max_days):
    """`WearableDays` of every person's calendar days that hold at least one valid value."""
    raws, event_lists, persons, day_index, labels, dates = [], [], [], [], [], []
    empty_days = []
    for person in sorted(reader.people):
        wall, first_day, cube = _person_cube(reader, person, schema, max_days)
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
    if not raws:
        raise DataError("input: no day with a valid value in any channel "
                        f"({len(empty_days)} empty day(s)).")
    days = WearableDays(
        raw=np.stack(raws), events=event_lists, person_ids=np.asarray(persons, dtype=object),
        day_index=np.asarray(day_index, dtype=np.int32), activity_labels=tuple(labels),
        schema=schema, info={"date": np.asarray(dates)},
    )
    summary = {
        "files": len(reader.files), "rows": int(reader.rows), "people": len(reader.people),
        "channels": list(schema.names), "days": len(raws), "empty_days": len(empty_days),
        "empty_day_examples": empty_days[:5],
        "implausible_values": {k: v for k, v in reader.implausible.items() if v},
        "events": int(sum(len(v) for p, v in events.items() if p in reader.people)),
        "events_of_unknown_people": sorted(set(events) - set(reader.people))[:10],
    }
    return days, summary


def _person_cube(reader, person, schema, max_days):
    """``(wall, first day, cube)``: the person's float32 ``(days, 1440, C)`` minute grid; the
    repeated hour of a fall-back day (two readings of one wall-clock minute) is averaged (summed
    for `SUM_CHANNELS`), as the samples of one minute are."""
    parts = reader.people[person]
    wall = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    if len({p[3] for p in parts}) > 1:  # several files: the same real minute only once
        _check_across_files(reader, parts)
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
        ok = np.isfinite(values[:, j])
        total = np.bincount(cell[ok], weights=values[ok, j], minlength=size)
        count = np.bincount(cell[ok], minlength=size)
        has = count > 0
        minute = total[has] if name in SUM_CHANNELS else total[has] / count[has]
        cube[has, j] = minute.astype(np.float32)
    return wall, first_day, cube.reshape(span, MINUTES_PER_DAY, schema.num_channels)


def _check_across_files(reader, parts):
    absolute = np.concatenate([p[1] for p in parts])
    origin = np.concatenate([np.full(p[1].size, i) for i, p in enumerate(parts)])
    order = np.argsort(absolute, kind="stable")
    same = np.flatnonzero(np.diff(absolute[order]) == 0)
    if same.size:
        a, b = order[same[0]], order[same[0] + 1]

        def name(k):
            part = parts[origin[k]]
            row = int(part[4][k - int(np.flatnonzero(origin == origin[k])[0])])
            return _row_name(reader.files[part[3]], row)

        raise DataError(f"{name(b)}: duplicated {_TICK[reader.unit]} "
                        f"{time_text(absolute[a], reader.unit)} (also on "
                        f"{name(a)}).")
