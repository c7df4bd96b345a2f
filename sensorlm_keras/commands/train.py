"""``sensorlm train``: train a SensorLM with ``model.fit`` (resumable)."""

import argparse

_EPILOG = """\
examples:
  sensorlm train --smoke                          # tiny model on embedded synthetic data (minutes)
  sensorlm train --smoke --set steps=50 --run-dir runs/quick
  sensorlm train --recipe long                    # 2x people, 3x steps (20-30 min on 2 CPU cores)
  sensorlm train --config my_run.yaml --data data/synth --set batch_size=256
  KERAS_BACKEND=jax sensorlm train --smoke        # same run on JAX (or torch)
  sensorlm train --smoke --strategy mirrored      # all local GPUs (TensorFlow)
  KERAS_BACKEND=jax sensorlm train --smoke --strategy data_parallel --cpu-devices 4

A config file (YAML or JSON) holds TrainConfig fields, e.g.
  preset: sensorlm_small
  model: {text_pooling: last}
  data: data/synth
  batch_size: 256
  steps: 20000
Without --smoke or --recipe the defaults are the upstream recipe (sensorlm_base, batch 1024, 48,828 steps,
AdamW 5e-4, weight decay 1e-4 on kernels, clip 1.0, warm-up/rsqrt/cool-down schedule).

Killing a run is safe: run the same command again and it resumes from the last backup
(weights, optimizer state, step counter; at most --set steps_per_checkpoint steps are lost).
Outputs in the run directory: model.keras, tokenizer/, run_config.json, checkpoints/, logs/
(TensorBoard), data/ (embedded synthetic data) and report/ (evaluation, when enabled).
"""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a SensorLM (resumable; --smoke for a CPU-sized run)",
        description="Train a SensorLM two-tower model with the sigmoid loss via model.fit.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="YAML or JSON file with TrainConfig fields")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="the main job's CPU-sized recipe (same as --recipe smoke): tiny model, "
        "3,500 embedded synthetic days, batch 32, 2,000 steps (6-12 min on 2 cores)",
    )
    parser.add_argument(
        "--recipe",
        choices=["upstream", "smoke", "long"],
        help="named recipe the other options override: upstream (the paper's, default), smoke "
        "(the main job) or long (1,000 people, 6,000 steps: 20-30 min on 2 CPU cores)",
    )
    parser.add_argument(
        "--data", help="TFRecord dataset directory with train/ (default: embedded synthetic data)"
    )
    parser.add_argument("--run-dir", help="output directory (default runs/smoke or runs/sensorlm)")
    parser.add_argument("--preset", help="model preset, e.g. sensorlm_tiny, sensorlm_base")
    parser.add_argument("--steps", type=int, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, help="global batch size")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any TrainConfig field, model.<field> for the model "
        "(repeatable), e.g. --set model.sensor_num_layers=4",
    )
    parser.add_argument(
        "--strategy",
        choices=["none", "mirrored", "multi_worker", "tpu", "data_parallel", "model_parallel"],
        help="multi-device training: mirrored/multi_worker/tpu on KERAS_BACKEND=tensorflow, "
        "data_parallel/model_parallel on jax (see README: Training on several devices)",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        help="split the CPU into N devices (try multi-device training on a laptop)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an existing run directory and start from scratch",
    )
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    parser.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true",
                        help="no progress bars (--no-progress as for `sensorlm data`)")
    parser.set_defaults(func=run)


def build_config(args):
    from sensorlm_keras.errors import ConfigError
    from sensorlm_keras.training import TrainConfig

    recipe = getattr(args, "recipe", None)
    if args.smoke and recipe not in (None, "smoke"):
        raise ConfigError(f"--smoke is --recipe smoke; it cannot be combined with --recipe {recipe}.")
    recipe = recipe or ("smoke" if args.smoke else "upstream")
    if args.config:
        config = TrainConfig.from_file(args.config, recipe=recipe)
    else:
        config = TrainConfig.recipe(recipe)
    overrides = {}
    for key in ("data", "run_dir", "preset", "steps", "batch_size", "strategy", "cpu_devices"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.no_eval:
        overrides["evaluate"] = False
    overrides.update(TrainConfig.parse_overrides(args.set))
    return config.with_overrides(overrides)


def run(args):
    config = build_config(args)
    if config.cpu_devices:
        # Before keras/jax/tensorflow initialise their devices.
        from sensorlm_keras.distribute import request_cpu_devices

        request_cpu_devices(config.cpu_devices)
    from sensorlm_keras.training import train

    verbose = 0 if args.quiet else 1
    run_artifacts = train(config, overwrite=args.overwrite, verbose=verbose)
    if run_artifacts is None:  # a non-chief worker: the chief saves and evaluates
        return 0
    print(f"Saved the trained model, tokenizer and run config in {config.run_dir}")
    if config.evaluate:
        evaluate_after_training(run_artifacts, config, verbose=verbose)
    return 0


def evaluate_after_training(run_artifacts, config, verbose=1):
    """Evaluate the finished run on the held-out people (test split) into <run_dir>/report."""
    import os

    from sensorlm_keras.evaluation import evaluate_run, format_summary

    data_root = run_artifacts.config.get("data_root")
    test_dir = os.path.join(data_root, "test") if data_root else None
    if not test_dir or not os.path.exists(os.path.join(test_dir, "manifest.json")):
        print("No test split next to the training data; evaluation skipped.")
        return None
    report = evaluate_run(
        run_artifacts, test_dir, out_dir=os.path.join(config.run_dir, "report"),
        progress=bool(verbose),
    )
    print(format_summary(report))
    return report
