"""`preprocess_days`: raw minute-level person-days -> model-ready z-scores with a missing mask.

The steps follow the SensorLM preprocessing:

1. cleaning: non-finite values (NaN, +-Inf) and physically impossible values (see
   `PLAUSIBLE_RANGES`) become missing; optional off-wrist minutes become missing;
2. missing mask (``True`` = missing) and per-day missing ratio (fraction of missing cells);
3. days whose missing ratio exceeds ``missing_threshold``, and days without any observed value,
   are dropped (their indices are reported);
4. z-scoring with the schema constants, then clipping to ``[-clip, clip]``;
5. imputation of the missing cells of the kept days (`impute_over_time`): linear interpolation
   over time per channel, then back-fill (leading gap) / forward-fill (trailing gap), then 0 for
   a channel that is missing for the whole day (0 is the population mean in z-score units).

Everything is vectorised over days, minutes and channels (NumPy only).
"""

import numpy as np

from sensorlm_keras.utils.array_checks import check_bool_mask
from sensorlm_keras.data.channel_schema import ChannelSchema
from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.data.preprocessed_days import PreprocessedDays
from sensorlm_keras.data.preprocessing.imputation import impute_over_time
from sensorlm_keras.data.preprocessing.plausible_ranges import range_bounds
from sensorlm_keras.errors import DataError
from sensorlm_keras.utils.validation import check_float, check_positive_int


def preprocess_days(
    raw,
    schema=None,
    missing_threshold=0.8,
    off_wrist=None,
    clip=5.0,
    plausible_ranges=None,
    num_timesteps=MINUTES_PER_DAY,
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
        num_timesteps: length of the time axis ``T`` (default 1440 minutes, a day); labelled
            windows of any length pass their own ``T`` (`build_window_dataset`).

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
    schema = ChannelSchema.resolve(schema)
    missing_threshold = check_float(missing_threshold, "missing_threshold", 0, 1)
    clip = check_float(clip, "clip", 0, exclusive_minimum=True, allow_none=True)
    low, high = range_bounds(schema, plausible_ranges)
    num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
    arr, single = _check_days_array(raw, schema, "raw", num_timesteps)
    x = arr.astype(np.float64)  # always a copy
    bad = ~np.isfinite(x) | (x < low) | (x > high)
    if off_wrist is not None:
        bad |= _off_wrist_mask(off_wrist, arr.shape[0], single, num_timesteps)[:, :, None]
    x[bad] = np.nan
    z_all = _z_scores(x, bad, schema)

    missing_ratio = bad.mean(axis=(1, 2))
    keep = (missing_ratio <= missing_threshold) & (missing_ratio < 1.0)
    kept = np.flatnonzero(keep).astype(np.int64)
    dropped = np.flatnonzero(~keep).astype(np.int64)

    z = z_all[kept]
    if clip is not None:
        np.clip(z, -clip, clip, out=z)
    sensor = impute_over_time(z, axis=1).astype(np.float32)
    return PreprocessedDays(
        sensor=sensor,
        mask=bad[kept],
        missing_ratio=missing_ratio[kept].astype(np.float32),
        kept_indices=kept,
        dropped_indices=dropped,
    )


def _z_scores(x, bad, schema):
    """z-scores of ``x`` (NaN where ``bad``); a finite value whose z-score does not fit a float32
    (e.g. 1e308, or 1e38 with a std below 1) is as unusable as a NaN: it becomes missing (NaN,
    and ``bad`` is updated in place) instead of an infinite z-score."""
    with np.errstate(over="ignore", invalid="ignore"):
        z_all = (x - schema.means) / schema.stds
        overflow = ~bad & ~(np.abs(z_all) <= np.finfo(np.float32).max)
    if overflow.any():
        bad |= overflow
        z_all[overflow] = np.nan
    return z_all


def _off_wrist_mask(off_wrist, n, single, num_timesteps):
    ow = np.asarray(off_wrist)
    if ow.ndim == 1 and single:
        ow = ow[None]
    return check_bool_mask(ow, (n, num_timesteps), "off_wrist", "True = off the wrist")


def _check_days_array(raw, schema, field, num_timesteps):
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
            f"{field}: expected rank 2 ({num_timesteps}, C) or rank 3 (N, {num_timesteps}, C), "
            "received shape "
            f"{tuple(arr.shape)} (rank {arr.ndim})."
        )
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.shape[1] != num_timesteps:
        raise DataError(
            f"{field}: expected {num_timesteps} steps on the time axis, received "
            f"{arr.shape[1]} (shape {tuple(np.shape(raw))})."
        )
    if arr.shape[2] != schema.num_channels:
        raise DataError(
            f"{field}: expected {schema.num_channels} channels (schema {schema.names[:3]}...), "
            f"received {arr.shape[2]} (shape {tuple(np.shape(raw))})."
        )
    return arr, single
