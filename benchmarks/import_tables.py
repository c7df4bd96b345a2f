"""Import throughput of a large minute-level CSV: rows per second and peak memory, one JSON line
per implementation, each measured in a fresh process.

    python benchmarks/import_tables.py --people 20 --days 30 --channels 8

Implementations:
- ``sensorlm``: `read_minute_tables` (chunked reading, every row checked: timestamps, order,
  duplicates, numbers, plausible units; cut into local days), ``--chunk-rows`` rows at a time,
  what is kept and the days in memory (the Python default).
- ``sensorlm_disk``: the same with ``spill_dir`` (what `sensorlm data build` does): what is kept
  of each chunk and the cut days go to files, read back one person at a time; memory should not
  grow with the file.
- ``pandas_pyarrow``: the fastest plain-pandas import a user would write: the whole file in one
  ``pd.read_csv(engine="pyarrow")``, ``pd.to_datetime`` and a per-person reindex onto a minute
  grid (no checks). The peer for speed and memory.

``peak_rss_gb`` is the child's peak resident memory; ``imports_rss_gb`` the same process's
resident memory after its imports, before reading (the difference is what the import used).
The CSV is written once into ``--workdir`` (default a temporary directory) and removed after.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402
from sensorlm_keras.data.preprocessing.plausible_ranges import PLAUSIBLE_RANGES  # noqa: E402

IMPLEMENTATIONS = ("sensorlm", "sensorlm_disk", "pandas_pyarrow")
CHANNELS = ("HR", "steps", "rr_med", "sdnn0595", "rmssd0595", "wrist_temperatures", "spo2",
            "altim_std", "zero_crossing_avg", "percent_good")


def write_csv(path, people, days, channels):
    """A minute table of ``people`` x ``days`` x 1440 rows with plausible values."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    stamps = pd.date_range("2024-01-01", periods=days * 1440, freq="min")
    text = stamps.strftime("%Y-%m-%d %H:%M:%S")
    base = {"HR": 70, "steps": 5, "rr_med": 850, "sdnn0595": 40, "rmssd0595": 35,
            "wrist_temperatures": 33, "spo2": 96, "altim_std": 1, "zero_crossing_avg": 3,
            "percent_good": 0.5}
    with open(path, "w") as f:
        for p in range(people):
            frame = pd.DataFrame({"timestamp": text, "person": f"person{p:04d}"})
            for name in CHANNELS[:channels]:
                value = base[name] * (1 + 0.05 * rng.standard_normal(len(text)))
                low, high = PLAUSIBLE_RANGES.get(name, (None, None))
                frame[name] = np.round(np.clip(value, low, high), 2)
            frame.to_csv(f, index=False, header=(p == 0))
    return people * days * 1440


def _pandas_pyarrow(path):
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(path, engine="pyarrow")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    cubes = []
    for _, rows in frame.groupby("person", sort=True):
        rows = rows.set_index("timestamp").drop(columns="person")
        start, end = rows.index.min().normalize(), rows.index.max().normalize()
        grid = pd.date_range(start, end + pd.Timedelta(days=1), freq="min", inclusive="left")
        cubes.append(rows.reindex(grid).to_numpy(dtype=np.float32).reshape(-1, 1440,
                                                                           rows.shape[1]))
    return sum(c.shape[0] for c in cubes)


def child(args):
    import pandas  # noqa: F401  (imported before the baseline memory is taken)

    from sensorlm_keras.data.importers import read_minute_tables

    imports_rss = common.peak_rss_gb()
    start = time.perf_counter()
    if args.impl.startswith("sensorlm"):
        spill = (os.path.join(os.path.dirname(args.csv), "spill")
                 if args.impl == "sensorlm_disk" else None)
        days, _ = read_minute_tables(args.csv, chunk_rows=args.chunk_rows, spill_dir=spill)
        num_days = len(days)
    else:
        num_days = _pandas_pyarrow(args.csv)
    seconds = time.perf_counter() - start
    common.emit({
        "benchmark": "import_tables", "impl": args.impl, "rows": args.rows,
        "days": int(num_days), "seconds": round(seconds, 3),
        "rows_per_second": round(args.rows / seconds),
        "peak_rss_gb": round(common.peak_rss_gb(), 3), "imports_rss_gb": round(imports_rss, 3),
        "chunk_rows": args.chunk_rows if args.impl.startswith("sensorlm") else None,
    })


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--channels", type=int, default=8, choices=range(1, len(CHANNELS) + 1))
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    common.add_impl_arguments(parser, IMPLEMENTATIONS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = common.parse_child_args(parser, argv, singles=("impl",))
    if args._single:
        return child(args)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        csv = os.path.join(tmp, "minutes.csv")
        start = time.perf_counter()
        rows = write_csv(csv, args.people, args.days, args.channels)
        common.emit({"benchmark": "import_tables", "csv_rows": rows,
                     "csv_bytes": os.path.getsize(csv), "channels": args.channels,
                     "write_seconds": round(time.perf_counter() - start, 1), **common.machine()})
        common.run_impls(__file__, "import_tables", args.impl,
                         ["--csv", csv, "--rows", str(rows), "--chunk-rows",
                          str(args.chunk_rows)])


if __name__ == "__main__":
    main()
