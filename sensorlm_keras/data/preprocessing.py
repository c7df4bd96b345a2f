"""Preprocessing of raw minute-level wearable data into model-ready person-days.

The steps follow the SensorLM preprocessing:

1. cleaning: non-finite values (NaN, +-Inf) and physically impossible values (see
   `PLAUSIBLE_RANGES`) become missing; optional off-wrist minutes become missing;
2. missing mask (``True`` = missing) and per-day missing ratio (fraction of missing cells);
3. days whose missing ratio exceeds ``missing_threshold``, and days without any observed value,
   are dropped (their indices are reported);
4. z-scoring with the schema constants, then clipping to ``[-clip, clip]``;
5. imputation of the missing cells of the kept days: linear interpolation over time per channel,
   then back-fill (leading gap) / forward-fill (trailing gap), then 0 for a channel that is
   missing for the whole day (0 is the population mean in z-score units).

Everything is vectorised over days, minutes and channels (NumPy only; pandas is imported lazily
by `preprocess_dataframe`).
"""

import math
import numbers

import numpy as np

from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessed_days import PreprocessedDays
from sensorlm_keras.errors import ConfigError, DataError, describe

# Plausible physical range (inclusive) per channel name; a value outside becomes missing.
# ``None`` means unbounded on that side. Channels not listed (and custom channels) only get the
# non-finite check. The bounds are deliberately wide: they remove sensor glitches (negative
# counts, heart rates no human has, saturation above 100 %), not unusual physiology.
PLAUSIBLE_RANGES = {
    "HR": (25.0, 250.0),  # beats per minute
    "rr_med": (240.0, 2400.0),  # ms; the RR interval of 250 .. 25 bpm
    "sdnn0595": (0.0, None),
    "rmssd0595": (0.0, None),
    "pnn20": (0.0, 1.0),
    "coherence": (0.0, 1.0),
    "ShEnRR": (0.0, None),
    "LF": (0.0, None),
    "HF": (0.0, None),
    "LF_HF": (0.0, None),
    "VLF": (0.0, None),
    "spectralEn": (0.0, None),
    "percent_good": (0.0, 1.0),
    "steps": (0.0, 500.0),  # steps per minute
    "altim_std": (0.0, None),
    "zero_crossing_std": (0.0, None),
    "zero_crossing_avg": (0.0, None),
    "leads_contact_counts": (0.0, None),
    "sleep_coefficient": (0.0, None),
    "sleep_stage_awake": (0.0, 1.0),
    "sleep_stage_light": (0.0, 1.0),
    "sleep_stage_deep": (0.0, 1.0),
    "sleep_stage_rem": (0.0, 1.0),
    "wrist_temperatures": (15.0, 45.0),  # degrees Celsius
    "spo2": (50.0, 100.0),  # percent
    "spo2_confidence": (0.0, 100.0),
    "spo2_coverage": (0.0, 100.0),
}


def _resolve_schema(schema, field="schema"):
    if schema is None:
        return ChannelSchema.default()
    if isinstance(schema, str):
        return ChannelSchema.named(schema)
    if not isinstance(schema, ChannelSchema):
        raise ConfigError(
            f"{field}: expected a ChannelSchema, a channel-set name or None, received "
            f"{describe(schema)}."
        )
    return schema


def _range_bounds(schema, plausible_ranges):
    table = PLAUSIBLE_RANGES if plausible_ranges is None else plausible_ranges
    if not isinstance(table, dict):
        raise ConfigError(
            "plausible_ranges: expected a dict {channel name: (low, high)} or None, received "
            f"{describe(table)}."
        )
    low = np.full(schema.num_channels, -np.inf)
    high = np.full(schema.num_channels, np.inf)
    for i, name in enumerate(schema.names):
        if name not in table:
            continue
        bounds = table[name]
        if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
            raise ConfigError(
                f"plausible_ranges[{name!r}]: expected a (low, high) pair, received {bounds!r}."
            )
        lo, hi = bounds
        low[i] = -np.inf if lo is None else float(lo)
        high[i] = np.inf if hi is None else float(hi)
        if not low[i] <= high[i]:
            raise ConfigError(
                f"plausible_ranges[{name!r}]: expected low <= high, received {bounds!r}."
            )
    return low, high


