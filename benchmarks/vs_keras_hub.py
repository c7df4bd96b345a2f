"""SensorLM against keras-hub's `SigLIPBackbone` of the same size, side by side.

    python benchmarks/vs_keras_hub.py --backend torch --layers 2

Three models get the same width, depth, heads and MLP width in both towers (default: the
`sensorlm_base` preset), the same text length and batch size, AdamW, and their own sigmoid
loss:

- ``sensorlm``: `SensorLM` (one forward pass per training step);
- ``keras_hub``: keras-hub 0.32's `SigLIPBackbone` as shipped. Its ``compute_loss`` calls
  ``self(x)`` again, so each step runs the model forward twice;
- ``keras_hub_one_forward``: the fair peer, the same backbone with a ``compute_loss`` that
  scores the train step's own forward pass (`one_forward_siglip_backbone.py`). Its process
  first checks that it gives the shipped loss value on the same batch and weights.

Each model is timed in its own fresh subprocess (peak memory belongs to one model), all in the
same run; ``--rounds N`` repeats the three processes N times interleaved (A B C A B C ...) and
reports medians, because other processes on a shared machine make single timings noisy.
keras-hub's vision tower only takes square images with square patches, so the closest token
count to SensorLM's 1440 x 34 / (10, 2) = 2448 tokens is a 196 x 196 x 1 image with 4 x 4
patches: 49^2 = 2401 tokens. Seconds per step are therefore also reported per sensor/image
token. One JSON line per process, then one summary line per keras-hub compile setting with
``speedup_*`` = peer seconds / SensorLM seconds (> 1: SensorLM is faster), per step and per
token, against both peers. Each is given for wall-clock seconds and, as ``cpu_*``, for the
process's CPU seconds per step (``time.process_time``), which other processes on the machine
disturb much less than wall-clock time.

``--dtype-policy mixed_bfloat16`` sets the same Keras policy for all models. All are compiled
with Keras' default ``jit_compile="auto"`` (XLA on JAX; none on a CPU-only TensorFlow or on
PyTorch); ``--hub-jit-compile auto true`` also times keras-hub with another setting.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402

HUB_IMAGE, HUB_PATCH = 196, 4
MODELS = ("sensorlm", "keras_hub", "keras_hub_one_forward")
PEERS = {"shipped": "keras_hub", "one_forward": "keras_hub_one_forward"}


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
    wall, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model.train_on_batch(batch)
        float(loss[0] if isinstance(loss, (list, tuple)) else loss)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return warm, statistics.median(wall), statistics.median(cpu)


def _sensorlm(config, rng, ids):
    from sensorlm_keras import SensorLM

    model = SensorLM.from_sensorlm_config(config)
    sensor = rng.standard_normal((len(ids), config.sequence_length, config.num_channels))
    batch = {"sensor": sensor.astype("float32"), "token_ids": ids,
             "padding_mask": ids * 0 + 1}
    return model, batch, config.num_sensor_tokens


def _keras_hub(config, rng, ids, one_forward):
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
        max_sequence_length=ids.shape[1],
    )
    if one_forward:
        from one_forward_siglip_backbone import OneForwardSigLIPBackbone as backbone
    else:
        backbone = keras_hub.models.SigLIPBackbone
    images = rng.standard_normal((len(ids), HUB_IMAGE, HUB_IMAGE, 1)).astype("float32")
    tokens = (HUB_IMAGE // HUB_PATCH) ** 2
    return backbone(vision, text), {"images": images, "token_ids": ids}, tokens


def _loss_check(model, batch):
    """The one-forward peer's loss equals keras-hub's shipped loss (same batch and weights)."""
    from one_forward_siglip_backbone import shipped_and_one_forward_loss

    shipped, one_forward = shipped_and_one_forward_loss(model, batch)
    if abs(shipped - one_forward) > 1e-5 * max(1.0, abs(shipped)):
        raise SystemExit(f"one-forward loss {one_forward} != shipped loss {shipped}")
    return {"loss_check_shipped": round(shipped, 6),
            "loss_check_one_forward": round(one_forward, 6)}


def _utilisation(config, args, step):
    from sensorlm_keras.utils.flops import model_flops_per_sample

    flops = model_flops_per_sample(config, text_length=args.text_length,
                                   batch_size=args.batch_size)["train"]
    peak = common.matmul_peak_flops()
    return {"train_flops_per_sample": flops, "matmul_peak_flops": round(peak),
            "mfu": round(flops * args.batch_size / step / peak, 4)}


def measure(args):
    import keras
    import numpy as np

    config = _size(args)
    rng = np.random.default_rng(0)
    ids = rng.integers(3, config.vocabulary_size, (args.batch_size, args.text_length))
    ids = ids.astype("int32")
    keras.mixed_precision.set_global_policy(args.dtype_policy)
    if args.model == "sensorlm":
        model, batch, tokens = _sensorlm(config, rng, ids)
    else:
        model, batch, tokens = _keras_hub(config, rng, ids, args.model == "keras_hub_one_forward")
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    model.compile(optimizer=keras.optimizers.AdamW(1e-4), jit_compile=jit)
    warm, step, cpu = _time_steps(model, batch, args.warmup, args.steps)
    peak_gb = common.peak_rss_gb()  # before the loss check's extra forward passes
    extra = {}
    if args.model == "keras_hub_one_forward":
        extra = _loss_check(model, batch)
    elif args.model == "sensorlm":
        extra = _utilisation(config, args, step)
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
        "batch_size": args.batch_size,
        "text_length": args.text_length,
        "parameters": model.count_params(),
        "warmup_seconds": round(warm, 2),
        "steps": args.steps,
        "seconds_per_step": round(step, 4),
        "seconds_per_step_per_token": round(step / tokens, 8),
        "cpu_seconds_per_step": round(cpu, 4),
        "cpu_seconds_per_step_per_token": round(cpu / tokens, 8),
        "peak_memory_gb": round(peak_gb, 3),
        **extra,
        **common.machine(),
    })


def _summary(args, records, jit):
    """One summary record over the rounds of each model (medians), or None if one failed."""
    runs = {m: records.get((m, "auto" if m == "sensorlm" else jit), []) for m in MODELS}
    if not all(runs.values()):
        return None
    ours = runs["sensorlm"][0]
    record = {"benchmark": "vs_keras_hub_summary", "backend": ours["backend"],
              "dtype_policy": args.dtype_policy, "layers": ours["layers"],
              "hidden_dim": ours["hidden_dim"], "batch_size": args.batch_size,
              "rounds": args.rounds, "steps_per_round": args.steps,
              "keras_hub_jit_compile": runs["keras_hub"][0]["jit_compile_used"]}
    for model, rounds in runs.items():
        record[f"{model}_tokens"] = rounds[0]["sensor_or_image_tokens"]
        record[f"{model}_peak_memory_gb"] = max(r["peak_memory_gb"] for r in rounds)
    for clock in ("", "cpu_"):  # wall-clock seconds, then process CPU seconds
        per_step, per_token = {}, {}
        for model, rounds in runs.items():
            values = [r[f"{clock}seconds_per_step"] for r in rounds]
            per_step[model] = statistics.median(values)
            per_token[model] = per_step[model] / rounds[0]["sensor_or_image_tokens"]
            record[f"{model}_{clock}seconds_per_step"] = round(per_step[model], 4)
            record[f"{model}_{clock}seconds_per_step_rounds"] = values
            record[f"{model}_{clock}seconds_per_step_per_token"] = round(per_token[model], 8)
        for name, peer in PEERS.items():
            record[f"{clock}speedup_vs_{name}_per_step"] = round(
                per_step[peer] / per_step["sensorlm"], 3)
            record[f"{clock}speedup_vs_{name}_per_token"] = round(
                per_token[peer] / per_token["sensorlm"], 3)
    checks = runs["keras_hub_one_forward"]
    record["loss_check_shipped"] = [r["loss_check_shipped"] for r in checks]
    record["loss_check_one_forward"] = [r["loss_check_one_forward"] for r in checks]
    return record


def compare(args):
    env = common.backend_env(args.backend)
    runs = [("sensorlm", "auto")]
    runs += [(m, jit) for jit in args.hub_jit_compile for m in MODELS[1:]]
    records = {}
    for index in range(args.rounds):
        for model, jit in runs:
            command = [sys.executable, __file__, "--model", model, "--preset", args.preset,
                       "--batch-size", str(args.batch_size),
                       "--text-length", str(args.text_length), "--steps", str(args.steps),
                       "--warmup", str(args.warmup), "--dtype-policy", args.dtype_policy,
                       "--jit-compile", jit]
            if args.layers:
                command += ["--layers", str(args.layers)]
            record = common.run_child(command, env, "vs_keras_hub", model=model,
                                      jit_compile=jit, round=index)
            if record is not None:
                common.emit({**record, "round": index})
                records.setdefault((model, jit), []).append(record)
    for jit in args.hub_jit_compile:
        summary = _summary(args, records, jit)
        if summary is not None:
            common.emit(summary)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    parser.add_argument("--preset", default="sensorlm_base")
    parser.add_argument("--layers", type=int, default=None,
                        help="override the depth of both towers (all models get it)")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--text-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3, help="timed steps (median) per process")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the three model processes this many times, interleaved")
    parser.add_argument("--dtype-policy", default="float32", help="e.g. mixed_bfloat16")
    parser.add_argument("--hub-jit-compile", nargs="+", default=["auto"],
                        choices=["auto", "true", "false"],
                        help="keras-hub compile settings to time (each its own processes)")
    parser.add_argument("--jit-compile", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--model", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.model:
        common.select_backend(args.backend)
        return measure(args)
    return compare(args)


if __name__ == "__main__":
    main()
