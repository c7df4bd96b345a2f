"""SensorLM against keras-hub's `SigLIPBackbone` of the same size, side by side.

    python benchmarks/vs_keras_hub.py --backend jax

Both models get the same width, depth, heads and MLP width in both towers (default: the
`sensorlm_base` preset), the same text length and batch size, AdamW, and their own sigmoid
loss; each is timed in its own fresh subprocess (peak memory belongs to one model) in the same
run. keras-hub's vision tower only takes square images with square patches, so the closest
token count to SensorLM's 1440 x 34 / (10, 2) = 2448 tokens is a 196 x 196 x 1 image with 4 x 4
patches: 49^2 = 2401 tokens (SensorLM's count is 2% larger, which favours keras-hub). One JSON
line per model, then one with ``speedup`` = keras-hub seconds per step / SensorLM seconds per
step (> 1: SensorLM is faster).

``--dtype-policy mixed_bfloat16`` sets the same Keras policy for both models. Both are compiled
with Keras' default ``jit_compile="auto"`` (XLA on JAX; none on a CPU-only TensorFlow or on
PyTorch); ``--hub-jit-compile auto true`` also times keras-hub with another setting.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402

HUB_IMAGE, HUB_PATCH = 196, 4


def _size(args):
    from sensorlm_keras import SensorLMConfig

    overrides = {}
    if args.layers:
        overrides.update(sensor_num_layers=args.layers, text_num_layers=args.layers)
    return SensorLMConfig.from_preset(args.preset, **overrides)


def _time_steps(model, batch, warmup, steps):
    t0 = time.perf_counter()
    for _ in range(warmup):
        model.train_on_batch(batch)
    warm = time.perf_counter() - t0
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = model.train_on_batch(batch)
        float(loss[0] if isinstance(loss, (list, tuple)) else loss)
        times.append(time.perf_counter() - t0)
    return warm, statistics.median(times)


def measure(args):
    import keras
    import numpy as np

    config = _size(args)
    rng = np.random.default_rng(0)
    b, length = args.batch_size, args.text_length
    ids = rng.integers(3, config.vocabulary_size, (b, length)).astype("int32")
    keras.mixed_precision.set_global_policy(args.dtype_policy)
    optimizer = keras.optimizers.AdamW(1e-4)
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    if args.model == "sensorlm":
        from sensorlm_keras import SensorLM

        model = SensorLM.from_sensorlm_config(config)
        model.compile(optimizer=optimizer, jit_compile=jit)
        batch = {
            "sensor": rng.standard_normal((b, config.sequence_length, config.num_channels))
            .astype("float32"),
            "token_ids": ids,
            "padding_mask": np.ones((b, length), "int32"),
        }
        tokens = config.num_sensor_tokens
    else:
        import keras_hub

        vision = keras_hub.models.SigLIPVisionEncoder(
            patch_size=HUB_PATCH,
            hidden_dim=config.sensor_hidden_dim,
            num_layers=config.sensor_num_layers,
            num_heads=config.sensor_num_heads,
            intermediate_dim=config.sensor_mlp_dim,
            image_shape=(HUB_IMAGE, HUB_IMAGE, 1),
        )
        text = keras_hub.models.SigLIPTextEncoder(
            vocabulary_size=config.vocabulary_size,
            embedding_dim=config.text_hidden_dim,
            hidden_dim=config.text_hidden_dim,
            num_layers=config.text_num_layers,
            num_heads=config.text_num_heads,
            intermediate_dim=config.text_mlp_dim,
            max_sequence_length=length,
        )
        model = keras_hub.models.SigLIPBackbone(vision, text)
        model.compile(optimizer=optimizer, jit_compile=jit)
        batch = {
            "images": rng.standard_normal((b, HUB_IMAGE, HUB_IMAGE, 1)).astype("float32"),
            "token_ids": ids,
        }
        tokens = (HUB_IMAGE // HUB_PATCH) ** 2
    warm, step = _time_steps(model, batch, args.warmup, args.steps)
    extra = {}
    if args.model == "sensorlm":
        from sensorlm_keras.utils.flops import model_flops_per_sample

        flops = model_flops_per_sample(config, text_length=length, batch_size=b)["train"]
        peak = common.matmul_peak_flops()
        extra = {"train_flops_per_sample": flops, "matmul_peak_flops": round(peak),
                 "mfu": round(flops * b / step / peak, 4)}
    common.emit({
        "benchmark": "vs_keras_hub",
        "model": args.model,
        "backend": keras.backend.backend(),
        "dtype_policy": args.dtype_policy,
        "jit_compile_requested": args.jit_compile,
        "jit_compile_used": model.jit_compile,
        "preset_size": args.preset,
        "layers": config.sensor_num_layers,
        "hidden_dim": config.sensor_hidden_dim,
        "heads": config.sensor_num_heads,
        "sensor_or_image_tokens": tokens,
        "batch_size": b,
        "text_length": length,
        "parameters": model.count_params(),
        "warmup_seconds": round(warm, 2),
        "seconds_per_step": round(step, 4),
        "peak_memory_gb": round(common.peak_rss_gb(), 3),
        **extra,
        **common.machine(),
    })


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    parser.add_argument("--preset", default="sensorlm_base")
    parser.add_argument("--layers", type=int, default=None,
                        help="override the depth of both towers (both models get it)")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--text-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--dtype-policy", default="float32", help="e.g. mixed_bfloat16")
    parser.add_argument("--hub-jit-compile", nargs="+", default=["auto"],
                        choices=["auto", "true", "false"],
                        help="keras-hub compile settings to time (each its own process)")
    parser.add_argument("--jit-compile", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=["sensorlm", "keras_hub"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.model:
        common.select_backend(args.backend)
        return measure(args)
    env = dict(os.environ)
    if args.backend:
        env["KERAS_BACKEND"] = args.backend
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    records = {}
    runs = [("sensorlm", "auto")] + [("keras_hub", jit) for jit in args.hub_jit_compile]
    for model, jit in runs:
        command = [sys.executable, __file__, "--model", model, "--preset", args.preset,
                   "--batch-size", str(args.batch_size), "--text-length", str(args.text_length),
                   "--steps", str(args.steps), "--warmup", str(args.warmup),
                   "--dtype-policy", args.dtype_policy, "--jit-compile", jit]
        if args.layers:
            command += ["--layers", str(args.layers)]
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode:
            print(json.dumps({"benchmark": "vs_keras_hub", "model": model, "jit_compile": jit,
                              "error": result.stderr[-2000:]}), flush=True)
            continue
        records[(model, jit)] = json.loads(result.stdout.strip().splitlines()[-1])
        print(json.dumps(records[(model, jit)], sort_keys=True), flush=True)
    ours = records.get(("sensorlm", "auto"))
    for jit in args.hub_jit_compile:
        hub = records.get(("keras_hub", jit))
        if ours is None or hub is None:
            continue
        common.emit({
            "benchmark": "vs_keras_hub_summary",
            "backend": ours["backend"],
            "dtype_policy": args.dtype_policy,
            "layers": ours["layers"],
            "batch_size": args.batch_size,
            "sensorlm_jit_compile": ours["jit_compile_used"],
            "keras_hub_jit_compile": hub["jit_compile_used"],
            "sensorlm_seconds_per_step": ours["seconds_per_step"],
            "keras_hub_seconds_per_step": hub["seconds_per_step"],
            "speedup": round(hub["seconds_per_step"] / ours["seconds_per_step"], 3),
            "sensorlm_peak_memory_gb": ours["peak_memory_gb"],
            "keras_hub_peak_memory_gb": hub["peak_memory_gb"],
        })


if __name__ == "__main__":
    main()
