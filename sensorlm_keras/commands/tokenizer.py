"""``sensorlm tokenizer``: train the SentencePiece caption vocabulary."""

import argparse
import os

from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.utils.validation import check_int, check_positive_int

_TRAIN_EPILOG = """\
example:
  sensorlm tokenizer train --data data/synth --vocab-size 2000 --out artifacts/tokenizer
  -> artifacts/tokenizer/tokenizer.model + tokenizer.json (load with SensorLMTokenizer.load)

--data is a dataset split directory (with manifest.json), a dataset root whose 'train' split is
used (validation/test captions are never used for the vocabulary), or a UTF-8 text file with one
text per line.
"""


def add_parser(subparsers):
    """Register ``sensorlm tokenizer`` and its sub-commands."""
    tokenizer = subparsers.add_parser(
        "tokenizer",
        help="train the caption tokenizer",
        description="Train and save the SentencePiece tokenizer of the captions.",
    )
    sub = tokenizer.add_subparsers(dest="tokenizer_command", metavar="<sub-command>", required=True)
    train = sub.add_parser(
        "train",
        help="train a SentencePiece (unigram) tokenizer on stored captions",
        description="Train a lower-cased unigram SentencePiece model (<pad>=0, </s>=1, <unk>=2) "
        "on the captions of a TFRecord dataset or a text file and save it as a "
        "SensorLMTokenizer directory.",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", required=True, help="dataset directory or text file")
    train.add_argument("--vocab-size", type=int, required=True, help="vocabulary size (pieces)")
    train.add_argument("--out", required=True, help="output directory of the tokenizer")
    train.add_argument(
        "--variants",
        default="all",
        help="comma-separated caption variants to train on, or 'all' (default)",
    )
    train.add_argument(
        "--text-length",
        "--sequence-length",
        dest="text_length",
        type=int,
        default=64,
        help="default token length saved in the config (64); --sequence-length is its old name",
    )
    train.add_argument("--max-texts", type=int, default=None, help="use at most this many texts")
    train.add_argument(
        "--allow-smaller-vocab",
        action="store_true",
        help="accept a smaller vocabulary when the corpus is too small (hard_vocab_limit=False)",
    )
    train.set_defaults(func=run_train)


def _dataset_dir(path):
    from sensorlm_keras.data.dataset_manifest import MANIFEST_FILENAME

    if os.path.isfile(os.path.join(path, MANIFEST_FILENAME)):
        return path
    train = os.path.join(path, "train")
    if os.path.isfile(os.path.join(train, MANIFEST_FILENAME)):
        return train
    raise DataError(
        f"--data: expected a dataset directory with manifest.json (or a root with train/), a "
        f"text file, received {path!r}."
    )


def _texts(path, variants):
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield line.rstrip("\n")
        return
    from sensorlm_keras.data.tfrecord import read_examples

    for example in read_examples(_dataset_dir(path), variants=variants, verify="auto"):
        for variant in variants:
            yield example["captions"][variant]


def run_train(args):
    from sensorlm_keras.data.captions import CAPTION_VARIANTS
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece

    check_int(args.vocab_size, "--vocab-size", minimum=4)
    check_positive_int(args.text_length, "--text-length")
    if args.variants == "all":
        variants = list(CAPTION_VARIANTS)
    else:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [v for v in variants if v not in CAPTION_VARIANTS]
        if unknown or not variants:
            raise ConfigError(
                f"--variants: unknown variants {unknown}; expected 'all' or names from "
                f"{list(CAPTION_VARIANTS)}."
            )
    if not os.path.exists(args.data):
        raise DataError(f"--data: {args.data!r} does not exist.")
    if os.path.isfile(args.data):
        _dataset = None
    else:
        _dataset = _dataset_dir(args.data)  # fail early with a clear message
    proto = train_sentencepiece(
        _texts(args.data, variants),
        vocabulary_size=args.vocab_size,
        hard_vocab_limit=not args.allow_smaller_vocab,
        max_sentences=args.max_texts,
    )
    tokenizer = SensorLMTokenizer(proto, text_length=args.text_length)
    tokenizer.save(args.out)
    source = args.data if _dataset is None else _dataset
    print(f"tokenizer with {tokenizer.vocabulary_size} pieces trained on {source} -> {args.out}")
    return 0