def impute_over_time(x, axis=-2):
    """Fill NaNs by linear interpolation along ``axis``, then back-/forward-fill, then 0.

    Vectorised over every other axis. Observed values are returned unchanged.

    Args:
        x: float array with NaN marking missing values.
        axis: the time axis (default: second to last, as in ``(N, 1440, C)``).

    Returns:
        A float array of the same shape and dtype (at least float32) without NaN.

    Example:

    ```python
    impute_over_time(np.array([[np.nan], [1.0], [np.nan], [3.0], [np.nan]]))
    # -> [[1.], [1.], [2.], [3.], [3.]]
    ```
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    moved = np.moveaxis(x, axis, -1)
    shape = moved.shape
    rows = np.ascontiguousarray(moved).reshape(-1, shape[-1])
    valid = ~np.isnan(rows)
    todo = np.flatnonzero(~valid.all(-1))  # only the series with a gap need any work
    out = rows.copy()
    if todo.size:
        out[todo] = _impute_rows(rows[todo], valid[todo])
    return np.moveaxis(out.reshape(shape), -1, axis)


def _impute_rows(x, valid):
    """`impute_over_time` of a 2-D ``(rows, T)`` array, every row with at least one NaN."""
    t_len = x.shape[-1]
    idx = np.arange(t_len)
    prev = np.where(valid, idx, -1)
    np.maximum.accumulate(prev, axis=-1, out=prev)
    nxt = np.where(valid, idx, t_len)
    nxt = np.flip(np.minimum.accumulate(np.flip(nxt, -1), axis=-1), -1)
    has_prev = prev >= 0
    has_next = nxt < t_len
    filled = np.where(valid, x, 0.0)
    v_prev = np.take_along_axis(filled, np.clip(prev, 0, t_len - 1), axis=-1)
    v_next = np.take_along_axis(filled, np.clip(nxt, 0, t_len - 1), axis=-1)
    weight = (idx - prev) / np.maximum(nxt - prev, 1)
    interp = v_prev + (v_next - v_prev) * weight
    edge = np.where(has_next, v_next, np.where(has_prev, v_prev, 0.0))
    return np.where(valid, x, np.where(has_prev & has_next, interp, edge)).astype(
        x.dtype, copy=False
    )


def _check_days_array(raw, schema, field):
    try:
        arr = np.asarray(raw)
    except Exception as e:  # ragged nested lists and the like
        raise DataError(f"{field}: expected a numeric array, could not convert ({e}).") from None
    if arr.dtype.kind not in "iuf":
        raise DataError(
            f"{field}: expected a numeric (integer or float) array, received dtype {arr.dtype}."
        )
    if arr.ndim not in (2, 3):
        raise DataError(
            f"{field}: expected rank 2 (1440, C) or rank 3 (N, 1440, C), received shape "
            f"{tuple(arr.shape)} (rank {arr.ndim})."
        )
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.shape[1] != MINUTES_PER_DAY:
        raise DataError(
            f"{field}: expected {MINUTES_PER_DAY} minutes on the time axis, received "
            f"{arr.shape[1]} (shape {tuple(np.shape(raw))})."
        )
    if arr.shape[2] != schema.num_channels:
        raise DataError(
            f"{field}: expected {schema.num_channels} channels (schema {schema.names[:3]}...), "
            f"received {arr.shape[2]} (shape {tuple(np.shape(raw))})."
        )
    return arr, single


def preprocess_days(
    raw,
    schema=None,
    missing_threshold=0.8,
    off_wrist=None,
    clip=5.0,
    plausible_ranges=None,
):
    """Clean, mask, z-score, clip, filter and impute raw minute-level person-days.

    Non-finite values (NaN, +Inf, -Inf) are treated as missing, never as errors, and so are
    finite values whose z-score does not fit a float32 (overflow). Values outside
    the channel's plausible range (`PLAUSIBLE_RANGES`, e.g. negative steps, heart rate outside
    25..250 bpm, SpO2 above 100 %) are treated as missing; channels without an entry only get the
    non-finite check. A channel missing for a whole day is allowed (imputed to 0 and fully
    masked), but a day with no observed value at all is always dropped, whatever the threshold.

    Args:
        raw: physical values, array ``(1440, C)`` or ``(N, 1440, C)``, NaN = missing. A single
            day is treated as ``N = 1``.
        schema: `ChannelSchema` (or a channel-set name); default the 34 SensorLM channels.
        missing_threshold: days whose missing ratio (fraction of missing cells over minutes x
            channels) is strictly greater than this are dropped; in ``[0, 1]``.
        off_wrist: optional boolean array ``(N, 1440)`` (or ``(1440,)`` for one day); ``True``
            minutes become missing in every channel.
        clip: clip z-scores to ``[-clip, clip]``; ``None`` disables clipping.
        plausible_ranges: optional dict ``{name: (low, high)}`` replacing `PLAUSIBLE_RANGES`
            (``None`` bound = open side).

    Returns:
        `PreprocessedDays` with ``sensor`` float32 ``(N_kept, 1440, C)``, ``mask`` bool,
        ``missing_ratio`` float32 ``(N_kept,)``, ``kept_indices`` and ``dropped_indices``.

    Raises:
        DataError: wrong rank, wrong minute count, wrong channel count, non-numeric data or a bad
            ``off_wrist`` array.
        ConfigError: bad ``schema``, ``missing_threshold``, ``clip`` or ``plausible_ranges``.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.data import ChannelSchema, preprocess_days

    schema = ChannelSchema.default().select(["HR", "steps"])
    raw = np.random.default_rng(0).normal(75, 10, (3, 1440, 2))
    raw[0, :600] = np.nan                  # 42 % missing -> kept and imputed
    raw[1] = np.nan                        # nothing observed -> dropped
    result = preprocess_days(raw, schema=schema, missing_threshold=0.5)
    result.kept_indices                    # array([0, 2])
    result.mask[0, :600].all()             # True
    ```
    """
    schema = _resolve_schema(schema)
    if isinstance(missing_threshold, bool) or not isinstance(missing_threshold, numbers.Real):
        raise ConfigError(
            f"missing_threshold: expected a number in [0, 1], received {missing_threshold!r}."
        )
    if not 0.0 <= float(missing_threshold) <= 1.0:
        raise ConfigError(
            f"missing_threshold: expected a number in [0, 1], received {missing_threshold!r}."
        )
    if clip is not None:
        if isinstance(clip, bool) or not isinstance(clip, numbers.Real) or not (
            math.isfinite(clip) and clip > 0
        ):
            raise ConfigError(f"clip: expected a finite number > 0 or None, received {clip!r}.")
    low, high = _range_bounds(schema, plausible_ranges)
    arr, single = _check_days_array(raw, schema, "raw")
    n = arr.shape[0]

    x = arr.astype(np.float64)  # always a copy
    bad = ~np.isfinite(x) | (x < low) | (x > high)
    if off_wrist is not None:
        ow = np.asarray(off_wrist)
        if ow.ndim == 1 and single:
            ow = ow[None]
        if ow.shape != (n, MINUTES_PER_DAY):
            raise DataError(
                f"off_wrist: expected a boolean array of shape {(n, MINUTES_PER_DAY)}, received "
                f"shape {tuple(np.shape(off_wrist))}."
            )
        if ow.dtype != bool:
            if ow.dtype.kind in "iu" and np.isin(ow, (0, 1)).all():
                ow = ow.astype(bool)
            else:
                raise DataError(
                    f"off_wrist: expected a boolean array (or 0/1 integers), received dtype "
                    f"{ow.dtype}."
                )
        bad |= ow[:, :, None]
    x[bad] = np.nan
    # A finite value whose z-score does not fit a float32 (e.g. 1e308, or 1e38 with a std below
    # 1) is as unusable as a NaN: it becomes missing instead of an infinite z-score.
    with np.errstate(over="ignore", invalid="ignore"):
        z_all = (x - schema.means) / schema.stds
        overflow = ~bad & ~(np.abs(z_all) <= np.finfo(np.float32).max)
    if overflow.any():
        bad |= overflow
        z_all[overflow] = np.nan

    missing_ratio = bad.mean(axis=(1, 2))
    keep = (missing_ratio <= float(missing_threshold)) & (missing_ratio < 1.0)
    kept = np.flatnonzero(keep).astype(np.int64)
    dropped = np.flatnonzero(~keep).astype(np.int64)

    z = z_all[kept]
    if clip is not None:
        np.clip(z, -float(clip), float(clip), out=z)
    sensor = impute_over_time(z, axis=1).astype(np.float32)
    return PreprocessedDays(
        sensor=sensor,
        mask=bad[kept],
        missing_ratio=missing_ratio[kept].astype(np.float32),
        kept_indices=kept,
        dropped_indices=dropped,
    )


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
    import pandas as pd

    schema = _resolve_schema(schema)
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
    ow_col = None
    if isinstance(off_wrist, str):
        if off_wrist not in df.columns:
            raise DataError(
                f"off_wrist: expected the name of a boolean column of df, received {off_wrist!r} "
                f"(columns {list(df.columns)[:10]})."
            )
        ow_col = df[off_wrist]
        if not (pd.api.types.is_bool_dtype(ow_col) or ow_col.isin([0, 1]).all()):
            raise DataError(
                f"off_wrist: expected column {off_wrist!r} to be boolean, received dtype "
                f"{ow_col.dtype}."
            )
        off_wrist = None

    index = df.index
    if index.tz is not None:
        index = index.tz_localize(None)  # local wall-clock time
    if isinstance(max_days, bool) or not isinstance(max_days, int) or max_days < 1:
        raise ConfigError(f"max_days: expected a positive integer, received {max_days!r}.")
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
        days = [d.date() for d in pd.date_range(first, last, freq="D")]
    else:
        seq = date if isinstance(date, (list, tuple)) else [date]
        if not seq:
            raise DataError("date: expected a date or a non-empty list of dates, received [].")
        if len(seq) > max_days:
            raise DataError(
                f"date: expected at most max_days={max_days} dates, received {len(seq)}."
            )
        days = [_to_day(d, "date") for d in seq]
        if len(set(days)) != len(days):
            raise DataError(f"date: expected distinct dates, received {seq!r}.")

    low, high = _range_bounds(schema, kwargs.get("plausible_ranges"))
    raw = values.to_numpy(dtype=np.float64, copy=True)
    raw[~np.isfinite(raw) | (raw < low) | (raw > high)] = np.nan
    # Only the requested days' rows, averaged per minute that has samples (a groupby, not a
    # resample: memory follows the rows and the days, never the span between timestamps).
    wanted = index.normalize().isin(pd.DatetimeIndex([pd.Timestamp(d) for d in days]))
    minute_of = index[wanted].floor("min")
    frame = pd.DataFrame(raw[wanted], index=index[wanted], columns=list(schema.names))
    minutes = frame.groupby(minute_of).mean()
    if ow_col is not None:
        ow_minutes = (
            pd.Series(ow_col.to_numpy().astype(bool)[wanted], index=index[wanted])
            .groupby(minute_of).max()
        )

    starts = pd.DatetimeIndex([pd.Timestamp(d) for d in days])
    offsets = pd.to_timedelta(np.arange(MINUTES_PER_DAY), unit="min")
    full_index = pd.DatetimeIndex(
        (starts.values[:, None] + offsets.values[None, :]).reshape(-1)
    )
    cube = minutes.reindex(full_index).to_numpy(dtype=np.float64)
    cube = cube.reshape(len(days), MINUTES_PER_DAY, schema.num_channels)
    if ow_col is not None:
        ow = ow_minutes.reindex(full_index).fillna(False).to_numpy(dtype=bool)
        off_wrist = ow.reshape(len(days), MINUTES_PER_DAY)
    result = preprocess_days(cube, schema=schema, off_wrist=off_wrist, **kwargs)
    result = PreprocessedDays(
        sensor=result.sensor,
        mask=result.mask,
        missing_ratio=result.missing_ratio,
        kept_indices=result.kept_indices,
        dropped_indices=result.dropped_indices,
        dates=tuple(days[i] for i in result.kept_indices),
    )
    return result, list(days)


__all__ = ["PLAUSIBLE_RANGES", "impute_over_time", "preprocess_days", "preprocess_dataframe"]
