"""Timestamps of imported files -> local wall-clock minutes (the rule every importer follows).

The rule: **a day is a local wall-clock day**, midnight to midnight as the wearer's clock showed
it. A timestamp with a UTC offset (``2024-03-10T03:05:00-04:00``) is read at its own clock
reading (03:05), so a file whose offset changes at a daylight-saving switch, or a traveller's
file, is still cut at the wearer's midnight. Every day therefore has 1440 wall-clock minutes:
on a spring-forward day (1380 real minutes) the skipped hour is missing, on a fall-back day
(1500 real minutes) the repeated hour's two readings of each minute are averaged (summed for
counts such as steps). Order and
duplicates are checked on the real (absolute) time when offsets are given, so the repeated hour
is neither "time going backwards" nor a duplicate. Within one file, timestamps either all carry
an offset or none does.
"""

import re

import numpy as np

from sensorlm_keras.errors import DataError

_OFFSET = re.compile(r"\s*(?:Z|UTC|[+-]\d{2}:?\d{2})$")
EXAMPLE_TIMESTAMP = "2024-05-01 07:30:00"


def string_dtype():
    """pandas' pyarrow-backed string dtype (its ``.str`` methods run in Arrow's C++, 6x faster
    than Python strings on a 432,000-row column here), or the Python one without pyarrow."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "string"
    return "string[pyarrow]"


def _to_ticks(stamps, unit):
    return stamps.to_numpy(dtype="datetime64[ns]").astype(f"datetime64[{unit}]").astype(np.int64)


def wall_clock_minutes(values, where, field, unit="m"):
    """``(wall, absolute, has_offset)`` of timestamp strings.

    Args:
        values: a `pandas.Series` of timestamp strings (any ISO 8601 form, with or without an
            offset; other unambiguous forms such as ``05/01/2024 07:30`` are parsed too).
        where: a function ``row position -> "file line N"`` naming a row in errors.
        field: the column name, for errors.
        unit: the unit of ``absolute``: ``"m"`` (minutes, for minute tables) or ``"ms"``
            (milliseconds, for samples at any rate).

    Returns:
        ``(wall, absolute, has_offset)``: int64 wall-clock minutes since 1970-01-01 (the day
        cut), int64 real time since 1970-01-01 in ``unit`` (order and duplicate checks; the
        wall-clock time without offsets) and whether the values carry offsets.

    Raises:
        DataError: an empty or unparsable timestamp, or offsets on some rows only; the message
            names the row and the field.
    """
    import pandas as pd

    text = values.astype(string_dtype()).str.strip()
    empty = text.isna() | (text == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataError(f"{where(row)}, column {field!r}: expected a timestamp such as "
                        f"{EXAMPLE_TIMESTAMP!r}, received an empty value.")
    offset = text.str.contains(_OFFSET.pattern, regex=True).to_numpy(dtype=bool)
    if offset.any() and not offset.all():
        row = int(np.flatnonzero(offset != offset[0])[0])
        raise DataError(
            f"{where(row)}, column {field!r}: expected every timestamp of the file "
            f"{'with' if offset[0] else 'without'} a UTC offset as on its first row, received "
            f"{text.iloc[row]!r}."
        )
    wall_text = text.str.replace(_OFFSET.pattern, "", regex=True) if offset.any() else text
    wall = _parse(pd, wall_text, where, field, text)
    absolute = wall
    if offset.any():
        absolute = _parse(pd, text, where, field, text, utc=True).dt.tz_localize(None)
    return _to_ticks(wall, "m"), _to_ticks(absolute, unit), bool(offset.any())


def _parse(pd, text, where, field, original, utc=False):
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=utc)
    bad = parsed.isna().to_numpy()
    if bad.any():  # not ISO 8601: let pandas infer each of those rows' format
        retry = pd.to_datetime(text[bad], errors="coerce", format="mixed", utc=utc)
        parsed = parsed.copy()
        parsed[bad] = retry
        bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{where(row)}, column {field!r}: expected a timestamp such as "
            f"{EXAMPLE_TIMESTAMP!r}, received {original.iloc[row]!r}."
        )
    return parsed


def time_text(value, unit="m"):
    """``"2024-05-01 07:30"`` (``unit="m"``) or ``"2024-05-01 07:30:00.020"`` (``"ms"``) of an
    int time since 1970-01-01."""
    return str(np.datetime64(int(value), unit)).replace("T", " ")
