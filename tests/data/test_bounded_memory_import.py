"""Large imports in bounded memory: `SpillFile` and `DiskDayArray` behind `read_minute_tables`
(``spill_dir``) and `sensorlm data build`.

References: NumPy indexing of the same array, the in-memory import of the same file, NumPy's
mean and standard deviation, and tracemalloc's peak for files of two sizes.
"""

import gc
import os
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras import cli
from sensorlm_keras.data import Channel, ChannelSchema, WearableDays
from sensorlm_keras.data.channel import CUSTOM_FAMILY
from sensorlm_keras.data.disk_day_array import DiskDayArray
from sensorlm_keras.data.importers import read_minute_tables
from sensorlm_keras.data.importers.spill_file import SpillFile
from sensorlm_keras.data.train_split_normalization import train_split_schema
from sensorlm_keras.errors import DataError


def _disk_copy(values, directory):
    appender = DiskDayArray.appender(directory, values.shape[1], values.shape[2])
    for begin in range(0, len(values), 3):  # appended in blocks, as importers do
        appender.append(values[begin:begin + 3])
    return appender.finish()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), data=st.data())
def test_disk_day_array_indexes_like_numpy(tmp_path_factory, n, data):
    values = np.random.default_rng(n).normal(size=(n, 6, 3)).astype(np.float32)
    disk = _disk_copy(values, tmp_path_factory.mktemp("days"))
    rows = data.draw(st.one_of(
        st.integers(-n, n - 1),
        st.lists(st.integers(0, n - 1), max_size=12).map(lambda r: np.array(r, np.int64)),
        st.builds(slice, st.none() | st.integers(-n, n), st.none() | st.integers(-n, n),
                  st.sampled_from([None, 1, 2, -1])),
        st.lists(st.booleans(), min_size=n, max_size=n).map(lambda r: np.array(r, bool)),
    ))
    rest = data.draw(st.sampled_from([(), (slice(None), 1), (slice(1, 4),), (2, [0, 2])]))
    key = (rows,) + rest if rest else rows
    try:
        expected = values[key]
    except IndexError:  # what NumPy refuses is refused
        with pytest.raises(IndexError):
            disk[key]
        return
    got = disk[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.asarray(disk), values)
    np.testing.assert_array_equal(disk[..., 1], values[..., 1])
    assert disk.shape == values.shape and len(disk) == n and disk.dtype == np.float32


def test_disk_day_array_owns_its_file_and_checks_its_size(tmp_path):
    disk = _disk_copy(np.zeros((4, 1440, 2), np.float32), tmp_path)
    path = disk.path
    assert os.path.getsize(path) == 4 * 1440 * 2 * 4 and os.path.basename(path).startswith(".")
    days = WearableDays(raw=disk, events=[[]] * 4, person_ids=["a"] * 4, day_index=range(4),
                        activity_labels=["none"] * 4,
                        schema=ChannelSchema.default().select(["HR", "steps"]))
    assert days.raw is disk and len(days) == 4  # kept on disk, not read
    assert isinstance(days.select([1, 3]).raw, np.ndarray)
    del days, disk
    gc.collect()
    assert not os.path.exists(path)  # removed with the array
    (tmp_path / "short.f32").write_bytes(b"\0" * 12)
    with pytest.raises(DataError, match=r"DiskDayArray.path: expected a file of 16 bytes for "
                                        r"shape \(1, 2, 2\), received 12 bytes"):
        DiskDayArray(tmp_path / "short.f32", (1, 2, 2))


def test_an_unfinished_appender_leaves_no_file(tmp_path):
    appender = DiskDayArray.appender(tmp_path, 3, 1)
    appender.append(np.zeros((2, 3, 1), np.float32))
    with pytest.raises(DataError, match=r"expected days of shape \(n, 3, 1\), received"):
        appender.append(np.zeros((2, 4, 1), np.float32))
    del appender
    gc.collect()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("on_disk", [True, False])
def test_spill_file_gives_back_what_was_put(tmp_path, on_disk):
    spill = SpillFile(tmp_path if on_disk else None)
    a = (np.arange(5, dtype=np.int64), np.full((5, 2), np.nan, np.float32))
    b = (np.ones((3, 3)), np.zeros(0, np.int32), np.array([7], np.int32))
    key_a, key_b = spill.put(*a), spill.put(*b)
    for key, arrays in ((key_b, b), (key_a, a), (key_b, b)):
        got = spill.get(key)
        assert len(got) == len(arrays)
        for g, x in zip(got, arrays):
            assert g.dtype == x.dtype
            np.testing.assert_array_equal(g, x)
    assert spill.on_disk == on_disk and len(os.listdir(tmp_path)) == int(on_disk)
    spill.close()
    assert os.listdir(tmp_path) == []


