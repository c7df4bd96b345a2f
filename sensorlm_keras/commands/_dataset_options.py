"""Options shared by the ``sensorlm data`` sub-commands that write a TFRecord dataset
(``synth`` and ``build``): shards, salt, compression, splits, missing threshold, overwrite,
progress; and how their results are printed."""

import os
import secrets
import sys

from sensorlm_keras.errors import ConfigError


def add_dataset_write_options(parser, seed_help,
                              missing_help="drop days whose missing fraction exceeds this "
                              "(default 0.8)"):
    """Add ``--out --shards --seed --salt --compression --splits --missing-threshold
    --overwrite --no-progress`` to ``parser`` (``--missing-threshold`` without a default:
    the command resolves it, ``missing_help`` says how)."""
    parser.add_argument("--out", required=True,
                        help="output directory (one sub-directory per split)")
    parser.add_argument("--shards", type=int, default=1, help="shards per split (default 1)")
    parser.add_argument("--seed", type=int, default=0, help=seed_help)
    parser.add_argument("--salt", default=None,
                        help="salt for person-id pseudonyms (default $SENSORLM_SALT)")
    parser.add_argument("--compression", choices=("gzip", "none"), default="gzip",
                        help="shard compression (default gzip)")
    parser.add_argument("--splits", default="0.8,0.1,0.1",
                        help="train,validation,test fractions by person (default 0.8,0.1,0.1)")
    parser.add_argument("--missing-threshold", type=float, default=None, help=missing_help)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def parse_fractions(text):
    """``{"train": .., "validation": .., "test": ..}`` from ``--splits``."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3:
        raise ConfigError(
            f"--splits: expected three comma-separated fractions train,validation,test, "
            f"received {text!r}."
        )
    return dict(zip(("train", "validation", "test"), values))


def resolve_salt(salt):
    """``(salt, source)``: ``--salt``, else ``$SENSORLM_SALT``, else a random one (with a note)."""
    from sensorlm_keras.data.pseudonym import SALT_ENV_VAR

    if salt:
        return salt, "argument"
    salt = os.environ.get(SALT_ENV_VAR)
    if salt:
        return salt, "environment"
    print(
        f"note: no --salt or ${SALT_ENV_VAR}; using a random salt (pseudonyms are not "
        "reproducible across runs).",
        file=sys.stderr,
    )
    return secrets.token_hex(16), "random"


def write_options(args):
    """The `build_tfrecord_dataset` keyword arguments of the shared options (``salt`` and
    ``extra`` aside)."""
    return {
        "num_shards": args.shards,
        "compression": None if args.compression == "none" else "GZIP",
        "fractions": parse_fractions(args.splits),
        "split_method": "rank",
        "missing_threshold": 0.8 if args.missing_threshold is None else args.missing_threshold,
        "seed": args.seed,
        "progress": not args.no_progress,
        "overwrite": args.overwrite,
    }


def print_manifests(manifests, out):
    """The channels normalised on the train split (if any), then one line per written split."""
    first = next(iter(manifests.values()), None)
    normalization = {} if first is None else first.extra.get("normalization", {})
    train_split = [n for n, v in normalization.items() if v["source"] == "train split"]
    if train_split:
        print(f"  normalised on the train split: {', '.join(train_split)}")
    for split, manifest in manifests.items():
        people = manifest.extra.get("num_people")
        people = "" if people is None else f" of {people} {'person' if people == 1 else 'people'}"
        windows = "dropped_windows" in manifest.extra
        dropped = manifest.extra.get("dropped_windows" if windows else "dropped_days", 0)
        print(
            f"{split}: {manifest.num_examples} examples{people} in {len(manifest.shards)} "
            f"shard(s), {dropped} {'window' if windows else 'day'}(s) dropped (missing > "
            f"threshold) -> {os.path.join(out, split)}"
        )
