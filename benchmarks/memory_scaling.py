"""Peak training memory of the sensor tower against the number of tokens, exact vs chunked.

    python benchmarks/memory_scaling.py --backend tensorflow

For each input shape / patch (1440 x 34 with (10, 2) = 2448 tokens, 2880 x 34 with (10, 2) and
1440 x 34 with (5, 2) = 4896 tokens each) and each attention implementation (``exact``:
``keras.ops.dot_product_attention``; ``chunked``: query blocks of ``--chunk-size``, recomputed in
the backward pass; on JAX the hand-written backward of ``sensorlm_keras.backend.jax.blockwise_attention``; ``auto``: the
default ``attention_chunk_size="auto"``) one fresh
subprocess builds a SensorLM with the base sensor tower (width 768, 12 heads; ``--layers``
blocks) and a one-layer text tower, then runs ``--steps`` training steps. ``step_memory_gb`` is
the peak resident memory during training minus the resident memory before the first step
(weights, optimizer slots and the compiled program are counted before). Linear scaling means
``step_memory_gb`` about doubles from 2448 to 4896 tokens; quadratic means it about
quadruples (the score matrices dominate).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common  # noqa: E402

SHAPES = [(1440, 34, 10, 2), (2880, 34, 10, 2), (1440, 34, 5, 2)]


def _current_rss_gb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e9


def measure(args):
    import keras
    import numpy as np

    from sensorlm_keras import SensorLM, SensorLMConfig

    minutes, channels, pt, pc = args.shape
    config = SensorLMConfig.from_preset(
        "sensorlm_base",
        sequence_length=minutes,
        num_channels=channels,
        patch_size=(pt, pc),
        sensor_num_layers=args.layers,
        text_num_layers=1,
        text_hidden_dim=128,
        text_num_heads=2,
        text_mlp_dim=256,
        vocabulary_size=1024,
        max_text_length=32,
        attention_chunk_size={"exact": None, "auto": "auto"}.get(args.impl, args.chunk_size),
        remat=args.remat,
    )
    model = SensorLM.from_sensorlm_config(config)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4))
    rng = np.random.default_rng(0)
    b = args.batch_size
    batch = {
        "sensor": rng.standard_normal((b, minutes, channels)).astype("float32"),
        "token_ids": rng.integers(3, 1024, (b, 32)).astype("int32"),
        "padding_mask": np.ones((b, 32), "int32"),
    }
    before = _current_rss_gb()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        float(model.train_on_batch(batch, return_dict=True)["loss"])
        times.append(time.perf_counter() - t0)
    peak = common.peak_rss_gb()
    common.emit({
        "benchmark": "sensor_memory_scaling",
        "backend": keras.backend.backend(),
        "impl": args.impl,
        "remat": args.remat,
        "shape": [minutes, channels],
        "patch_size": [pt, pc],
        "sensor_tokens": config.num_sensor_tokens,
        "sensor_layers": args.layers,
        "batch_size": b,
        "rss_before_training_gb": round(before, 3),
        "peak_rss_gb": round(peak, 3),
        "step_memory_gb": round(peak - before, 3),
        "last_step_seconds": round(times[-1], 3),
        **common.machine(),
    })


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"], default=None)
    parser.add_argument("--impl", nargs="+", default=["exact", "chunked"],
                        choices=["exact", "chunked", "auto"])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--remat", action="store_true", help="also rematerialise whole blocks")
    parser.add_argument("--shape", type=int, nargs=4, action="append", default=None,
                        metavar=("MINUTES", "CHANNELS", "PATCH_T", "PATCH_C"))
    args = common.parse_child_args(parser, argv, singles=("shape", "impl"))
    if args._single:
        return measure(args)
    env = common.backend_env(args.backend)
    records = []
    for shape in args.shape or SHAPES:
        for impl in args.impl:
            command = [sys.executable, __file__, "--_single", "--impl", impl,
                       "--shape", *map(str, shape), "--layers", str(args.layers),
                       "--batch-size", str(args.batch_size), "--steps", str(args.steps),
                       "--chunk-size", str(args.chunk_size)]
            if args.remat:
                command.append("--remat")
            record = common.run_child(command, env, "sensor_memory_scaling", impl=impl,
                                      shape=shape)
            if record is not None:
                records.append(record)
                common.emit(record)
    for impl in args.impl:
        rows = [r for r in records if r["impl"] == impl]
        base = next((r for r in rows if r["sensor_tokens"] == 2448), None)
        if base is None:
            continue
        common.emit({
            "benchmark": "sensor_memory_scaling_summary",
            "impl": impl,
            "backend": base["backend"],
            "step_memory_ratio_vs_2448_tokens": {
                f"{r['shape'][0]}x{r['shape'][1]} patch {tuple(r['patch_size'])} "
                f"({r['sensor_tokens']} tokens)": round(r["step_memory_gb"] / base["step_memory_gb"], 2)
                for r in rows
            },
        })


if __name__ == "__main__":
    main()
