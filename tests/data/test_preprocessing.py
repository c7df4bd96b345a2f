"""Tests of `preprocess_days` and `preprocess_dataframe` (NumPy/pandas only)."""

import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import (
    Channel,
    ChannelSchema,
    PreprocessedDays,
    impute_over_time,
    preprocess_dataframe,
    preprocess_days,
)
from sensorlm_keras.errors import ConfigError, DataError

T = 1440


def plain_schema(c=3):
    """Channels without a plausible-range entry: only the non-finite check applies."""
    return ChannelSchema([Channel(f"ch{i}", mean=float(i), std=2.0 + i) for i in range(c)])


def pandas_reference(z):
    """Independent imputation of one (T, C) day: pandas interpolate, bfill, ffill, then 0."""
    frame = pd.DataFrame(z)
    return frame.interpolate(method="linear").bfill().ffill().fillna(0.0).to_numpy()


# ----------------------------------------------------------------------------------- imputation
@settings(deadline=None, max_examples=30)
@given(
    seed=st.integers(0, 2**31 - 1),
    p_missing=st.floats(0.0, 0.95),
    n=st.integers(1, 3),
)
def test_imputation_matches_pandas_reference(seed, p_missing, n):
    rng = np.random.default_rng(seed)
    schema = plain_schema(4)
    raw = rng.normal(0, 3, (n, T, 4)) + schema.means
    missing = rng.random(raw.shape) < p_missing
    # long gaps at the edges and one entirely missing channel on the first day
    missing[0, : rng.integers(0, 200), 1] = True
    missing[0, T - rng.integers(0, 200) :, 2] = True
    missing[0, :, 3] = True
    raw[missing] = np.nan
    result = preprocess_days(raw, schema=schema, missing_threshold=1.0, clip=None)
    for row, day in enumerate(result.kept_indices):
        z = (raw[day] - schema.means) / schema.stds
        expected = pandas_reference(z)
        np.testing.assert_allclose(result.sensor[row], expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(result.mask[row], missing[day])
    assert not np.isnan(result.sensor).any()


def test_impute_over_time_small_example():
    x = np.array([[np.nan], [1.0], [np.nan], [3.0], [np.nan]])
    np.testing.assert_allclose(impute_over_time(x, axis=0)[:, 0], [1, 1, 2, 3, 3])
    np.testing.assert_allclose(impute_over_time(np.full((4, 1), np.nan), axis=0), 0.0)


def test_all_missing_channel_is_zero_and_masked():
    schema = plain_schema(2)
    raw = np.ones((1, T, 2))
    raw[0, :, 1] = np.nan
    result = preprocess_days(raw, schema=schema)
    assert result.mask[0, :, 1].all() and not result.mask[0, :, 0].any()
    np.testing.assert_array_equal(result.sensor[0, :, 1], 0.0)
    assert result.missing_ratio[0] == pytest.approx(0.5)


# ----------------------------------------------------------------------- z-score, clip, clean
def test_zscore_and_clipping():
    schema = plain_schema(2)
    raw = np.zeros((1, T, 2)) + schema.means
    raw[0, 0, 0] = schema.means[0] + 100 * schema.stds[0]  # z = 100
    raw[0, 1, 0] = schema.means[0] - 7 * schema.stds[0]  # z = -7
    raw[0, 2, 1] = schema.means[1] + 1.5 * schema.stds[1]  # z = 1.5
    out = preprocess_days(raw, schema=schema).sensor[0]
    assert out.dtype == np.float32
    assert out[0, 0] == 5.0 and out[1, 0] == -5.0
    assert out[2, 1] == pytest.approx(1.5)
    assert np.abs(out).max() <= 5.0
    assert preprocess_days(raw, schema=schema, clip=2.0).sensor[0, 0, 0] == 2.0
    assert preprocess_days(raw, schema=schema, clip=None).sensor[0, 0, 0] == pytest.approx(100.0)


def test_implausible_and_nonfinite_values_become_missing():
    schema = ChannelSchema.default().select(["HR", "steps", "spo2", "jerk_auto"])
    raw = np.tile(np.array([70.0, 10.0, 97.0, 200.0]), (1, T, 1))
    raw[0, 10, 0] = 300.0  # HR above 250 bpm
    raw[0, 11, 0] = 20.0  # HR below 25 bpm
    raw[0, 12, 1] = -3.0  # negative steps
    raw[0, 13, 2] = 100.5  # SpO2 above 100 %
    raw[0, 14, 3] = -1e6  # jerk_auto has no range: kept
    raw[0, 15, 3] = np.inf  # non-finite: missing
    raw[0, 16, 0] = -np.inf
    result = preprocess_days(raw, schema=schema)
    expected = np.zeros((T, 4), dtype=bool)
    for t, c in [(10, 0), (11, 0), (12, 1), (13, 2), (15, 3), (16, 0)]:
        expected[t, c] = True
    np.testing.assert_array_equal(result.mask[0], expected)
    # imputed HR over minutes 10, 11 is the neighbours' value (70 bpm)
    hr = schema.denormalize(result.sensor[0].astype(np.float64))[:, 0]
    np.testing.assert_allclose(hr[9:13], 70.0, rtol=1e-5)
    assert result.sensor[0, 14, 3] == -5.0  # clipped, not masked


def test_off_wrist_minutes_are_missing():
    schema = plain_schema(2)
    raw = np.ones((2, T, 2))
    off = np.zeros((2, T), dtype=bool)
    off[1, 100:200] = True
    result = preprocess_days(raw, schema=schema, off_wrist=off)
    assert result.mask[1, 100:200].all() and result.mask[1].sum() == 200
    assert not result.mask[0].any()
    single = preprocess_days(raw[1], schema=schema, off_wrist=off[1])
    np.testing.assert_array_equal(single.mask, result.mask[1:])


# --------------------------------------------------------------------------- day dropping
def test_threshold_drops_days_and_reports_indices():
    schema = plain_schema(1)
    raw = np.ones((5, T, 1))
    for day, ratio in enumerate([0.1, 0.5, 0.51, 0.9, 1.0]):
        raw[day, : int(round(ratio * T)), 0] = np.nan
    result = preprocess_days(raw, schema=schema, missing_threshold=0.5)
    assert isinstance(result, PreprocessedDays)
    np.testing.assert_array_equal(result.kept_indices, [0, 1])
    np.testing.assert_array_equal(result.dropped_indices, [2, 3, 4])
    np.testing.assert_allclose(result.missing_ratio, [0.1, 0.5], atol=1e-3)
    assert result.missing_ratio.dtype == np.float32
    assert result.sensor.shape == (2, T, 1) and result.mask.shape == (2, T, 1)
    # an all-missing day is dropped even with threshold 1.0
    everything = preprocess_days(raw, schema=schema, missing_threshold=1.0)
    np.testing.assert_array_equal(everything.kept_indices, [0, 1, 2, 3])
    np.testing.assert_array_equal(everything.dropped_indices, [4])


def test_single_day_and_default_schema():
    rng = np.random.default_rng(0)
    schema = ChannelSchema.default()
    raw = schema.means + rng.normal(0, 0.1, (T, 34)) * schema.stds
    raw = np.clip(raw, 0.0, None)  # stay inside the plausible ranges
    raw[:, schema.index("HR")] = 70.0
    raw[:, schema.index("spo2")] = 96.0
    raw[:, schema.index("rr_med")] = 850.0
    for name in ("pnn20", "coherence", "percent_good") + tuple(
        n for n in schema.names if n.startswith("sleep_stage")
    ):
        raw[:, schema.index(name)] = 0.5
    result = preprocess_days(raw)
    assert result.sensor.shape == (1, T, 34)
    assert not result.mask.any()


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "raw, field",
    [
        (np.ones(T), "raw"),
        (np.ones((1, 1, T, 3)), "raw"),
        (np.ones((2, 1439, 3)), "1440"),
        (np.ones((2, T, 4)), "channels"),
        (np.full((T, 3), "x"), "dtype"),
    ],
)
def test_bad_arrays_raise_data_error(raw, field):
    with pytest.raises(DataError, match="raw") as info:
        preprocess_days(raw, schema=plain_schema(3))
    assert field in str(info.value)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"missing_threshold": 1.5}, "missing_threshold"),
        ({"missing_threshold": -0.1}, "missing_threshold"),
        ({"missing_threshold": "0.5"}, "missing_threshold"),
        ({"clip": 0}, "clip"),
        ({"clip": -1.0}, "clip"),
        ({"clip": float("inf")}, "clip"),
        ({"schema": "nope"}, "unknown channel set"),
        ({"schema": [1, 2]}, "schema"),
        ({"plausible_ranges": {"ch0": (5, 1)}}, "plausible_ranges"),
    ],
)
def test_bad_config_raises_config_error(kwargs, field):
    kwargs.setdefault("schema", plain_schema(3))
    with pytest.raises(ConfigError, match=field):
        preprocess_days(np.ones((T, 3)), **kwargs)


