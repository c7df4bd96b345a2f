"""``sensorlm data build``: a researcher's own recordings -> captioned, person-split TFRecords."""

import argparse
import os
import shutil
import tempfile

from sensorlm_keras.commands._dataset_options import (
    add_dataset_write_options,
    print_manifests,
    resolve_salt,
    write_options,
)
from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_positive_int, check_seed

FORMATS = ("minute-table", "samples", "apple-health", "fitbit", "windows")
EXPORT_FORMATS = ("apple-health", "fitbit")
SPARSE_MISSING_THRESHOLD = 0.95
"""``--missing-threshold`` of ``--format apple-health`` when not given."""

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
                samples, the sum for steps; timestamps only have to be distinct. A raw
                accelerometer stream (--accelerometer X,Y,Z, any rate) becomes per minute
                enmo (mean of max(|a| - 1 g, 0)) and vm_sd (SD of |a|), in milli-g.

  apple-health  the Health app's "Export All Health Data": export.zip, export.xml or the
                apple_health_export folder (one person: --person, default the file name).
                HeartRate -> HR, StepCount -> steps (spread over the minutes a record
                covers), OxygenSaturation x100 -> spo2, HeartRateVariabilitySDNN -> sdnn0595;
                sleep analysis -> sleep events, workouts -> activity events. Each record sits
                at its own clock reading (its UTC offset). iPhone + Watch: per channel and
                minute one source counts (most steps; for the others most samples). Days
                up to 95% empty are kept (a Watch samples heart rate every ~5 minutes).

  fitbit        a Fitbit export from Google Takeout: the Takeout folder or its
                Fitbit/Global Export Data folder (heart_rate-, steps-, sleep-, exercise-*.json,
                'Minute SpO2 - *.csv', 'Heart Rate Variability Details - *.csv'; one person:
                --person, default the folder name). Heart rate, steps, SpO2, HRV and exercise
                times are UTC and are converted to --timezone (IANA name, default the
                export's Profile.csv) for the day cut; sleep times are local already.

  windows       labelled windows of any length and channels (a HAR dataset, sleep epochs,
                stress windows) as .npz: 'sensor' (N, T, C) in physical units (NaN = missing;
                z-scores with --zscored), 'channel_names' (C,), 'person_id' (N,), optional
                'label', 'caption', 'split' (N,) strings and 'step_seconds'. Channels of the
                34-channel schema keep its normalisation, the others get the train split's
                mean and std (in the manifest and the exported model). The label is the
                semantic caption and the class of `sensorlm eval --labels label`.

events (--events): CSV person,kind,label,start,end (kind activity|sleep|mood, end exclusive,
  empty for a mood): the days' semantic captions, and each day's longest activity is its label
  for `sensorlm eval`.

examples:
  sensorlm data build --input minutes.csv --events events.csv --out data/mine --salt s3cret
  sensorlm data build --input recordings/ --channels HR,steps --out data/mine
  sensorlm data build --input hr_1hz.parquet --format samples --out data/mine
  sensorlm data build --input acc_50hz.csv --format samples --accelerometer ax,ay,az \
      --accelerometer-unit m/s2 --out data/mine
  sensorlm data build --input export.zip --format apple-health --person me --out data/mine
  sensorlm data build --input Takeout --format fitbit --timezone Europe/Berlin --out data/mine
  sensorlm data build --input har_windows.npz --format windows --out data/har
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
                       help="comma-separated channel columns to keep; a name outside the "
                       "34-channel schema (e.g. acc_x of a raw accelerometer stream) is kept as "
                       "a custom channel normalised on the train split (default: every column "
                       "besides timestamp and person, each of which must be a schema channel)")
    build.add_argument("--accelerometer", default=None, metavar="X,Y,Z",
                       help="samples: the three axis columns of a raw accelerometer stream, "
                       "kept as the minute features enmo and vm_sd (milli-g; the axes "
                       "themselves only if --channels names them)")
    build.add_argument("--accelerometer-unit", default="g", choices=("g", "mg", "m/s2"),
                       help="unit of the --accelerometer axes (default g); a stream whose "
                       "magnitude is not gravity's in that unit is refused")
    build.add_argument("--timestamp-column", default="timestamp",
                       help="timestamp column (default timestamp)")
    build.add_argument("--person-column", default="person", help="person column (default person)")
    build.add_argument("--person", default=None,
                       help="person id of an apple-health or fitbit export (default: the "
                       "input's file or folder name)")
    build.add_argument("--timezone", default=None,
                       help="fitbit: the wearer's IANA time zone, e.g. Europe/Berlin (default: "
                       "the export's Profile.csv)")
    build.add_argument("--max-days", type=int, default=None,
                       help="most calendar days one person may span (default 366; 3660 for "
                       "apple-health and fitbit)")
    build.add_argument("--zscored", action="store_true",
                       help="windows: the 'sensor' values are z-scores already")
    build.add_argument("--chunk-rows", type=int, default=100_000,
                       help="rows read at once (default 100000)")
    build.add_argument("--temp-dir", default=None,
                       help="where what is read waits, on disk, until the shards are written "
                       "(default: a hidden folder inside --out, removed at the end): memory "
                       "holds one chunk of rows, one person's minutes and 64 days, not the "
                       "input; not for --format windows)")
    add_dataset_write_options(
        build, "caption seed (default 0)",
        "drop days whose missing fraction (of minutes x channels) exceeds this (default 0.8; "
        f"{SPARSE_MISSING_THRESHOLD} for apple-health: an Apple Watch samples heart rate about "
        "every 5 minutes, so a day worn all day misses 80%% of its heart-rate minutes)")
    build.set_defaults(func=run_build)


