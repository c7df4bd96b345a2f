"""Fuzz `read_minute_tables` with CSV text: any file either imports to days whose every value is
the value on its minute's row (a NumPy reference), or is refused with a `DataError` that names
the file."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensorlm_keras.data.importers import read_minute_tables
from sensorlm_keras.errors import ConfigError, DataError
from tests.reliability.fuzz_counts import run_case

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.generate))
GARBAGE = ["", "nan", "NaN", "abc", "1e400", "-5", "4000", "70", "70.5", " 71 ", "0x10", "∞"]
STAMP_GARBAGE = ["", "2024-13-01 00:00", "yesterday", "2024-05-01T00:00:00+02:00",
                 "2024-05-01 00:00", "1970-01-01 00:00", "2999-01-01 00:00"]


@st.composite
def tables(draw):
    """``(csv text, expected)``: a table of 1-3 people over 1-3 days, possibly damaged;
    ``expected`` maps (person, minute since the person's first midnight) -> (HR, steps) rows for
    an undamaged table (None when damaged)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    people = [f"p{i}" for i in range(draw(st.integers(1, 3)))]
    rows, expected = [], {}
    for person in people:
        first = pd.Timestamp("2024-05-01") + pd.Timedelta(days=int(rng.integers(0, 3)))
        count = int(rng.integers(1, 60))
        minutes = np.sort(rng.choice(3 * 1440, size=count, replace=False))
        hr = np.round(rng.uniform(40, 180, count), 1)
        steps = np.round(rng.uniform(0, 200, count))
        for m, h, s in zip(minutes, hr, steps):
            stamp = (first + pd.Timedelta(minutes=int(m))).strftime("%Y-%m-%d %H:%M:%S")
            rows.append([stamp, person, repr(float(h)), repr(float(s))])
            # day_index 0 is the person's first day with data
            expected[(person, int(m) - int(minutes[0]) // 1440 * 1440)] = (h, s)
    if draw(st.booleans()):  # interleave the people's rows (each person's order is kept)
        order = np.argsort(rng.random(len(rows)), kind="stable")
        by_person = {p: [r for r in rows if r[1] == p] for p in people}
        rows = [by_person[rows[i][1]].pop(0) for i in order]
    damage = draw(st.sampled_from(["none"] * 4 + ["value", "stamp", "swap", "duplicate",
                                                  "person", "extra_field"]))
    if damage == "value":
        rows[int(rng.integers(len(rows)))][2] = draw(st.sampled_from(GARBAGE))
    elif damage == "stamp":
        rows[int(rng.integers(len(rows)))][0] = draw(st.sampled_from(STAMP_GARBAGE))
    elif damage == "swap" and len(rows) > 1:
        i = int(rng.integers(len(rows) - 1))
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
    elif damage == "duplicate":
        rows.insert(int(rng.integers(len(rows))), list(rows[int(rng.integers(len(rows)))]))
    elif damage == "person":
        rows[int(rng.integers(len(rows)))][1] = ""
    elif damage == "extra_field":
        rows[int(rng.integers(len(rows)))].append("9")
    text = "timestamp,person,HR,steps\n" + "".join(",".join(r) + "\n" for r in rows)
    return text, (expected if damage == "none" else None), draw(st.sampled_from([1, 7, 10_000]))


@settings(max_examples=120, **SETTINGS)
@given(tables())
def test_fuzz_read_minute_tables(tmp_path_factory, case):
    text, expected, chunk_rows = case
    path = tmp_path_factory.mktemp("fuzz") / "table.csv"
    path.write_text(text)

    def check(output):
        days, summary = output
        assert days.raw.shape[1:] == (1440, 2) and days.raw.dtype == np.float32
        if expected is None:  # a damage the importer may accept (e.g. a swap of two people)
            return
        got = {}
        for i in range(len(days)):
            person, d = str(days.person_ids[i]), int(days.day_index[i])
            for m in np.flatnonzero(np.isfinite(days.raw[i]).any(axis=1)):
                got[(person, d * 1440 + int(m))] = tuple(days.raw[i, m])
        assert set(got) == set(expected)
        for key, (hr, steps) in expected.items():
            np.testing.assert_allclose(got[key], (hr, steps), rtol=1e-6)
        assert summary["rows"] == len(expected)

    run_case(
        "fuzz read_minute_tables (CSV text)",
        lambda: read_minute_tables(path, chunk_rows=chunk_rows),
        (DataError, ConfigError), check, fields=("table.csv", "person"),
    )