def test_bad_off_wrist_raises():
    with pytest.raises(DataError, match="off_wrist"):
        preprocess_days(
            np.ones((2, T, 3)), schema=plain_schema(3), off_wrist=np.zeros((2, 10), bool)
        )
    with pytest.raises(DataError, match="off_wrist"):
        preprocess_days(np.ones((1, T, 3)), schema=plain_schema(3), off_wrist=np.full((1, T), 0.5))


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        preprocess_days(np.ones((5, 3)), schema=plain_schema(3))


# ---------------------------------------------------------------------------- DataFrame path
def hr_steps_schema():
    return ChannelSchema.default().select(["HR", "steps"])


def test_dataframe_resampling_and_midnight_cut():
    schema = hr_steps_schema()
    # 15-second samples from 2024-03-10 22:00 to 2024-03-11 02:00 (partial days on both sides)
    index = pd.date_range("2024-03-10 22:00", "2024-03-11 01:59:45", freq="15s")
    rng = np.random.default_rng(1)
    hr = rng.uniform(50, 120, len(index))
    steps = rng.uniform(0, 30, len(index))
    df = pd.DataFrame({"HR": hr, "steps": steps, "extra": 1.0}, index=index)
    result, dates = preprocess_dataframe(df, schema=schema, missing_threshold=1.0, clip=None)
    assert dates == [datetime.date(2024, 3, 10), datetime.date(2024, 3, 11)]
    assert result.dates == tuple(dates)
    np.testing.assert_array_equal(result.kept_indices, [0, 1])
    # day 1 covers minutes 1320..1439, day 2 minutes 0..119; the rest is missing
    assert not result.mask[0, 1320:].any() and result.mask[0, :1320].all()
    assert not result.mask[1, :120].any() and result.mask[1, 120:].all()
    # minute means: the four samples of 23:59 belong to day 1, minute 1439
    denorm = schema.denormalize(result.sensor.astype(np.float64))
    last_minute = (index >= "2024-03-10 23:59") & (index < "2024-03-11 00:00")
    first_minute = (index >= "2024-03-11 00:00") & (index < "2024-03-11 00:01")
    assert last_minute.sum() == 4 and first_minute.sum() == 4
    assert denorm[0, 1439, 0] == pytest.approx(hr[last_minute].mean(), rel=1e-5)
    assert denorm[1, 0, 1] == pytest.approx(steps[first_minute].mean(), rel=1e-5)
    expected = df[["HR", "steps"]].resample("1min").mean()
    minute_20 = expected.loc["2024-03-10 22:20"].to_numpy()
    np.testing.assert_allclose(denorm[0, 1340], minute_20, rtol=1e-5)


