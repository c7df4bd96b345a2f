"""`TableReader`: chunked reading of minute tables and samples, every row checked.

CSV is read by Arrow's streaming reader (pandas' reader is the fallback that names a bad
cell's line), Parquet by row batches; each chunk's timestamps (`wall_clock`), person ids and
values are checked and kept per person. Every error names the file, the line (``row`` for
Parquet) and the column.
"""

import os

import numpy as np

from sensorlm_keras.data.importers.accelerometer_features import GRAVITY_RANGE_G
from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.data.importers.wall_clock import string_dtype, time_text, wall_clock_minutes
from sensorlm_keras.data.preprocessing.plausible_ranges import range_bounds
from sensorlm_keras.errors import DataError
from sensorlm_keras.utils.progress import progress_bar

TICK_NAMES = {"m": "minute", "ms": "timestamp"}
"""What a repeated real time is called in errors, per resolution."""


class TableReader:
    """Chunked reading and row-by-row checks of table files; keeps, per person, the rows'
    wall-clock minutes, real times and values (`read_minute_tables` turns them into days).

    What is kept of a chunk goes to a `SpillFile` (on disk for large inputs): per person, its
    wall-clock minutes with their values (or, where several rows share a minute, as samples
    do, the minute's sums and counts), and its real times and lines for the checks across
    files. Memory then holds one chunk, not the file.

    Args:
        schema: `ChannelSchema` of the kept channels.
        timestamp_column, person_column: column names.
        chunk_rows: rows read at once.
        fraction: most fraction of a column's values outside the plausible range before the
            file is refused (units that cannot be right).
        progress: show a tqdm bar of the rows read.
        unit: ``"m"`` (one row per minute) or ``"ms"`` (samples at any rate): the resolution
            of the order and duplicate checks.
        spill: `SpillFile` the kept arrays go to (default: one in memory).
        accelerometer: optional `AccelerometerFeatures`: its axis columns are read too and
            each row's `AccelerometerFeatures.moments` fill the schema's columns of that
            name (`AccelerometerFeatures.MOMENTS`); a file whose magnitudes are not gravity's
            is refused.

    Example:

    ```python
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.data.importers.table_reader import TableReader

    reader = TableReader(ChannelSchema.default().select(["HR"]), "timestamp", "person",
                         100_000, 0.01, False, "m")
    reader.read("minutes.csv", ["timestamp", "person", "HR"], person=None)
    reader.close()
    sorted(reader.people)      # the person ids read
    ```
    """

    def __init__(self, schema, timestamp_column, person_column, chunk_rows, fraction, progress,
                 unit, spill=None, accelerometer=None):
        self.schema = schema
        self.timestamp_column = timestamp_column
        self.person_column = person_column
        self.chunk_rows = chunk_rows
        self.fraction = fraction
        self.low, self.high = range_bounds(schema)
        self.spill = SpillFile() if spill is None else spill
        # person -> list of (file index, first real time, last real time, key of the minutes'
        # values in the spill, key of the real times and lines)
        self.people = {}
        self.files = []
        self.rows = 0
        self.implausible = dict.fromkeys(schema.names, 0)
        self.bar = progress_bar(progress, "read tables", "row", unit_scale=True)
        self.unit = unit  # of the real time the order and duplicate checks compare
        self.accelerometer = accelerometer

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
                raise DataError(_parse_error(path, name, str(refused))) from None

    def _read_file(self, path, name, present, person, fast):
        counts = {"observed": np.zeros(len(self.schema), np.int64),
                  "bad": np.zeros(len(self.schema), np.int64), "first": {},
                  "gravity": [None, 0, 0]}  # first chunk's magnitudes, outside, observed
        last = {}  # person -> (real time, line) of the file's previous row
        start = 0
        axes = [] if self.accelerometer is None else self.accelerometer.axes
        columns = present + [a for a in axes if a not in present]
        for chunk in _chunks(path, self.timestamp_column, self.person_column, columns,
                             self.chunk_rows, person, fast):
            self._read_chunk(name, chunk, start, present, counts, last, person)
            start += len(chunk)
            if self.bar is not None:
                self.bar.update(len(chunk))
        self._check_units(name, counts)
        if self.accelerometer is not None:
            self.accelerometer.check_gravity(name, *counts["gravity"])
        self.rows += start

    def _forget(self, file_index):
        for person in list(self.people):
            self.people[person] = [p for p in self.people[person] if p[0] != file_index]
            if not self.people[person]:
                del self.people[person]

    def _read_chunk(self, name, chunk, start, present, counts, last, person):
        import pandas as pd

        def where(row):
            return row_name(name, start + row)

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
            times = absolute[rows]
            self.people.setdefault(str(pid), []).append((
                file_index, int(times[0]), int(times[-1]),
                self.spill.put(*minute_sums(wall[rows], values[rows])),
                self.spill.put(times, rows + start),
            ))

    def _values(self, chunk, present, where, counts):
        values = np.full((len(chunk), len(self.schema)), np.nan, dtype=np.float32)
        for name in present:
            j = self.schema.index(name)
            x = _numbers(chunk, name, where)
            finite = np.isfinite(x)
            out = finite & ((x < self.low[j]) | (x > self.high[j]))
            counts["observed"][j] += int(finite.sum())
            if out.any():
                counts["bad"][j] += int(out.sum())
                row = int(np.flatnonzero(out)[0])
                counts["first"].setdefault(name, (where(row), x[row]))
                x = np.where(out, np.nan, x)
            values[:, j] = x
        if self.accelerometer is not None:
            axes = np.stack([_numbers(chunk, a, where) for a in self.accelerometer.axes], 1)
            moments, vm = self.accelerometer.moments(axes)
            low, high = GRAVITY_RANGE_G
            finite = np.isfinite(vm)
            gravity = counts["gravity"]
            gravity[0] = vm[finite][:10_000] if gravity[0] is None else gravity[0]
            gravity[1] += int(((vm[finite] < low) | (vm[finite] > high)).sum())
            gravity[2] += int(finite.sum())
            for k, moment in enumerate(self.accelerometer.MOMENTS):
                values[:, self.schema.index(moment)] = moments[:, k]
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


