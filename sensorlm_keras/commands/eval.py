"""``sensorlm eval``: evaluate a trained run (retrieval, zero-shot, linear probe) and write a
report with figures."""

import argparse
import os
import sys

from sensorlm_keras.errors import ConfigError, DataError

_EPILOG = """\
examples:
  sensorlm eval --run runs/tiny --data data/synth
      evaluate on data/synth/test; the linear probe trains on data/synth/train
  sensorlm eval --run runs/tiny --data data/synth/test --out eval/tiny --seeds 3
  sensorlm eval --run runs/tiny --data data/synth --classes run walk bike yoga --k-shots 1 5 all
  sensorlm eval --run runs/tiny --data days.npz --no-random-baseline

data:
  a dataset root (its test split is used, see --split), a split directory with manifest.json,
  a *.tfrecord[.gz] shard or glob, or an .npz file with 'sensor' (N,1440,C z-scores) and
  optional 'labels', 'captions', 'person_ids', 'channel_names'.

labels are the longest logged activity of each day; days without an activity ('none') are
left out of zero-shot and probe unless --include-none. Writes <out>/report.json and PNGs
(confusion_matrix, similarity_heatmap, recall_at_k, example_day).
"""


def add_parser(subparsers):
    """Register ``sensorlm eval``."""
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a trained run: retrieval, zero-shot, linear probe, report + plots",
        description="Evaluate a trained SensorLM run on a test set:\n"
        "  - sensor<->text retrieval (recall@1/5/10, median rank),\n"
        "  - zero-shot activity recognition from prompt templates (accuracy, macro-F1,\n"
        "    one-vs-rest AUROC, confusion matrix),\n"
        "  - few-shot linear probes (k examples per class, repeated over seeds) on frozen\n"
        "    sensor embeddings, against a randomly initialised encoder.\n"
        "Writes report.json and PNG figures, and prints a summary.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--run",
        required=True,
        metavar="RUN_DIR",
        help="run directory (model.keras, tokenizer/, run_config.json)",
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="DATA",
        help="dataset root, split directory, shard/glob or .npz file",
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output directory (default RUN_DIR/eval)"
    )
    parser.add_argument(
        "--split", default="test", help="split of a dataset root to evaluate (default test)"
    )
    parser.add_argument(
        "--classes",
        nargs="+",
        default=None,
        metavar="CLASS",
        help="class names for zero-shot and probe (default: labels in the data); "
        "quote names with spaces, e.g. 'strength training'",
    )
    parser.add_argument(
        "--include-none",
        action="store_true",
        help="keep days without a logged activity as a class 'none'",
    )
    parser.add_argument(
        "--k-shots",
        nargs="+",
        default=["1", "5", "10", "all"],
        metavar="K",
        help="examples per class for the linear probe (default 1 5 10 all)",
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="repetitions per k of the linear probe (default 5)"
    )
    parser.add_argument(
        "--probe-data",
        default=None,
        metavar="DATA",
        help="training days of the linear probe (default: the train split next "
        "to the evaluated split, else a by-person half of the evaluated days)",
    )
    parser.add_argument(
        "--probe-limit",
        type=int,
        default=1000,
        help="read at most this many probe-training days (default 1000)",
    )
    parser.add_argument(
        "--no-random-baseline",
        action="store_true",
        help="skip the random-init encoder baseline of the linear probe",
    )
    parser.add_argument(
        "--variant",
        default=None,
        help="reference caption variant (default: the run's training variant)",
    )
    parser.add_argument("--limit", type=int, default=None, help="evaluate at most this many days")
    parser.add_argument(
        "--batch-size", type=int, default=64, help="encoder batch size (default 64)"
    )
    parser.add_argument("--no-plots", action="store_true", help="do not write PNG figures")
    parser.add_argument(
        "--no-progress", action="store_true", help="hide progress messages and bars"
    )
    parser.set_defaults(func=run_eval)


def _check_paths(args):
    if not os.path.isdir(args.run):
        raise ConfigError(f"--run: the run directory {args.run!r} does not exist.")
    for name in ("model.keras", "run_config.json"):
        if not os.path.exists(os.path.join(args.run, name)):
            raise ConfigError(
                f"--run: {args.run!r} is not a SensorLM run directory ({name} is missing)."
            )
    for flag, path in (("--data", args.data), ("--probe-data", args.probe_data)):
        if path is None:
            continue
        if not os.path.exists(path) and not _glob_matches(path):
            raise DataError(f"{flag}: the path {path!r} does not exist.")
        if os.path.exists(path) and not os.access(path, os.R_OK):
            raise DataError(f"{flag}: the path {path!r} is not readable.")
    if args.out is not None and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ConfigError(f"--out: {args.out!r} exists and is not a directory.")


def _glob_matches(path):
    import glob

    return any(c in path for c in "*?[") and bool(glob.glob(path))


def run_eval(args):
    for name in ("seeds", "batch_size", "probe_limit"):
        value = getattr(args, name)
        if value < 1:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag}: expected a positive integer, received {value}.")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit: expected a positive integer, received {args.limit}.")
    _check_paths(args)

    from sensorlm_keras.evaluation import evaluate_run, format_summary
    from sensorlm_keras.evaluation.linear_probe import check_k_shots

    try:
        k_shots = check_k_shots(args.k_shots)
    except ValueError as error:
        raise ConfigError(f"--k-shots: {error}") from None
    report = evaluate_run(
        args.run,
        args.data,
        out_dir=args.out,
        classes=args.classes,
        k_shots=k_shots,
        seeds=args.seeds,
        include_none=args.include_none,
        probe_data=args.probe_data,
        probe_limit=args.probe_limit,
        random_baseline=not args.no_random_baseline,
        caption_variant=args.variant,
        split=args.split,
        limit=args.limit,
        batch_size=args.batch_size,
        plots=not args.no_plots,
        progress=not args.no_progress,
    )
    sys.stderr.flush()
    print(format_summary(report))
    return 0
