"""Input pipeline throughput: days/s delivered by `make_dataset` from TFRecord shards.

    python benchmarks/pipeline.py --days 256 --batch-size 32

Writes ``--days`` synthetic days (captioned, GZIP TFRecords, 4 shards) to a temporary
directory, trains a small tokenizer on their captions, then iterates the training pipeline
(interleaved readers, shuffle, vectorised parse, in-graph tokenisation, prefetch) for
``--epochs`` repeats and reports batches/s and days/s after the first batch. Compare
``days_per_second`` with a training step's ``samples_per_second`` (benchmarks/train_step.py):
the pipeline never starves the step when it is faster.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    common.select_backend("tensorflow")

    from sensorlm_keras.data import ChannelSchema, SyntheticDayGenerator
    from sensorlm_keras.data.dataset_builder import build_tfrecord_dataset
    from sensorlm_keras.data.pipeline import make_dataset
    from sensorlm_keras.data import CaptionGenerator, preprocess_days
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece

    schema = ChannelSchema.default()
    people = max(2, args.days // 4)
    days = SyntheticDayGenerator(schema).generate(people, 4, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build_tfrecord_dataset(days, tmp, salt="benchmark", num_shards=4,
                               fractions={"train": 1.0})
        write_seconds = time.perf_counter() - t0
        train = os.path.join(tmp, "train")
        pre = preprocess_days(days.raw[:16], schema)
        captions = CaptionGenerator(schema, seed=0).generate_batch(pre.sensor, masks=pre.mask)
        corpus = [c[v] for c in captions for v in ("high_summary", "low", "middle")]
        tokenizer = SensorLMTokenizer(
            train_sentencepiece(corpus, vocabulary_size=256, hard_vocab_limit=False),
            text_length=64,
        )
        dataset = make_dataset(train, tokenizer, args.batch_size, shuffle_buffer=256, seed=0,
                               repeat=True, drop_remainder=True)
        iterator = iter(dataset)
        next(iterator)
        per_epoch = max(1, len(days.raw) // args.batch_size)
        batches = per_epoch * args.epochs
        t0 = time.perf_counter()
        for _ in range(batches):
            next(iterator)
        seconds = time.perf_counter() - t0
    common.emit({
        "benchmark": "input_pipeline",
        "days_written": len(days.raw),
        "write_seconds": round(write_seconds, 2),
        "batch_size": args.batch_size,
        "batches": batches,
        "batches_per_second": round(batches / seconds, 2),
        "days_per_second": round(batches * args.batch_size / seconds, 1),
        **common.machine(),
    })


if __name__ == "__main__":
    main()