def _numbers(chunk, name, where):
    """Column ``name`` of a chunk as float64 (blank = NaN); a cell that is not a number is an
    error naming its line."""
    import pandas as pd

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
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def minute_sums(wall, values):
    """What is kept of one person's rows of a chunk: ``(wall, values)`` as they are when each
    row is its own wall-clock minute, else ``(minutes, sums, counts)``: the distinct minutes,
    the float64 sum and the int32 count of each channel's finite values there (`days_of_samples`
    takes either)."""
    if wall.size < 2 or np.diff(wall).min() > 0:
        return wall, values
    minutes, inverse = np.unique(wall, return_inverse=True)
    sums = np.zeros((minutes.size, values.shape[1]), np.float64)
    counts = np.zeros((minutes.size, values.shape[1]), np.int32)
    for j in range(values.shape[1]):
        finite = np.isfinite(values[:, j])
        sums[:, j] = np.bincount(inverse[finite], weights=values[finite, j],
                                 minlength=minutes.size)
        counts[:, j] = np.bincount(inverse[finite], minlength=minutes.size)
    return minutes, sums, counts


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
    # 1 MB blocks: Arrow's streaming reader reads up to 32 blocks ahead of the parser, so the
    # block size bounds what it holds (8 MB blocks: ~280 MB of a 267 MB file held while the
    # first chunks were checked; 1 MB: ~50 MB, as fast; docs/performance.md).
    try:
        with pa.input_stream(path, compression="detect") as stream:
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(block_size=1 << 20),
                convert_options=pcsv.ConvertOptions(column_types=types,
                                                    include_columns=columns),
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
        raise DataError(f"{name(k + 1)}, column {field!r}: duplicated {TICK_NAMES[unit]} "
                        f"{time_text(series[k + 1], unit)} (also on {name(k)}).")
    raise DataError(f"{name(k + 1)}, column {field!r}: time goes backwards, "
                    f"{time_text(series[k + 1], unit)} after {time_text(series[k], unit)} "
                    f"({name(k)}); sort the file by person and time.")


def _parse_error(path, name, message):
    """Arrow's CSV parse error as ``"<file> line N: expected a CSV table, ..."``.

    Arrow says ``"Row #3: Expected 4 columns, got 5: <row>"`` when it parses on one thread and
    leaves the row number out on several; the line is found here either way (the first line
    whose text is the row Arrow quotes)."""
    import gzip
    import re

    detail = message[len("CSV parse error:"):].strip()
    detail = re.sub(r"^Row #\d+: ", "", detail)
    quoted = detail.split(": ", 1)[1] if ": " in detail else None
    line = None
    if quoted:
        opener = gzip.open if path.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            line = next((i for i, text in enumerate(f, start=1)
                         if text.rstrip("\r\n") == quoted), None)
    where = name if line is None else f"{name} line {line}"
    return f"{where}: expected a CSV table, {detail[:200]}"


def row_name(file_name, row):
    """``"f.csv line 7"`` (header on line 1) or ``"f.parquet row 6"`` of a 0-based data row."""
    if file_name.lower().endswith(".parquet"):
        return f"{file_name} row {row + 1}"
    return f"{file_name} line {row + 2}"
