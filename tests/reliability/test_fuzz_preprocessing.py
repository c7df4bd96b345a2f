"""Fuzz `preprocess_days` and `preprocess_dataframe`: any input either gives finite,
well-shaped output whose mask marks exactly the missing minutes, or a named project error."""

import datetime

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensorlm_keras.data import ChannelSchema, preprocess_dataframe, preprocess_days
from sensorlm_keras.data.channel import Channel
from sensorlm_keras.errors import ConfigError, DataError
from tests.reliability.fuzz_counts import run_case

T = 1440
# Reproducible (derandomize) and bounded in time: a failing case is reported as generated,
# without minutes of shrinking.
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.generate))
SPECIALS = [np.nan, np.inf, -np.inf, 1e308, -1e308, 3.4e38, 1e-308, 0.0, -0.0, 2**63, -(2**31)]


def plain_schema(c=3):
    return ChannelSchema([Channel(f"ch{i}", mean=float(i), std=0.25 + i) for i in range(c)])


@st.composite
def raw_arrays(draw):
    c = 3
    valid_shapes = [(T, c), (1, T, c), (2, T, c), (3, T, c), (0, T, c)]
    bad_shapes = [(T,), (2, T, c, 1), (2, T - 1, c), (1, T + 1, c), (2, T, c + 1), (2, T, 0), ()]
    shape = draw(st.one_of(st.sampled_from(valid_shapes), st.sampled_from(valid_shapes),
                           st.sampled_from(bad_shapes)))
    dtype = draw(st.one_of(st.sampled_from(["float64", "float32", "float16", "int64", "int8",
                                            "uint8"]),
                           st.sampled_from(["float64", "bool", "complex64", "object", "U3"])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0, 3, size=shape)
    if values.size:
        frac = draw(st.sampled_from([0.0, 0.01, 0.3, 0.9, 1.0]))
        hits = rng.random(shape) < frac
        values[hits] = rng.choice(np.array(SPECIALS, dtype=np.float64), size=int(hits.sum()))
        if draw(st.booleans()) and len(shape) >= 2 and shape[-1]:  # a channel missing all day
            values[..., int(rng.integers(0, shape[-1]))] = np.nan
    with np.errstate(all="ignore"):
        if dtype == "U3":
            array = np.full(shape, "x", dtype="U3")
        elif dtype == "object":
            array = values.astype(object)
        else:
            array = values.astype(dtype)
    off_wrist = None
    if draw(st.booleans()) and len(shape) in (2, 3):
        n = 1 if len(shape) == 2 else shape[0]
        kind = draw(st.sampled_from(["ok", "int", "wrong_shape", "float"]))
        ow = rng.random((n, T)) < 0.2
        off_wrist = {"ok": ow, "int": ow.astype(np.int32), "wrong_shape": ow[:, :10],
                     "float": ow.astype(float) * 0.5}[kind]
        if len(shape) == 2 and kind == "ok":
            off_wrist = ow[0]
    return array, off_wrist


# Mostly valid settings (so that arrays reach the maths), sometimes invalid ones.
thresholds = st.one_of(st.floats(0, 1), st.floats(0, 1), st.just(0.8), st.just(0.8), st.just(1.0),
                       st.sampled_from([-0.1, 1.5, float("nan"), "0.5", True]))
clips = st.one_of(st.none(), st.floats(0.5, 10), st.floats(0.5, 10), st.just(5.0), st.just(5.0),
                  st.sampled_from([0, -1.0, float("inf"), "5"]))


def _expected_missing(raw, off_wrist, schema):
    with np.errstate(all="ignore"):
        x = np.asarray(raw).astype(np.float64)
        if x.ndim == 2:
            x = x[None]
        z = (x - schema.means) / schema.stds
    missing = ~np.isfinite(x) | ~(np.abs(z) <= np.finfo(np.float32).max)  # documented overflow
    if off_wrist is not None:
        missing |= np.asarray(off_wrist, bool).reshape(x.shape[0], T)[:, :, None]
    return missing, z


@settings(max_examples=500, **SETTINGS)
@given(raw_arrays(), thresholds, clips)
def test_fuzz_preprocess_days(case, threshold, clip):
    raw, off_wrist = case
    schema = plain_schema()

    def check(result):
        n = 1 if raw.ndim == 2 else raw.shape[0]
        missing, z = _expected_missing(raw, off_wrist, schema)
        kept = result.kept_indices
        assert sorted(kept.tolist() + result.dropped_indices.tolist()) == list(range(n))
        assert result.sensor.shape == (len(kept), T, 3) and result.sensor.dtype == np.float32
        assert np.isfinite(result.sensor).all()
        assert result.mask.dtype == bool and np.array_equal(result.mask, missing[kept])
        ratio = missing.mean(axis=(1, 2))
        np.testing.assert_allclose(result.missing_ratio, ratio[kept], rtol=1e-6)
        assert (ratio[kept] <= float(threshold)).all() and (ratio[kept] < 1).all()
        assert ((ratio[result.dropped_indices] > float(threshold))
                | (ratio[result.dropped_indices] == 1)).all()
        expected = z[kept] if clip is None else np.clip(z[kept], -clip, clip)
        observed = ~result.mask
        np.testing.assert_allclose(result.sensor[observed], expected[observed].astype(np.float32),
                                   rtol=1e-5, atol=1e-6)
        if clip is not None:
            assert np.abs(result.sensor).max(initial=0) <= clip * (1 + 1e-6)

    run_case(
        "fuzz preprocess_days (arrays)",
        lambda: preprocess_days(raw, schema=schema, missing_threshold=threshold, clip=clip,
                                off_wrist=off_wrist),
        (DataError, ConfigError), check, fields=("raw", "missing_threshold", "clip", "off_wrist"),
    )


@st.composite
def frames(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = pd.Timestamp("2024-03-09 20:00") + pd.Timedelta(minutes=draw(st.integers(0, 600)))
    n = draw(st.integers(0, 400))
    span_minutes = draw(st.sampled_from([30, 1440, 3 * 1440, 3 * 1440, 400 * 1440,
                                         50 * 365 * 1440]))
    offsets = np.sort(rng.integers(0, span_minutes * 60, size=n))
    index = pd.DatetimeIndex(start + pd.to_timedelta(offsets, unit="s"))
    disorder = draw(st.sampled_from(["none", "none", "none", "shuffled", "duplicated", "nat",
                                     "tz", "tz"]))
    if disorder == "shuffled" and n > 1:
        index = index[rng.permutation(n)]
    elif disorder == "duplicated" and n > 1:
        index = index.insert(0, index[-1])
    elif disorder == "nat" and n:
        index = index.insert(0, pd.NaT)
    elif disorder == "tz":
        index = index.tz_localize("Europe/Paris", nonexistent="shift_forward",
                                  ambiguous="NaT").dropna() if n else index
    values = rng.normal(70, 20, size=(len(index), 2))
    special = rng.random(values.shape) < draw(st.sampled_from([0.0, 0.1, 0.5]))
    values[special] = rng.choice(np.array(SPECIALS), size=int(special.sum()))
    frame = pd.DataFrame({"HR": values[:, 0], "steps": np.abs(values[:, 1])}, index=index)
    column = draw(st.sampled_from(["ok"] * 6 + ["missing", "text", "bool"]))
    if column == "missing":
        frame = frame.drop(columns=["steps"])
    elif column == "text":
        frame["steps"] = "many"
    elif column == "bool":
        frame["HR"] = frame["HR"] > 70
    date = draw(st.sampled_from([None] * 4 + ["2024-03-10", datetime.date(1999, 1, 1),
                                             ["2024-03-10", "2024-03-11", "2071-01-01"],
                                             ["2024-03-10", "2024-03-10"], "not a date", []]))
    return frame, date, draw(st.sampled_from([True, True, False]))


@settings(max_examples=200, **SETTINGS)
@given(frames())
def test_fuzz_preprocess_dataframe(case):
    frame, date, sort = case
    schema = ChannelSchema.default().select(["HR", "steps"])

    def check(output):
        result, days = output
        kept = result.kept_indices
        assert len(days) == len(kept) + len(result.dropped_indices) <= 366
        assert result.sensor.shape == (len(kept), T, 2) and np.isfinite(result.sensor).all()
        assert result.mask.shape == result.sensor.shape and result.mask.dtype == bool
        assert list(result.dates) == [days[i] for i in kept]
        np.testing.assert_allclose(result.missing_ratio, result.mask.mean(axis=(1, 2)), rtol=1e-6)

    run_case(
        "fuzz preprocess_dataframe (DataFrames)",
        lambda: preprocess_dataframe(frame, schema=schema, date=date, sort=sort),
        (DataError, ConfigError), check, fields=("df", "date", "off_wrist", "raw"),
    )
