"""Inference speed: `encode_sensor` throughput per backend, and SavedModel latency per request.

    python benchmarks/inference.py encode --backend jax --preset sensorlm_base --days 64
    python benchmarks/inference.py serve --preset sensorlm_base

``encode``: a fresh model of the preset embeds ``--days`` synthetic days (z-scores) with
``SensorLM.encode_sensor`` (one call; ``--batch-size`` rows per compiled call); the first call
(compilation) is reported apart from the timed call.

``serve`` (TensorFlow): builds a run directory (the preset's model, a SentencePiece tokenizer
trained on synthetic captions), exports it with `export_saved_model`, reloads the SavedModel
the way TF Serving does (``tf.saved_model.load`` + ``import tensorflow_text``) and times
``--requests`` single-day requests of the ``embed_sensor`` and ``zero_shot`` (5 classes)
signatures: median and 95th percentile in milliseconds.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402


def _overrides(args):
    return dict(args.override or [])


def encode(args):
    common.select_backend(args.backend)
    import keras
    import numpy as np

    from sensorlm_keras import SensorLM, SensorLMConfig
    from sensorlm_keras.utils.flops import model_flops_per_sample

    config = SensorLMConfig.from_preset(args.preset, **_overrides(args))
    model = SensorLM.from_sensorlm_config(config)
    days = np.random.default_rng(0).standard_normal(
        (args.days, config.sequence_length, config.num_channels)).astype("float32")
    t0 = time.perf_counter()
    model.encode_sensor(days[: args.batch_size], batch_size=args.batch_size)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = model.encode_sensor(days, batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    assert out.shape == (args.days, model.sensor_encoder.embed_dim)
    flops = model_flops_per_sample(config)["sensor_forward"]
    peak = common.matmul_peak_flops()
    common.emit({
        "benchmark": "encode_sensor",
        "backend": keras.backend.backend(),
        "preset": args.preset,
        "overrides": _overrides(args),
        "days": args.days,
        "batch_size": args.batch_size,
        "sensor_tokens": config.num_sensor_tokens,
        "first_call_seconds": round(first, 3),
        "seconds": round(seconds, 3),
        "days_per_second": round(args.days / seconds, 3),
        "sensor_forward_flops_per_day": flops,
        "mfu": round(flops * args.days / seconds / peak, 4),
        "matmul_peak_flops": round(peak),
        "peak_memory_gb": round(common.peak_rss_gb(), 3),
        **common.machine(),
    })


def _build_run(run_dir, preset, overrides):
    import numpy as np

    from sensorlm_keras import SensorLM
    from sensorlm_keras.data import CaptionGenerator, ChannelSchema, SyntheticDayGenerator
    from sensorlm_keras.data import preprocess_days
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece
    from sensorlm_keras.runs import save_run

    schema = ChannelSchema.default()
    days = SyntheticDayGenerator(schema).generate(4, 2, seed=0)
    pre = preprocess_days(days.raw, schema)
    captions = CaptionGenerator(schema, seed=0).generate_batch(pre.sensor, masks=pre.mask)
    corpus = [c[v] for c in captions for v in ("high_summary", "low", "middle")]
    tokenizer = SensorLMTokenizer(
        train_sentencepiece(corpus, vocabulary_size=256, hard_vocab_limit=False),
        text_length=64,
    )
    model = SensorLM.from_preset(preset, vocabulary_size=tokenizer.vocabulary_size,
                                 **overrides)
    save_run(run_dir, model, tokenizer, schema, text_length=64)
    return np.asarray(pre.sensor[:1], "float32")


def _latency(fn, requests):
    fn()  # warm-up (graph tracing, first kernels)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2)}


def serve(args):
    common.select_backend("tensorflow")
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece ops, as TF Serving does)

    from sensorlm_keras.export import export_saved_model

    with tempfile.TemporaryDirectory() as tmp:
        day = _build_run(os.path.join(tmp, "run"), args.preset, _overrides(args))
        t0 = time.perf_counter()
        result = export_saved_model(os.path.join(tmp, "run"), os.path.join(tmp, "export"))
        export_seconds = time.perf_counter() - t0
        loaded = tf.saved_model.load(result.path)
        embed = loaded.signatures["embed_sensor"]
        zero_shot = loaded.signatures["zero_shot"]
        sensor = tf.constant(day)
        classes = tf.constant(["walking", "running", "cycling", "sleeping", "resting"])
        common.emit({
            "benchmark": "saved_model_latency",
            "preset": args.preset,
            "overrides": _overrides(args),
            "export_seconds": round(export_seconds, 2),
            "requests": args.requests,
            "embed_sensor_batch_1": _latency(lambda: embed(sensor=sensor), args.requests),
            "zero_shot_batch_1_5_classes": _latency(
                lambda: zero_shot(sensor=sensor, class_names=classes), args.requests),
            "peak_memory_gb": round(common.peak_rss_gb(), 3),
            **common.machine(),
        })


def main(argv=None):
    from train_step import parse_override

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("encode", help="encode_sensor throughput")
    e.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    e.add_argument("--days", type=int, default=64)
    e.add_argument("--batch-size", type=int, default=64)
    s = sub.add_parser("serve", help="SavedModel latency per request (TensorFlow)")
    s.add_argument("--requests", type=int, default=10)
    for p in (e, s):
        p.add_argument("--preset", default="sensorlm_base")
        p.add_argument("--override", type=parse_override, action="append", default=[],
                       metavar="KEY=VALUE", help="SensorLMConfig field override (repeatable)")
    args = parser.parse_args(argv)
    return encode(args) if args.mode == "encode" else serve(args)


if __name__ == "__main__":
    main()
