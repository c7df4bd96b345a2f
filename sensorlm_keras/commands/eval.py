"""``sensorlm eval``: evaluate a trained run (retrieval, zero-shot, linear probe) and write a
report with figures."""

import argparse
import os
import sys

from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.utils.validation import check_positive_int

_EPILOG = """\
examples:
  sensorlm eval --run runs/tiny --data data/synth
      evaluate on data/synth/test; the linear probe trains on data/synth/train
  sensorlm eval --run runs/tiny --data data/synth/test --out eval/tiny --seeds 3
  sensorlm eval --run runs/tiny --data data/synth --classes run walk bike yoga --k-shots 1 5 all
  sensorlm eval --run runs/tiny --data days.npz --no-random-baseline
  sensorlm eval --run runs/tiny --data data/mine --templates 'The user logged {}.' 'a {} session'

data:
  a dataset root (its test split is used, see --split), a split directory with manifest.json,
  a *.tfrecord[.gz] shard or glob, or an .npz file with 'sensor' (N,T,C z-scores) and
  optional 'labels', 'captions', 'person_ids', 'channel_names'.

labels (--labels): a day's longest logged activity, or an example's stored label (labelled
windows); examples labelled 'none' are left out of zero-shot and probe unless --include-none.
Datasets of labelled windows carry their own zero-shot templates (used unless --templates). Writes <out>/report.json and PNGs
(confusion_matrix, similarity_heatmap, recall_at_k, example_day).
"""


_DESCRIPTION = """\
Evaluate a trained SensorLM run on a test set:
  - sensor<->text retrieval (recall@1/5/10, median rank),
  - zero-shot activity recognition from prompt templates (accuracy, macro-F1,
    one-vs-rest AUROC, confusion matrix),
  - few-shot linear probes (k examples per class, repeated over seeds) on frozen
    sensor embeddings, against a randomly initialised encoder.
Writes report.json and PNG figures, and prints a summary."""

# (flags, add_argument keywords) of every option, in the order --help lists them
_ARGUMENTS = (
    (("--run",), dict(required=True, metavar="RUN_DIR",
                      help="run directory (model.keras, tokenizer/, run_config.json)")),
    (("--data",), dict(required=True, metavar="DATA",
                       help="dataset root, split directory, shard/glob or .npz file")),
    (("--out",), dict(default=None, metavar="DIR",
                      help="output directory (default RUN_DIR/eval)")),
    (("--split",), dict(default="test",
                        help="split of a dataset root to evaluate (default test)")),
    (("--classes",), dict(nargs="+", default=None, metavar="CLASS",
                          help="class names for zero-shot and probe (default: labels in the "
                          "data); quote names with spaces, e.g. 'strength training'")),
    (("--templates",), dict(nargs="+", default=None, metavar="TEMPLATE",
                            help="zero-shot prompt templates, each with one {} for the class "
                            "name (e.g. 'The user logged {}.'), or one .txt file with a template "
                            "a line (default: the 15 templates of the captions' phrasing)")),
    (("--labels",), dict(choices=("auto", "label", "events"), default="auto",
                         help="class of each example: 'label' = its stored label (labelled "
                         "windows, --format windows), 'events' = its longest logged activity, "
                         "'auto' (default) = the events when it has any, else the label")),
    (("--include-none",), dict(action="store_true",
                               help="keep days without a logged activity as a class 'none'")),
    (("--k-shots",), dict(nargs="+", default=["1", "5", "10", "all"], metavar="K",
                          help="examples per class for the linear probe (default 1 5 10 all)")),
    (("--seeds",), dict(type=int, default=5,
                        help="repetitions per k of the linear probe (default 5)")),
    (("--probe-data",), dict(default=None, metavar="DATA",
                             help="training days of the linear probe (default: the train split "
                             "next to the evaluated split, else a by-person half of the "
                             "evaluated days)")),
    (("--probe-limit",), dict(type=int, default=1000,
                              help="read at most this many probe-training days (default 1000)")),
    (("--no-random-baseline",), dict(action="store_true",
                                     help="skip the random-init encoder baseline of the linear "
                                     "probe")),
    (("--variant",), dict(default=None,
                          help="reference caption variant (default: the run's training "
                          "variant)")),
    (("--limit",), dict(type=int, default=None, help="evaluate at most this many days")),
    (("--batch-size",), dict(type=int, default=64, help="encoder batch size (default 64)")),
    (("--no-plots",), dict(action="store_true", help="do not write PNG figures")),
    (("--no-progress",), dict(action="store_true", help="hide progress messages and bars")),
)


def add_parser(subparsers):
    """Register ``sensorlm eval``."""
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a trained run: retrieval, zero-shot, linear probe, report + plots",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flags, options in _ARGUMENTS:
        parser.add_argument(*flags, **options)
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


def _templates(values):
    """``--templates``: the strings as given, or the lines of one ``.txt`` file; checked by
    `check_templates` (one ``{}`` each)."""
    from sensorlm_keras.evaluation.zero_shot import check_templates

    if values is None:
        return None
    if len(values) == 1 and values[0].endswith(".txt"):
        path = values[0]
        if not os.path.isfile(path):
            raise ConfigError(f"--templates: the file {path!r} does not exist.")
        with open(path, encoding="utf-8") as f:
            values = [line.strip() for line in f if line.strip()]
    return check_templates(values, "--templates")


def run_eval(args):
    for name in ("seeds", "batch_size", "probe_limit", "limit"):
        if getattr(args, name) is not None:  # --limit defaults to None (no limit)
            check_positive_int(getattr(args, name), "--" + name.replace("_", "-"))
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
        templates=_templates(args.templates),
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
        labels=args.labels,
    )
    sys.stderr.flush()
    print(format_summary(report))
    return 0
