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
    parser.add_argument("--peak-dtype", default=None,
                        help="dtype of the matmul peak that MFU is measured against (default: "
                        "bfloat16 under a *bfloat16 policy, else float32)")
    parser.add_argument("--peak-size", type=int, default=2048,
                        help="matrix size of the peak matmul (8192 on a GPU)")
    parser.add_argument("--override", type=parse_override, action="append", default=[],
                        metavar="KEY=VALUE", help="SensorLMConfig field override (repeatable)")
    parser.add_argument("--jit-compile", default="auto", choices=["auto", "true", "false"],
                        help="model.compile(jit_compile=...): XLA on TensorFlow/JAX")
    parser.add_argument("--devices", type=int, default=1,
                        help="data-parallel devices (CPU split into N devices when no GPU): "
                        "runs 1 and N devices in subprocesses and reports scaling efficiency")
    parser.add_argument("--_single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.devices > 1 and not args._single:
        return compare_devices(args, argv if argv is not None else sys.argv[1:])
    common.select_backend(args.backend)
    if args.devices > 1:
        from sensorlm_keras.distribute import request_cpu_devices

        request_cpu_devices(args.devices)

    import keras
    import numpy as np

    from sensorlm_keras import SensorLM, SensorLMConfig
    from sensorlm_keras.utils.flops import model_flops_per_sample

    keras.mixed_precision.set_global_policy(args.dtype_policy)
    config = SensorLMConfig.from_preset(args.preset, **dict(args.override))
    if args.text_length > config.max_text_length:
        parser.error(f"--text-length {args.text_length} > max_text_length {config.max_text_length}")
    peak_dtype = args.peak_dtype or ("bfloat16" if "bfloat16" in args.dtype_policy else "float32")
    peak = common.matmul_peak_flops(n=args.peak_size, dtype=peak_dtype)
    from sensorlm_keras.distribute import DistributionPlan

    strategy = "none"
    if args.devices > 1:
        strategy = "mirrored" if keras.backend.backend() == "tensorflow" else "data_parallel"
    plan = DistributionPlan(strategy)
    with plan.scope():
        model = SensorLM.from_sensorlm_config(config)
        jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
        model.compile(optimizer=keras.optimizers.AdamW(1e-4, global_clipnorm=1.0), jit_compile=jit)
    rng = np.random.default_rng(0)
    b = args.batch_size
    batch = {
        "sensor": rng.standard_normal((b, config.sequence_length, config.num_channels)).astype("float32"),
        "token_ids": rng.integers(3, config.vocabulary_size, (b, args.text_length)).astype("int32"),
        "padding_mask": np.ones((b, args.text_length), bool),
    }
    if plan.num_replicas > 1:
        # model.fit splits each global batch over the replicas (train_on_batch does not under
        # tf.distribute); time whole epochs of `steps` batches after a warm-up epoch.
        data = {k: np.concatenate([v] * max(args.steps, args.warmup)) for k, v in batch.items()}
        t0 = time.perf_counter()
        model.fit(data, batch_size=b, epochs=1, steps_per_epoch=args.warmup, verbose=0)
        warmup_s = time.perf_counter() - t0
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            model.fit(data, batch_size=b, epochs=1, steps_per_epoch=args.steps, verbose=0)
            times.append((time.perf_counter() - t0) / args.steps)
        step = min(times)
    else:
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
            "jit_compile": args.jit_compile,
            "devices": args.devices,
            "distribution": plan.describe(),
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
            "matmul_peak_dtype": peak_dtype,
            "devices_seen": common.devices(),
            "achieved_flops": round(flops["train"] * samples_per_s),
            "mfu": round(flops["train"] * samples_per_s / peak, 4),
            **common.machine(),
        }
    )


def compare_devices(args, argv):
    """Run 1 and N devices in fresh processes (device splitting happens at start-up)."""
    import json
    import subprocess

    records = {}
    for devices in (1, args.devices):
        command = [sys.executable, __file__, *_strip_devices(argv), "--devices", str(devices),
                   "--_single"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(result.stderr[-3000:])
        records[devices] = json.loads(result.stdout.strip().splitlines()[-1])
    one, many = records[1], records[args.devices]
    per_device = many["samples_per_second"] / args.devices
    common.emit(
        {
            "benchmark": "train_step_scaling",
            "backend": many["backend"],
            "preset": args.preset,
            "global_batch_size": args.batch_size,
            "devices": args.devices,
            "distribution": many["distribution"],
            "samples_per_second_1_device": one["samples_per_second"],
            "samples_per_second_n_devices": many["samples_per_second"],
            "per_device_samples_per_second": round(per_device, 3),
            "scaling_efficiency": round(many["samples_per_second"] / one["samples_per_second"] / args.devices, 4),
            "speedup": round(many["samples_per_second"] / one["samples_per_second"], 4),
            "note": "CPU split into logical devices shares the same cores: efficiency shows the "
            "distribution overhead, not real multi-device speed-up",
            **common.machine(),
        }
    )


def _strip_devices(argv):
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--devices":
            skip = True
            continue
        if item.startswith("--devices="):
            continue
        out.append(item)
    return out


if __name__ == "__main__":
    main()