def test_dataframe_glitches_are_removed_before_averaging():
    schema = hr_steps_schema()
    index = pd.date_range("2024-01-01", periods=T * 2, freq="30s")
    df = pd.DataFrame({"HR": 60.0, "steps": 0.0}, index=index)
    df.iloc[1, 0] = -5.0  # impossible HR in minute 0
    df.iloc[3, 1] = np.inf  # non-finite steps in minute 1
    result, _ = preprocess_dataframe(df, schema=schema)
    denorm = schema.denormalize(result.sensor.astype(np.float64))
    assert denorm[0, 0, 0] == pytest.approx(60.0)
    assert not result.mask.any()


def test_dataframe_duplicates_order_columns_and_dates():
    schema = hr_steps_schema()
    index = pd.date_range("2024-01-01", periods=100, freq="min")
    df = pd.DataFrame({"HR": 60.0, "steps": 1.0}, index=index)
    dup = pd.concat([df, df.iloc[:1]])
    with pytest.raises(DataError, match="df.index.*duplicated"):
        preprocess_dataframe(dup, schema=schema)
    shuffled = df.iloc[::-1]
    with pytest.raises(DataError, match="df.index.*order"):
        preprocess_dataframe(shuffled, schema=schema)
    a, _ = preprocess_dataframe(shuffled, schema=schema, sort=True, missing_threshold=1.0)
    b, _ = preprocess_dataframe(df, schema=schema, missing_threshold=1.0)
    np.testing.assert_array_equal(a.sensor, b.sensor)
    with pytest.raises(DataError, match="df.columns.*steps"):
        preprocess_dataframe(df[["HR"]], schema=schema)
    with pytest.raises(DataError, match="df.index"):
        preprocess_dataframe(df.reset_index(drop=True), schema=schema)
    with pytest.raises(DataError, match="df"):
        preprocess_dataframe(df.to_numpy(), schema=schema)
    with pytest.raises(DataError, match="date"):
        preprocess_dataframe(df, schema=schema, date="not a date")
    # an explicit date list: the second day has no data and is dropped
    result, dates = preprocess_dataframe(
        df, schema=schema, date=["2024-01-01", datetime.date(2024, 1, 2)], missing_threshold=1.0
    )
    assert dates == [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)]
    np.testing.assert_array_equal(result.kept_indices, [0])
    np.testing.assert_array_equal(result.dropped_indices, [1])
    assert result.missing_ratio[0] == pytest.approx(1 - 100 / T)


def test_dataframe_off_wrist_column_and_timezone():
    schema = hr_steps_schema()
    index = pd.date_range("2024-06-01 00:00", periods=T, freq="min", tz="Europe/Paris")
    df = pd.DataFrame({"HR": 60.0, "steps": 1.0, "off": False}, index=index)
    df.iloc[600:660, 2] = True
    result, dates = preprocess_dataframe(df, schema=schema, off_wrist="off")
    assert dates == [datetime.date(2024, 6, 1)]  # local midnight, not UTC
    assert result.mask[0, 600:660].all() and result.mask[0].sum() == 120
    with pytest.raises(DataError, match="off_wrist"):
        preprocess_dataframe(df, schema=schema, off_wrist="missing_column")