def run_build(args):
    from sensorlm_keras.data.dataset_builder import build_tfrecord_dataset

    if args.max_days is None:
        args.max_days = 3660 if args.format in EXPORT_FORMATS else 366
    if args.missing_threshold is None and args.format == "apple-health":
        args.missing_threshold = SPARSE_MISSING_THRESHOLD
    for name in ("shards", "max_days", "chunk_rows"):
        check_positive_int(getattr(args, name), f"--{name.replace('_', '-')}")
    check_seed(args.seed, "--seed")
    for option, formats in (("person", EXPORT_FORMATS), ("timezone", ("fitbit",)),
                            ("accelerometer", ("samples",))):
        if getattr(args, option) is not None and args.format not in formats:
            raise ConfigError(f"--{option}: applies to --format {' or '.join(formats)}, "
                              f"received --format {args.format}.")
    if args.accelerometer_unit != "g" and args.accelerometer is None:
        raise ConfigError("--accelerometer-unit: applies with --accelerometer X,Y,Z, which was "
                          "not given.")
    if args.zscored and args.format != "windows":
        raise ConfigError(f"--zscored: applies to --format windows, received --format "
                          f"{args.format}.")
    options = write_options(args)
    salt, salt_source = resolve_salt(args.salt)
    if args.format == "windows":
        return _build_windows(args, options, salt, salt_source)
    created = args.temp_dir is None and not os.path.exists(args.out)
    try:
        if args.temp_dir is None:
            os.makedirs(args.out, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".sensorlm-import-",
                                         dir=args.temp_dir or args.out) as spill_dir:
            days, summary = _read(args, options["progress"], spill_dir)
            _print_summary(summary)
            manifests = build_tfrecord_dataset(
                days, args.out, salt=salt,
                extra={"importer": args.format,
                       "source": os.path.basename(os.path.normpath(args.input)),
                       "salt_source": salt_source, "import_summary": _stored_summary(summary)},
                **options,
            )
            days.raw.close()  # its file is inside spill_dir
    except BaseException:
        if created:  # the folder this call made for the import: nothing of it stays
            shutil.rmtree(args.out, ignore_errors=True)
        raise
    print_manifests(manifests, args.out)
    return 0


def _build_windows(args, options, salt, salt_source):
    from sensorlm_keras.data.labelled_windows import LabelledWindows
    from sensorlm_keras.data.window_dataset_builder import build_window_dataset

    for flag in ("events", "channels", "temp_dir"):
        if getattr(args, flag) is not None:
            raise ConfigError(f"--{flag.replace('_', '-')}: does not apply to --format windows "
                              "(labels and channels come from the .npz file, read whole).")
    windows = LabelledWindows.from_npz(args.input, zscored=args.zscored)
    labels = "no labels" if windows.labels is None else (
        f"{len(set(windows.labels))} labels")
    print(f"Read {len(windows)} windows of {windows.num_timesteps} steps x "
          f"{windows.num_channels} channels ({', '.join(windows.channel_names)}), step "
          f"{windows.step_seconds:g} s, {len(set(windows.person_ids))} people, {labels}.")
    manifests = build_window_dataset(
        windows, args.out, salt=salt,
        extra={"importer": "windows",
               "source": os.path.basename(os.path.normpath(args.input)),
               "salt_source": salt_source},
        **options,
    )
    print_manifests(manifests, args.out)
    return 0


def _read(args, progress, spill_dir):
    from sensorlm_keras.data.importers import (
        read_apple_health,
        read_fitbit_takeout,
        read_minute_tables,
    )

    channels = None if args.channels is None else [
        c.strip() for c in args.channels.split(",") if c.strip()]
    common = {"channels": channels, "events": args.events, "max_days": args.max_days,
              "progress": progress, "spill_dir": spill_dir}
    if args.format == "apple-health":
        return read_apple_health(args.input, person=args.person, **common)
    if args.format == "fitbit":
        return read_fitbit_takeout(args.input, timezone=args.timezone, person=args.person,
                                   **common)
    accelerometer = None if args.accelerometer is None else [
        c.strip() for c in args.accelerometer.split(",") if c.strip()]
    return read_minute_tables(
        args.input, timestamp_column=args.timestamp_column, person_column=args.person_column,
        chunk_rows=args.chunk_rows, samples=args.format == "samples", **common,
        accelerometer=accelerometer, accelerometer_unit=args.accelerometer_unit,
    )


def _stored_summary(summary):
    """The import summary as the manifests keep it: counts only. The examples of empty days
    and the people of unmatched events name raw person ids, which never reach the disk (the
    shards hold pseudonyms); they are printed, not stored."""
    stored = {k: v for k, v in summary.items()
              if k not in ("empty_day_examples", "events_of_unknown_people")}
    stored["events_of_unknown_people"] = len(summary.get("events_of_unknown_people", ()))
    return stored


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
    for note in summary.get("notes", []):
        print(f"  {note}")
    if summary["events_of_unknown_people"]:
        print(f"  ignored the events of people without data: "
              f"{', '.join(summary['events_of_unknown_people'])}")
