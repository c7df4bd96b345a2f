"""Timestamped tables -> minute-level calendar days (`minute_days`) -> `preprocess_days`.

`minute_days` is the step every timestamped reading goes through: a `pandas.DataFrame` indexed
by time, one column per channel, any sampling rate, becomes an ``(days, 1440, C)`` array of
per-minute means, cut at local midnight. `preprocess_dataframe` adds the cleaning, z-scoring
and imputation of `preprocess_days`. pandas is imported inside the functions.
"""

import dataclasses

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessing.day_arrays import preprocess_days
from sensorlm_keras.data.preprocessing.plausible_ranges import range_bounds
from sensorlm_keras.errors import DataError, describe
from sensorlm_keras.utils.validation import check_positive_int


def preprocess_dataframe(df, schema=None, date=None, sort=False, off_wrist=None, max_days=366,
                         **kwargs):
    """Preprocess a timestamped DataFrame: resample to minutes, cut at midnight, then clean.

    Cleaning of non-finite and implausible values happens on the raw samples, before the
    1-minute mean, so a glitch never leaks into a minute average. Minutes without a sample are
    missing. Days are cut at local midnight: a timezone-aware index is converted to its local
    wall-clock time first (on a daylight-saving day the repeated hour is averaged into the same
    minutes and the skipped hour is missing). Columns not in the schema are ignored.

    Args:
        df: `pandas.DataFrame` indexed by a `DatetimeIndex`, one column per schema channel
            (raw physical values, NaN = missing). Any sampling rate; samples are averaged per
            minute.
        schema: `ChannelSchema` (or a channel-set name); default the 34 SensorLM channels.
        date: ``None`` for every calendar day from the first to the last timestamp (days in
            between without data are all-missing and dropped), or one date / a list of dates
            (``datetime.date``, ``"YYYY-MM-DD"``, Timestamp) to cut out.
        sort: sort an unordered index instead of raising.
        off_wrist: optional name of a boolean column of ``df``; a minute with any ``True``
            sample is off-wrist (missing in every channel). An array ``(N, 1440)`` aligned with
            the cut days is also accepted.
        max_days: most calendar days cut in one call (default 366): the output holds
            ``days x 1440 x C`` values, so a stray timestamp decades away is refused instead of
            allocating decades of minutes. Pass ``date=[...]`` or split the frame for more.
        **kwargs: forwarded to `preprocess_days` (``missing_threshold``, ``clip``,
            ``plausible_ranges``).

    Returns:
        ``(result, dates)``: `PreprocessedDays` (with ``result.dates`` = the dates of the kept
        rows) and the list of every cut calendar day as ``datetime.date``; ``kept_indices`` and
        ``dropped_indices`` index into that list.

    Raises:
        DataError: not a DataFrame, index not a DatetimeIndex, NaT, duplicated or unordered
            timestamps, missing channel columns, non-numeric columns, bad dates.

    Example:

    ```python
    import numpy as np
    import pandas as pd
    from sensorlm_keras.data import ChannelSchema, preprocess_dataframe

    schema = ChannelSchema.default().select(["HR", "steps"])
    index = pd.date_range("2024-05-01 00:00", periods=2 * 1440 * 4, freq="15s")
    df = pd.DataFrame({"HR": 70.0, "steps": 3.0}, index=index)
    result, dates = preprocess_dataframe(df, schema=schema)
    result.sensor.shape   # (2, 1440, 2)
    dates                 # [datetime.date(2024, 5, 1), datetime.date(2024, 5, 2)]
    ```
    """
    schema = ChannelSchema.resolve(schema)
    cube, column_off_wrist, days = minute_days(
        df, schema, date=date, sort=sort, off_wrist=off_wrist, max_days=max_days,
        plausible_ranges=kwargs.get("plausible_ranges"),
    )
    if column_off_wrist is not None:
        off_wrist = column_off_wrist
    result = preprocess_days(cube, schema=schema, off_wrist=off_wrist, **kwargs)
    dates = tuple(days[i] for i in result.kept_indices)
    return dataclasses.replace(result, dates=dates), list(days)


