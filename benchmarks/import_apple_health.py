"""Import of a large Apple Health ``export.xml``: records per second and peak memory, one JSON
line per implementation, each measured in a fresh process.

    python benchmarks/import_apple_health.py --days 365 --hr-per-hour 360

The export is written once into ``--workdir`` (default a temporary directory): a year (``--days``)
of heart rate from a Watch (``--hr-per-hour`` records in each of 16 waking hours, plus one every
10 minutes at night) and step intervals of a Watch and an iPhone (a record every 5 minutes from
each, overlapping), in the Health app's format.

Implementations:
- ``sensorlm``: `read_apple_health` with everything in memory (the Python default).
- ``sensorlm_disk``: the same with ``spill_dir`` (what `sensorlm data build` does): the samples
  wait on disk in blocks of 28 days (`ChannelMinutes`), the days go to a file.
- ``pandas_read_xml``: the peer a user would write: ``pd.read_xml(iterparse=...)`` of the
  Record elements (the streaming parser pandas offers for large XML), ``pd.to_datetime`` and a
  per-type minute mean / sum (no source rule, no checks, no days).

``peak_rss_gb`` is the child's peak resident memory; ``imports_rss_gb`` the same process's
resident memory after its imports, before reading.
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

IMPLEMENTATIONS = ("sensorlm", "sensorlm_disk", "pandas_read_xml")
HR = "HKQuantityTypeIdentifierHeartRate"
STEPS = "HKQuantityTypeIdentifierStepCount"
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-12-31 10:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""


def write_export(path, days, hr_per_hour):
    """The export; returns the number of records."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01")
    records = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for day in range(days):
            base = start + pd.Timedelta(days=day)
            awake = np.sort(rng.uniform(7 * 3600, 23 * 3600, 16 * hr_per_hour))
            night = np.r_[np.arange(0, 7 * 3600, 600), np.arange(23 * 3600, 86400, 600)]
            seconds = np.sort(np.r_[awake, night]).astype(int)
            stamps = (base + pd.to_timedelta(seconds, unit="s")).strftime(
                "%Y-%m-%d %H:%M:%S +0100")
            bpm = np.round(rng.normal(75, 12, seconds.size).clip(40, 190))
            lines = [f' <Record type="{HR}" sourceName="Watch" unit="count/min" '
                     f'creationDate="{s}" startDate="{s}" endDate="{s}" value="{b:g}"/>\n'
                     for s, b in zip(stamps, bpm)]
            for source, shift in (("Watch", 0), ("iPhone", 120)):
                begin = np.arange(7 * 3600 + shift, 23 * 3600, 300)
                t0 = (base + pd.to_timedelta(begin, unit="s")).strftime("%Y-%m-%d %H:%M:%S +0100")
                t1 = (base + pd.to_timedelta(begin + 240, unit="s")).strftime(
                    "%Y-%m-%d %H:%M:%S +0100")
                counts = rng.poisson(120, begin.size)
                lines += [f' <Record type="{STEPS}" sourceName="{source}" unit="count" '
                          f'creationDate="{a}" startDate="{a}" endDate="{b}" value="{c}"/>\n'
                          for a, b, c in zip(t0, t1, counts)]
            f.writelines(lines)
            records += len(lines)
        f.write("</HealthData>\n")
    return records


def _pandas_read_xml(path):
    import pandas as pd

    frame = pd.read_xml(path, iterparse={"Record": ["type", "sourceName", "unit", "startDate",
                                                    "endDate", "value"]}, parser="etree")
    frame["minute"] = pd.to_datetime(frame["startDate"], format="%Y-%m-%d %H:%M:%S %z",
                                     utc=True).dt.floor("min")
    hr = frame[frame["type"] == HR].groupby("minute")["value"].mean()
    steps = frame[frame["type"] == STEPS].groupby("minute")["value"].sum()
    return len(frame), int(hr.size + steps.size)


def child(args):
    import pandas  # noqa: F401  (imported before the baseline memory is taken)

    from sensorlm_keras.data.importers import read_apple_health

    imports_rss = common.peak_rss_gb()
    start = time.perf_counter()
    if args.impl.startswith("sensorlm"):
        spill = (os.path.join(os.path.dirname(args.xml), "spill")
                 if args.impl == "sensorlm_disk" else None)
        days, summary = read_apple_health(args.xml, spill_dir=spill)
        result = {"days": len(days), "records_read": summary["rows"]}
    else:
        rows, minutes = _pandas_read_xml(args.xml)
        result = {"records_read": rows, "minutes": minutes}
    seconds = time.perf_counter() - start
    common.emit({
        "benchmark": "import_apple_health", "impl": args.impl, "records": args.records,
        **result, "seconds": round(seconds, 2),
        "records_per_second": round(args.records / seconds),
        "peak_rss_gb": round(common.peak_rss_gb(), 3), "imports_rss_gb": round(imports_rss, 3),
    })


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--hr-per-hour", type=int, default=360)
    common.add_impl_arguments(parser, IMPLEMENTATIONS)
    parser.add_argument("--xml", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, help=argparse.SUPPRESS)
    args = common.parse_child_args(parser, argv, singles=("impl",))
    if args._single:
        return child(args)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        xml = os.path.join(tmp, "export.xml")
        start = time.perf_counter()
        records = write_export(xml, args.days, args.hr_per_hour)
        common.emit({"benchmark": "import_apple_health", "records": records,
                     "xml_bytes": os.path.getsize(xml), "days": args.days,
                     "write_seconds": round(time.perf_counter() - start, 1), **common.machine()})
        common.run_impls(__file__, "import_apple_health", args.impl,
                         ["--xml", xml, "--records", str(records)])


if __name__ == "__main__":
    main()
