"""``sensorlm caption``: generate captions for held-out days with a CoCa run and score them."""

import argparse
import os
import re
import sys

from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.utils.validation import check_float, check_int, check_positive_int

_EPILOG = """\
examples:
  sensorlm train --smoke --preset sensorlm_coca_tiny --run-dir runs/coca
  sensorlm caption --model runs/coca --data data/synth --limit 50
  sensorlm caption --model runs/coca --data synth:20 --strategy beam --num-beams 4
  sensorlm caption --model model.keras --tokenizer runs/coca/tokenizer --data days.npz \\
      --strategy top_p --top-p 0.9 --seed 1 --out captions.json

model:
  a run directory written by `sensorlm train` with a sensorlm_coca_* preset (model.keras,
  tokenizer/, run_config.json), or a .keras file of a SensorLMCoCa plus --tokenizer.

data:
  a dataset root (its test split is used, see --split), a split directory with manifest.json,
  a *.tfrecord[.gz] shard or glob, an .npz file with 'sensor' and 'captions', or synth:N for
  N freshly simulated days (one per simulated person, seeded by --seed).

The JSON report holds BLEU-4 (corpus), ROUGE-L (F), the factual-check accuracies of the
generated captions (and of the reference captions, for comparison), sample pairs and every
generated caption. Generation runs in Python (greedy / beam / top-p with a key/value cache).
"""


def add_parser(subparsers):
    """Register ``sensorlm caption``."""
    parser = subparsers.add_parser(
        "caption",
        help="generate captions for held-out days (CoCa run) and score them: BLEU-4, "
        "ROUGE-L, factual checks",
        description="Generate a caption for each held-out day with a SensorLMCoCa model and "
        "compare it with the day's reference caption (BLEU-4, ROUGE-L) and with the day "
        "itself (stated sleep and activity intervals, durations, activity names, mean heart "
        "rate). Writes a JSON report and prints a summary.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, metavar="RUN_OR_KERAS",
                        help="run directory, or a .keras file (then --tokenizer is needed)")
    parser.add_argument("--data", required=True, metavar="DATA",
                        help="dataset root, split directory, shard/glob, .npz file or synth:N")
    parser.add_argument("--tokenizer", default=None, metavar="DIR",
                        help="tokenizer directory (default: the run's tokenizer/)")
    parser.add_argument("--strategy", default="greedy", choices=("greedy", "beam", "top_p"),
                        help="decoding strategy (default greedy)")
    parser.add_argument("--max-length", type=int, default=None, metavar="N",
                        help="generated tokens at most (default: the run's text length)")
    parser.add_argument("--num-beams", type=int, default=4, help="beams for --strategy beam")
    parser.add_argument("--top-p", type=float, default=0.9,
                        help="nucleus mass for --strategy top_p (default 0.9)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of top_p sampling and of synth:N days (default 0)")
    parser.add_argument("--split", default="test",
                        help="split of a dataset root to caption (default test)")
    parser.add_argument("--variant", default=None,
                        help="reference caption variant (default: the run's training variant)")
    parser.add_argument("--limit", type=int, default=None, help="caption at most this many days")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="days decoded together (default 16)")
    parser.add_argument("--samples", type=int, default=5,
                        help="generated/reference pairs in the report and summary (default 5)")
    parser.add_argument("--out", default=None, metavar="REPORT_JSON",
                        help="report path (default RUN_DIR/caption_report.json, or "
                        "caption_report.json for a .keras file)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_caption)


def _load_model(args):
    """(model, tokenizer, schema, caption_variant, default_out) from --model / --tokenizer."""
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.tokenizers import SensorLMTokenizer

    path = args.model
    if os.path.isdir(path):
        from sensorlm_keras.runs.run_artifacts import load_run

        run = load_run(path)
        tokenizer = run.tokenizer
        if args.tokenizer:
            tokenizer = SensorLMTokenizer.load(args.tokenizer,
                                               text_length=run.text_length)
        variant = run.config.get("caption_variant", "high_summary")
        return run.model, tokenizer, run.schema, variant, os.path.join(path,
                                                                       "caption_report.json")
    if os.path.isfile(path) and path.endswith(".keras"):
        from sensorlm_keras.runs import load_keras_model_safely

        if not args.tokenizer:
            raise ConfigError("--tokenizer: required when --model is a .keras file.")
        try:
            model = load_keras_model_safely(path)
        except ConfigError as error:
            raise ConfigError(f"--model: {error}") from error
        tokenizer = SensorLMTokenizer.load(args.tokenizer)
        return model, tokenizer, ChannelSchema.default(), "high_summary", "caption_report.json"
    raise ConfigError(
        f"--model: expected a run directory or a .keras file, received {path!r} (not found)."
    )


def _resolve_data(args, schema):
    match = re.fullmatch(r"synth:(\d+)", args.data)
    if match:
        from sensorlm_keras.data import SyntheticDayGenerator

        n = int(match.group(1))
        if n < 1:
            raise DataError(f"--data: synth:N needs N >= 1, received {args.data!r}.")
        return SyntheticDayGenerator(schema).generate(num_people=n, days_per_person=1,
                                                      seed=args.seed)
    if not os.path.exists(args.data) and not any(c in args.data for c in "*?["):
        raise DataError(f"--data: the path {args.data!r} does not exist.")
    return args.data


def run_caption(args):
    for name in ("num_beams", "batch_size", "limit", "max_length"):
        if getattr(args, name) is not None:  # --limit and --max-length default to None
            check_positive_int(getattr(args, name), "--" + name.replace("_", "-"))
    check_int(args.samples, "--samples", minimum=0)
    check_float(args.top_p, "--top-p", minimum=0.0, maximum=1.0, exclusive_minimum=True)
    if args.out is not None and os.path.isdir(args.out):
        raise ConfigError(f"--out: {args.out!r} is a directory; give a .json file path.")

    model, tokenizer, schema, variant, default_out = _load_model(args)
    from sensorlm_keras.models.sensorlm_coca import SensorLMCoCa

    if not isinstance(model, SensorLMCoCa):
        raise ConfigError(
            f"--model: {args.model!r} holds a {type(model).__name__} without a captioning "
            "decoder; train a sensorlm_coca_* preset (e.g. sensorlm train --preset "
            "sensorlm_coca_tiny)."
        )
    data = _resolve_data(args, schema)
    from sensorlm_keras.evaluation.captioning import evaluate_captions, format_caption_summary
    from sensorlm_keras.evaluation.report import write_json_atomic

    report = evaluate_captions(
        model, data, tokenizer, schema=schema, strategy=args.strategy,
        max_length=args.max_length, num_beams=args.num_beams, top_p=args.top_p,
        seed=args.seed, batch_size=args.batch_size, limit=args.limit,
        caption_variant=args.variant or variant, split=args.split, num_samples=args.samples,
        progress=not args.no_progress,
    )
    report["model"] = os.path.abspath(args.model)
    out = args.out or default_out
    write_json_atomic(out, report)  # creates the parent directory
    sys.stderr.flush()
    print(format_caption_summary(report, samples=min(3, args.samples)))
    print(f"report: {out}")
    return 0