def minute_days(df, schema, date=None, sort=False, off_wrist=None, max_days=366,
                plausible_ranges=None):
    """Per-minute means of a timestamped table, cut into calendar days at local midnight.

    Non-finite values and values outside the plausible ranges are dropped from the samples
    before averaging. See `preprocess_dataframe` for the arguments.

    Returns:
        ``(cube, off_wrist, days)``: float64 ``(len(days), 1440, C)`` minute means (NaN = no
        sample), the boolean ``(len(days), 1440)`` off-wrist minutes when ``off_wrist`` names a
        column (else None), and the cut days as ``datetime.date``.
    """
    import pandas as pd

    df = _check_frame(df, schema, sort)
    ow_col = _off_wrist_column(df, off_wrist)
    index = df.index
    if index.tz is not None:
        index = index.tz_localize(None)  # local wall-clock time
    max_days = check_positive_int(max_days, "max_days")
    days = _calendar_days(index, date, max_days)
    low, high = range_bounds(schema, plausible_ranges)
    raw = df[list(schema.names)].to_numpy(dtype=np.float64, copy=True)
    raw[~np.isfinite(raw) | (raw < low) | (raw > high)] = np.nan
    # Only the requested days' rows, averaged per minute that has samples (a groupby, not a
    # resample: memory follows the rows and the days, never the span between timestamps).
    wanted = index.normalize().isin(pd.DatetimeIndex([pd.Timestamp(d) for d in days]))
    minute_of = index[wanted].floor("min")
    frame = pd.DataFrame(raw[wanted], index=index[wanted], columns=list(schema.names))
    minutes = frame.groupby(minute_of).mean()
    starts = pd.DatetimeIndex([pd.Timestamp(d) for d in days])
    offsets = pd.to_timedelta(np.arange(MINUTES_PER_DAY), unit="min")
    full_index = pd.DatetimeIndex(
        (starts.values[:, None] + offsets.values[None, :]).reshape(-1)
    )
    cube = minutes.reindex(full_index).to_numpy(dtype=np.float64)
    cube = cube.reshape(len(days), MINUTES_PER_DAY, schema.num_channels)
    ow = None
    if ow_col is not None:
        ow_minutes = (
            pd.Series(ow_col.to_numpy().astype(bool)[wanted], index=index[wanted])
            .groupby(minute_of).max()
        )
        ow = ow_minutes.reindex(full_index).fillna(False).to_numpy(dtype=bool)
        ow = ow.reshape(len(days), MINUTES_PER_DAY)
    return cube, ow, days


def _check_frame(df, schema, sort):
    """``df`` (sorted when ``sort``) after checking its index and channel columns."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df: expected a pandas DataFrame, received {describe(df)}.")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(
            f"df.index: expected a pandas DatetimeIndex, received {type(df.index).__name__}."
        )
    if df.index.hasnans:
        raise DataError("df.index: expected timestamps only, received NaT values.")
    if not df.index.is_unique:
        dupes = df.index[df.index.duplicated()].unique()
        raise DataError(
            f"df.index: expected unique timestamps, received {len(dupes)} duplicated "
            f"timestamp(s), first {dupes[0]}."
        )
    if not df.index.is_monotonic_increasing:
        if not sort:
            raise DataError(
                "df.index: expected timestamps in increasing order, received an unordered index "
                "(pass sort=True to sort it)."
            )
        df = df.sort_index()
    missing_cols = [n for n in schema.names if n not in df.columns]
    if missing_cols:
        raise DataError(
            f"df.columns: expected a column per schema channel, missing {missing_cols}; received "
            f"columns {list(df.columns)[:10]}."
        )
    values = df[list(schema.names)]
    non_numeric = [
        c
        for c in values.columns
        if not pd.api.types.is_numeric_dtype(values[c]) or pd.api.types.is_bool_dtype(values[c])
    ]
    if non_numeric:
        raise DataError(
            f"df.columns: expected numeric channel columns, received non-numeric columns "
            f"{non_numeric}."
        )
    return df


def _off_wrist_column(df, off_wrist):
    """The boolean column ``off_wrist`` names, or None when it is not a column name."""
    import pandas as pd

    if not isinstance(off_wrist, str):
        return None
    if off_wrist not in df.columns:
        raise DataError(
            f"off_wrist: expected the name of a boolean column of df, received {off_wrist!r} "
            f"(columns {list(df.columns)[:10]})."
        )
    column = df[off_wrist]
    if not (pd.api.types.is_bool_dtype(column) or column.isin([0, 1]).all()):
        raise DataError(
            f"off_wrist: expected column {off_wrist!r} to be boolean, received dtype "
            f"{column.dtype}."
        )
    return column


def _calendar_days(index, date, max_days):
    """The calendar days to cut: every day the index spans, or the requested ``date`` (s)."""
    import pandas as pd

    if date is None:
        if len(index) == 0:
            raise DataError("df: expected at least one row when date is None, received 0 rows.")
        first = index.min().normalize()
        last = index.max().normalize()
        span = (last - first).days + 1
        if span > max_days:
            raise DataError(
                f"df.index: the timestamps span {span} calendar days ({first.date()} to "
                f"{last.date()}), more than max_days={max_days}; pass date=[...] to cut "
                "specific days, split the frame, or raise max_days."
            )
        return [d.date() for d in pd.date_range(first, last, freq="D")]
    seq = date if isinstance(date, (list, tuple)) else [date]
    if not seq:
        raise DataError("date: expected a date or a non-empty list of dates, received [].")
    if len(seq) > max_days:
        raise DataError(f"date: expected at most max_days={max_days} dates, received {len(seq)}.")
    days = [_to_day(d, "date") for d in seq]
    if len(set(days)) != len(days):
        raise DataError(f"date: expected distinct dates, received {seq!r}.")
    return days


def _to_day(value, field):
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except Exception:
        raise DataError(
            f"{field}: expected a date (datetime.date, 'YYYY-MM-DD' or Timestamp), received "
            f"{value!r}."
        ) from None
    if ts is pd.NaT:
        raise DataError(f"{field}: expected a date, received {value!r}.")
    return ts.date()
