"""Time SensorLM training steps and print one JSON line.

    python benchmarks/train_step.py --preset sensorlm_tiny --backend jax --batch-size 8

Reports seconds per step (median after warm-up), samples/s, peak process memory, model FLOPs
per sample (from the config, see sensorlm_keras/utils/flops.py) and model-FLOPs utilisation
``mfu`` against the same backend's dense fp32 matmul peak measured in the same run.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402


def parse_override(text):
    key, _, value = text.partition("=")
    if not key or not _:
        raise argparse.ArgumentTypeError(f"expected key=value, received {text!r}")
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False, "none": None}.get(value.lower(), value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="sensorlm_tiny")
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--text-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="timed steps after warm-up")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (compilation)")
    parser.add_argument("--dtype-policy", default="float32", help="e.g. mixed_bfloat16")
    parser.add_argument("--override", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="SensorLMConfig field override (repeatable)")
    args = parser.parse_args(argv)
    common.select_backend(args.backend)

    import keras
    import numpy as np

    from sensorlm_keras import SensorLM, SensorLMConfig
    from sensorlm_keras.utils.flops import model_flops_per_sample

    keras.mixed_precision.set_global_policy(args.dtype_policy)
    config = SensorLMConfig.from_preset(args.preset, **dict(args.override))
    if args.text_length > config.max_text_length:
        parser.error(f"--text-length {args.text_length} > max_text_length {config.max_text_length}")
    peak = common.matmul_peak_flops()
    model = SensorLM.from_sensorlm_config(config)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4, global_clipnorm=1.0))
    rng = np.random.default_rng(0)
    b = args.batch_size
    batch = {
        "sensor": rng.standard_normal((b, config.sequence_length, config.num_channels)).astype("float32"),
        "token_ids": rng.integers(3, config.vocabulary_size, (b, args.text_length)).astype("int32"),
        "padding_mask": np.ones((b, args.text_length), bool),
    }
    t0 = time.perf_counter()
    for _ in range(args.warmup):
        model.train_on_batch(batch)
    warmup_s = time.perf_counter() - t0
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        logs = model.train_on_batch(batch, return_dict=True)
        float(logs["loss"])
        times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    flops = model_flops_per_sample(config, text_length=args.text_length, batch_size=b)
    samples_per_s = b / step
    common.emit(
        {
            "benchmark": "train_step",
            "preset": args.preset,
            "overrides": dict(args.override),
            "backend": keras.backend.backend(),
            "dtype_policy": args.dtype_policy,
            "batch_size": b,
            "text_length": args.text_length,
            "sensor_tokens": config.num_sensor_tokens,
            "parameters": model.count_params(),
            "warmup_seconds": round(warmup_s, 3),
            "seconds_per_step": round(step, 4),
            "samples_per_second": round(samples_per_s, 3),
            "peak_memory_gb": round(common.peak_rss_gb(), 3),
            "train_flops_per_sample": flops["train"],
            "forward_flops_per_sample": flops["forward"],
            "matmul_peak_flops": round(peak),
            "achieved_flops": round(flops["train"] * samples_per_s),
            "mfu": round(flops["train"] * samples_per_s / peak, 4),
            **common.machine(),
        }
    )


if __name__ == "__main__":
    main()
