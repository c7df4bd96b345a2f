"""Benchmark: full three-level captioning speed (all eight variants from one pass).

Generates random-walk 34-channel days (z-scores) with a missing mask and a few logged events,
then times `CaptionGenerator.generate_batch` single-threaded (BLAS/OpenMP pinned to one thread)
and prints one JSON line:

    python benchmarks/caption_speed.py [--days 512] [--repeats 3] [--no-mask]

Target: >= 200 days/s/core for a 34-channel day.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def make_days(n, num_channels, seed, with_mask):
    """Random-walk days in z-score units, plus masks and events (no dependency on synthetic.py)."""
    from sensorlm_keras.data import Event

    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.08, (n, 1440, num_channels))
    z = np.cumsum(steps, axis=1) + rng.normal(0.0, 0.5, (n, 1, num_channels))
    # a few short bursts so that spikes and drops exist
    for _ in range(3):
        day = np.arange(n)
        start = rng.integers(0, 1400, n)
        ch = rng.integers(0, num_channels, n)
        amp = rng.choice([-3.0, 3.0], n)
        for o in range(40):
            z[day, np.minimum(start + o, 1439), ch] += amp
    z = np.clip(z, -5, 5).astype(np.float32)
    masks = None
    if with_mask:
        masks = np.zeros(z.shape, dtype=bool)
        gap = rng.integers(0, 1300, n)
        for o in range(120):
            masks[np.arange(n), gap + o, :] = True
    events = []
    for i in range(n):
        ev = [Event("sleep", "sleep", int(rng.integers(1320, 1439)), int(rng.integers(300, 480)))]
        for _ in range(int(rng.integers(0, 5))):
            s = int(rng.integers(480, 1200))
            label = str(rng.choice(["walk", "run", "bike", "yoga"]))
            ev.append(Event("activity", label, s, s + int(rng.integers(5, 90))))
        m = int(rng.integers(0, 1440))
        ev.append(Event("mood", str(rng.choice(["calm", "tired", "happy"])), m, m))
        events.append(ev)
    return z, masks, events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-mask", action="store_true")
    args = parser.parse_args(argv)

    from sensorlm_keras.data import CaptionGenerator, ChannelSchema

    schema = ChannelSchema.default()
    z, masks, events = make_days(args.days, schema.num_channels, args.seed, not args.no_mask)
    generator = CaptionGenerator(schema=schema, seed=args.seed)
    generator.generate_batch(z[:8], None if masks is None else masks[:8], events[:8])  # warm-up

    times = []
    chars = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = generator.generate_batch(z, masks, events)
        times.append(time.perf_counter() - t0)
        chars = sum(len(v) for d in out for v in d.values())
    best = min(times)
    print(
        json.dumps(
            {
                "benchmark": "caption_speed",
                "days": args.days,
                "channels": schema.num_channels,
                "variants": 8,
                "levels": 3,
                "masked": not args.no_mask,
                "threads": 1,
                "repeats": args.repeats,
                "best_seconds": round(best, 4),
                "median_seconds": round(float(np.median(times)), 4),
                "days_per_second_per_core": round(args.days / best, 1),
                "mean_chars_per_day_all_variants": round(chars / args.days, 1),
                "target_days_per_second_per_core": 200,
                "python": platform.python_version(),
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