def _minutes(person, start, minutes, seed, freq="min"):
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(start, periods=minutes, freq=freq)
    return pd.DataFrame({
        "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "person": person,
        "HR": np.where(rng.random(minutes) < 0.1, np.nan,
                       np.round(60 + 5 * rng.standard_normal(minutes), 1)),
        "steps": rng.integers(0, 20, minutes).astype(float),
    })


@pytest.mark.parametrize("samples, freq", [(False, "min"), (True, "7s")])
def test_a_spilled_import_equals_the_in_memory_one(tmp_path, samples, freq):
    """Several people, small chunks (a person spread over many chunks and files): the days read
    back from the spill are the in-memory import's, to the bit for minute rows and to float32
    rounding for samples (the minute sums are merged across chunks)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for p in range(3):
        frame = _minutes(f"p{p}", "2024-05-01 05:00", 2500, p, freq)
        frame.iloc[:1200].to_csv(folder / f"a{p}.csv", index=False)
        frame.iloc[1200:].to_csv(folder / f"b{p}.csv", index=False)
    memory, summary = read_minute_tables(folder, samples=samples, chunk_rows=100_000)
    disk, disk_summary = read_minute_tables(folder, samples=samples, chunk_rows=97,
                                            spill_dir=tmp_path / "spill")
    assert isinstance(disk.raw, DiskDayArray) and isinstance(memory.raw, np.ndarray)
    assert summary == disk_summary
    assert list(disk.person_ids) == list(memory.person_ids)
    assert list(disk.info["date"]) == list(memory.info["date"])
    np.testing.assert_allclose(np.asarray(disk.raw), memory.raw, rtol=1e-6, equal_nan=True)
    if not samples:
        np.testing.assert_array_equal(np.asarray(disk.raw), memory.raw)
    # what was kept while reading is gone; only the days' file is left, until they are
    assert [n.startswith(".days-") for n in os.listdir(tmp_path / "spill")] == [True]
    del disk
    gc.collect()
    assert os.listdir(tmp_path / "spill") == []


def test_duplicates_across_files_are_found_in_the_spill(tmp_path):
    """Only parts whose times overlap another file's are read back for the check; a duplicate
    minute there is named with both lines, files that follow each other pass."""
    folder = tmp_path / "in"
    folder.mkdir()
    frame = _minutes("p1", "2024-05-01 00:00", 600, 0)
    frame.iloc[:300].to_csv(folder / "a.csv", index=False)
    frame.iloc[300:].to_csv(folder / "b.csv", index=False)
    days, _ = read_minute_tables(folder, chunk_rows=50, spill_dir=tmp_path / "spill")
    assert len(days) == 1
    frame.iloc[250:400].to_csv(folder / "b.csv", index=False)  # minutes 250-299 twice
    with pytest.raises(DataError, match=r"b.csv line 2: duplicated minute 2024-05-01 04:10 "
                                        r"\(also on a.csv line 252\)"):
        read_minute_tables(folder, chunk_rows=50, spill_dir=tmp_path / "spill")


def test_train_split_constants_read_in_blocks_match_numpy(tmp_path):
    """The custom channel's mean and std, merged block by block from a file, equal NumPy's over
    the train rows' finite values; rows outside the train split (a planted offset) are unread."""
    rng = np.random.default_rng(3)
    raw = rng.normal(1013.0, 4.0, (150, 60, 2)).astype(np.float32)
    raw[rng.random(raw.shape) < 0.3] = np.nan
    train = np.arange(0, 150, 2)
    raw[1::2] += 500.0  # the other rows: far away
    schema = ChannelSchema([Channel("HR", 70.0, 12.0, "heart"),
                            Channel("baro", 0.0, 1.0, CUSTOM_FAMILY)])
    disk = _disk_copy(raw, tmp_path)
    _, normalization = train_split_schema(disk, schema, train)
    values = raw[train][..., 1].astype(np.float64)
    values = values[np.isfinite(values)]
    assert normalization["baro"]["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert normalization["baro"]["std"] == pytest.approx(values.std(), rel=1e-9)
    assert normalization["HR"] == {"mean": 70.0, "std": 12.0, "source": "schema"}


def _peak_of_import(path, spill_dir):
    gc.collect()
    tracemalloc.start()
    try:
        days, _ = read_minute_tables(path, chunk_rows=1000, spill_dir=spill_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, len(days)


def test_import_memory_does_not_grow_with_the_file(tmp_path):
    """2 and 16 people of 3 days each (8x the rows): with a spill directory the import's peak of
    NumPy and Python allocations (tracemalloc) stays within 1.5x (it holds a chunk of rows and
    one person's minutes), in memory it grows with the file (the reference: the days
    themselves, 8x)."""
    sizes = {}
    for people in (2, 16):
        path = tmp_path / f"m{people}.csv"
        pd.concat([_minutes(f"p{p}", "2024-05-01 00:00", 3 * 1440, p)
                   for p in range(people)]).to_csv(path, index=False)
        sizes[people] = (_peak_of_import(path, tmp_path / "spill"), _peak_of_import(path, None))
    (small_disk, n_small), (small_memory, _) = sizes[2]
    (large_disk, n_large), (large_memory, _) = sizes[16]
    assert (n_small, n_large) == (6, 48)
    assert large_memory > 3 * small_memory  # the reference grows
    assert large_disk < 1.5 * small_disk, (small_disk, large_disk)


def _peak(read):
    gc.collect()
    tracemalloc.start()
    try:
        days, _ = read()
        return tracemalloc.get_traced_memory()[1], np.asarray(days.raw)
    finally:
        tracemalloc.stop()


def _apple_export(folder, days):
    from tests.data.test_apple_health_import import HR, _export, _record

    folder.mkdir()
    return _export(folder, [_record(HR, 60 + k % 50, day * 86400 + 8 * 3600 + k)
                            for day in range(days) for k in range(3600)])


def _fitbit_export(folder, days):
    from tests.data.test_fitbit_takeout_import import _heart_rate, _takeout

    files = {}
    for day in range(days):
        date = pd.Timestamp("2024-05-01") + pd.Timedelta(days=day)
        t = date + pd.Timedelta(hours=12) + pd.to_timedelta(np.arange(3 * 3600), unit="s")
        files[f"heart_rate-{date.date()}.json"] = _heart_rate(t, 60 + np.arange(t.size) % 50)
    return _takeout(folder, files), 3 * 3600


@pytest.mark.parametrize("export", ["apple-health", "fitbit"])
def test_export_memory_does_not_grow_with_its_samples(tmp_path, monkeypatch, export):
    """1 and 8 days of 1 Hz heart rate, in blocks of a day: with a spill directory the peak of
    NumPy and Python allocations grows by under a quarter of what the samples kept in memory
    add (that reference growth: at least 14 bytes a sample), and the days are the same."""
    from sensorlm_keras.data.importers import apple_health, channel_minutes
    from sensorlm_keras.data.importers import read_apple_health, read_fitbit_takeout

    monkeypatch.setattr(channel_minutes, "BLOCK_MINUTES", 1440)
    monkeypatch.setattr(apple_health, "_READ_BYTES", 64 << 10)
    peaks = {}
    for days in (1, 8):
        folder = tmp_path / f"{export}{days}"
        if export == "apple-health":
            path, per_day = _apple_export(folder, days), 3600

            def read(spill, path=path):
                return read_apple_health(path, chunk_records=500, spill_dir=spill)
        else:
            path, per_day = _fitbit_export(folder, days)

            def read(spill, path=path):
                return read_fitbit_takeout(path, spill_dir=spill)
        (disk, on_disk), (memory, in_memory) = read_peak = (_peak(lambda: read(folder / "s")),
                                                            _peak(lambda: read(None)))
        np.testing.assert_array_equal(on_disk, in_memory)
        assert on_disk.shape[0] == days
        assert np.isfinite(on_disk[..., 0]).sum() == days * per_day // 60
        peaks[days] = (disk, memory, per_day)
        del read_peak
    grown_disk = peaks[8][0] - peaks[1][0]
    grown_memory = peaks[8][1] - peaks[1][1]
    assert grown_memory > 14 * 7 * peaks[1][2], peaks  # the reference grows with the samples
    assert grown_disk < 0.25 * grown_memory, peaks


def test_cli_build_leaves_nothing_of_its_temporary_files(tmp_path, capsys):
    frame = pd.concat([_minutes(f"p{p}", "2024-05-01 00:00", 1440, p) for p in range(4)])
    frame.to_csv(tmp_path / "m.csv", index=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for extra in ([], ["--temp-dir", str(scratch)]):
        out = tmp_path / f"ds{len(extra)}"
        assert cli.main(["data", "build", "--input", str(tmp_path / "m.csv"), "--out", str(out),
                         "--salt", "s", "--no-progress", *extra]) == 0
        assert sorted(os.listdir(out)) == ["test", "train", "validation"]
    assert os.listdir(scratch) == []
    assert cli.main(["data", "build", "--input", str(tmp_path / "m.csv"), "--format",
                     "windows", "--out", str(tmp_path / "w"), "--temp-dir", str(scratch)]) == 2
    assert "--temp-dir: does not apply to --format windows" in capsys.readouterr().err
