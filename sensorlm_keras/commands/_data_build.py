"""``sensorlm data build``: a researcher's own recordings -> captioned, person-split TFRecords."""

import argparse
import os

from sensorlm_keras.commands._dataset_options import (
    add_dataset_write_options,
    print_manifests,
    resolve_salt,
    write_options,
)
from sensorlm_keras.utils.validation import check_positive_int, check_seed

FORMATS = ("minute-table", "samples")

_EPILOG = """\
input formats (--format):
  minute-table  CSV (.csv, .csv.gz) or Parquet, one row per person and minute: a timestamp
                column, a person column and one column per channel in physical units (any
                subset of the 34 channels; blank = missing). Several people per file, or a
                directory of files (without a person column, a file per person, named after
                the person). Days are local wall-clock days: a timestamp's UTC offset is
                ignored for the day cut (DST days: the skipped hour is missing, the repeated
                hour is averaged) and used for the order and duplicate checks.

  samples       the same tables with timestamped samples at any rate (1 Hz heart rate, a
                pedometer's counts every few seconds): each minute holds the mean of its
                samples, the sum for steps; timestamps only have to be distinct.

events (--events): CSV person,kind,label,start,end (kind activity|sleep|mood, end exclusive,
  empty for a mood): the days' semantic captions, and each day's longest activity is its label
  for `sensorlm eval`.

examples:
  sensorlm data build --input minutes.csv --events events.csv --out data/mine --salt s3cret
  sensorlm data build --input recordings/ --channels HR,steps --out data/mine
  sensorlm data build --input hr_1hz.parquet --format samples --out data/mine
  -> data/mine/{train,validation,test}/manifest.json + *.tfrecord.gz
"""


def add_build_parser(sub):
    """Register ``sensorlm data build``."""
    build = sub.add_parser(
        "build",
        help="import your own recordings and write captioned TFRecord shards",
        description="Read your recordings, check them row by row (errors name the file, the "
        "line and the column), cut them into local days, join logged events, preprocess, "
        "caption all eight variants and write person-split TFRecord shards with a manifest per "
        "split: the dataset format `sensorlm train --data` reads.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("--input", required=True, help="a file, or a directory of files")
    build.add_argument("--format", choices=FORMATS, default="minute-table",
                       help="input format (default minute-table)")
    build.add_argument("--events", default=None, help="event log CSV (person,kind,label,start,end)")
    build.add_argument("--channels", default=None,
                       help="comma-separated channel columns to keep (default: every column "
                       "besides timestamp and person, each of which must be a schema channel)")
    build.add_argument("--timestamp-column", default="timestamp",
                       help="timestamp column (default timestamp)")
    build.add_argument("--person-column", default="person", help="person column (default person)")
    build.add_argument("--max-days", type=int, default=366,
                       help="most calendar days one person may span (default 366)")
    build.add_argument("--chunk-rows", type=int, default=100_000,
                       help="rows read at once (default 100000)")
    add_dataset_write_options(build, "caption seed (default 0)")
    build.set_defaults(func=run_build)


def run_build(args):
    from sensorlm_keras.data.dataset_builder import build_tfrecord_dataset
    from sensorlm_keras.data.importers import read_minute_tables

    for name in ("shards", "max_days", "chunk_rows"):
        check_positive_int(getattr(args, name), f"--{name.replace('_', '-')}")
    check_seed(args.seed, "--seed")
    options = write_options(args)
    salt, salt_source = resolve_salt(args.salt)
    channels = None if args.channels is None else [
        c.strip() for c in args.channels.split(",") if c.strip()]
    days, summary = read_minute_tables(
        args.input, channels=channels, timestamp_column=args.timestamp_column,
        person_column=args.person_column, events=args.events, chunk_rows=args.chunk_rows,
        max_days=args.max_days, samples=args.format == "samples", progress=options["progress"],
    )
    _print_summary(summary)
    manifests = build_tfrecord_dataset(
        days, args.out, salt=salt,
        extra={"importer": args.format, "source": os.path.basename(os.path.normpath(args.input)),
               "salt_source": salt_source, "import_summary": summary},
        **options,
    )
    print_manifests(manifests, args.out)
    return 0


def _print_summary(summary):
    people = f"{summary['people']} {'person' if summary['people'] == 1 else 'people'}"
    days = f"{summary['days']} day{'' if summary['days'] == 1 else 's'}"
    print(f"Read {summary['rows']} rows of {people} from {summary['files']} file(s): {days} "
          f"with data, channels {', '.join(summary['channels'])}.")
    if summary["empty_days"]:
        print(f"  dropped {summary['empty_days']} calendar day(s) without a valid value "
              f"(e.g. {', '.join(summary['empty_day_examples'][:3])})")
    for channel, count in summary["implausible_values"].items():
        print(f"  dropped {count} implausible {channel} value(s) (outside the plausible range)")
    print(f"  joined {summary['events']} logged event(s)")
    if summary["events_of_unknown_people"]:
        print(f"  ignored the events of people without data: "
              f"{', '.join(summary['events_of_unknown_people'])}")
