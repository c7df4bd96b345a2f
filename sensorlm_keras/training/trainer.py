"""`train`: the SensorLM training driver behind ``sensorlm train``.

Steps: data (embedded synthetic TFRecords or the user's) -> tokenizer (trained on the train
captions, or reused from the run directory) -> model (preset + overrides, vocabulary from the
tokenizer) -> AdamW recipe -> ``model.fit`` with progress bar, TensorBoard, periodic
checkpoints, atomic BackupAndRestore (resume after a kill) and a NaN guard -> final
``model.keras`` + tokenizer + ``run_config.json`` -> optional evaluation on the test split.
"""

import json
import os
import shutil
import time

from sensorlm_keras.errors import ConfigError, SensorLMError, WorkerLostError
from sensorlm_keras.training.train_config import TrainConfig


class TrainingDivergedError(SensorLMError):
    """The loss became NaN/Inf; the message names the step and the last good checkpoint."""


_MODEL_FIELDS = ("preset", "model", "vocabulary_size", "text_length", "caption_variant", "data",
                 "synthetic_people", "synthetic_days", "seed")


def _lost_worker_message(plan, reason, backup):
    """What stopped, where the last backup is and how to resume (a few lines at most)."""
    last = None
    try:
        with open(backup._training_metadata_path, encoding="utf-8") as f:
            last = int(json.load(f)["step"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    where = (f"the last backup (optimizer step {last}) is in {backup.backup_dir}" if last
             else "no backup had been written yet, so the run starts over")
    return (
        f"training stopped: another of the {plan.num_workers} workers stopped or became "
        f"unreachable ({reason}). This was worker {plan.worker_index}; {where}. Start the same "
        "command again on every worker to resume."
    )


def _prepare_run_dir(config, overwrite):
    run_dir = config.run_dir
    config_path = os.path.join(run_dir, "train_config.json")
    if os.path.exists(os.path.join(run_dir, "model.keras")) and not overwrite:
        raise ConfigError(
            f"run directory {run_dir!r} already holds a finished run (model.keras); pass "
            "--overwrite to train again from scratch."
        )
    if overwrite and os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            previous = json.load(f)
        changed = [k for k in _MODEL_FIELDS if previous.get(k) != config.to_dict().get(k)]
        if changed:
            raise ConfigError(
                f"run directory {run_dir!r} holds an unfinished run with a different "
                f"configuration ({', '.join(changed)} changed); its checkpoint does not fit this "
                "model. Use another --run-dir or pass --overwrite."
            )
    os.makedirs(run_dir, exist_ok=True)
    _remove_stale_temporaries(run_dir)
    from sensorlm_keras.utils.atomic_io import atomic_write_text

    atomic_write_text(config_path, json.dumps(config.to_dict(), indent=2, default=str) + "\n")


def _remove_stale_temporaries(run_dir):
    """Delete temporary files a killed run left behind (they never carry a final name)."""
    for sub in ("backup", "checkpoints", "."):
        directory = os.path.join(run_dir, sub)
        if os.path.isdir(directory):
            for name in os.listdir(directory):
                if name.startswith((".tmp-", ".model-")):
                    os.remove(os.path.join(directory, name))


def _resolve_data(config, verbose, generate=True):
    """The dataset root and its splits; generates the embedded synthetic data when
    ``config.data`` is None and ``generate`` (the chief), else expects it to exist."""
    from sensorlm_keras.data import DatasetManifest

    if config.data is not None:
        root = os.fspath(config.data)
        if not os.path.isdir(os.path.join(root, "train")):
            raise ConfigError(
                f"data: expected a dataset directory with a train/ split (as written by "
                f"'sensorlm data synth'), {root!r} has none."
            )
    else:
        root = os.path.join(config.run_dir, "data")
        if not generate and not os.path.exists(os.path.join(root, "train", "manifest.json")):
            raise ConfigError(
                f"data: the chief's embedded synthetic data {root!r} is not visible to this "
                "worker; give every worker the same shared --run-dir (or the same --data)."
            )
        if not os.path.exists(os.path.join(root, "train", "manifest.json")):
            from sensorlm_keras.data import SyntheticDayGenerator, build_tfrecord_dataset

            if verbose:
                print(
                    f"Generating embedded synthetic data: {config.synthetic_people} people x "
                    f"{config.synthetic_days} days -> {root}",
                    flush=True,
                )
            days = SyntheticDayGenerator().generate(
                config.synthetic_people, config.synthetic_days, seed=config.seed
            )
            build_tfrecord_dataset(
                days, root, salt=f"sensorlm-synthetic-{config.seed}", num_shards=4,
                seed=config.seed, progress=bool(verbose), overwrite=True,
            )
    splits = {}
    for split in ("train", "validation", "test"):
        path = os.path.join(root, split)
        if os.path.exists(os.path.join(path, "manifest.json")):
            splits[split] = (path, DatasetManifest.load(path))
    return root, splits


def _load_tokenizer(config):
    """The chief's tokenizer from the run directory (non-chief workers)."""
    from sensorlm_keras.tokenizers import SensorLMTokenizer

    tok_dir = os.path.join(config.run_dir, "tokenizer")
    if not os.path.exists(os.path.join(tok_dir, "tokenizer.model")):
        raise ConfigError(
            f"tokenizer: the chief's tokenizer {tok_dir!r} is not visible to this worker; give "
            "every worker the same shared --run-dir."
        )
    return SensorLMTokenizer.load(tok_dir, text_length=config.text_length)


def _train_tokenizer(config, train_dir, verbose):
    from sensorlm_keras.data import read_examples
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece

    tok_dir = os.path.join(config.run_dir, "tokenizer")
    if os.path.exists(os.path.join(tok_dir, "tokenizer.model")):
        return _load_tokenizer(config)
    corpus = []
    for example in read_examples(train_dir):
        captions = example["captions"]
        corpus.extend(captions[v] for v in sorted(captions))
    if verbose:
        print(f"Training a SentencePiece tokenizer on {len(corpus)} captions", flush=True)
    proto = train_sentencepiece(corpus, config.vocabulary_size, hard_vocab_limit=False)
    tokenizer = SensorLMTokenizer(proto, text_length=config.text_length)
    tokenizer.save(tok_dir)
    return tokenizer


def train(config, overwrite=False, verbose=1):
    """Train a SensorLM as described by a `TrainConfig`; returns the final `RunArtifacts`
    (None on the non-chief workers of a multi-worker/multi-process run: only the chief, worker
    0, writes the run directory; the others read its data, tokenizer and backup).

    Re-running the same command on the same ``run_dir`` after a crash or kill resumes from the
    last backup (weights, optimizer state and step counter) instead of starting over.
    """
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"train(config): expected a TrainConfig, received {type(config).__name__}.")
    import keras

    from sensorlm_keras.distribute import DistributionPlan
    from sensorlm_keras.training.atomic_backup_and_restore import AtomicBackupAndRestore

    # The strategy first: MultiWorkerMirroredStrategy must exist before any other TF op.
    plan = DistributionPlan(config.strategy, model_parallel_size=config.model_parallel_size)
    if config.batch_size % plan.num_replicas:
        raise ConfigError(
            f"batch_size {config.batch_size} is not divisible by the {plan.num_replicas} "
            f"data-parallel replicas of strategy {config.strategy!r}."
        )
    root, splits, tokenizer = _prepare_inputs(plan, config, overwrite, verbose)
    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    manifest = splits["train"][1]
    with plan.scope():
        model = _build_model(config, manifest, tokenizer)
        # Resume (weights, optimizer state, step) before the data stream is built: every
        # worker restores from the chief's backup (a shared --run-dir); only the chief writes
        # backups. Resume and skipped-backup notices are printed even in quiet mode.
        backup = AtomicBackupAndRestore(os.path.join(config.run_dir, "backup"), verbose=1,
                                        write=plan.is_chief)
        resume_step = backup.restore(model)
    train_ds = _training_dataset(plan, config, splits["train"][0], tokenizer, resume_step)
    start = time.time()
    history = _fit(plan, config, model, train_ds, backup, splits, tokenizer, verbose)
    final_logs = {k: float(v[-1]) for k, v in history.history.items() if v}
    training = {
        "seconds": round(time.time() - start, 1),
        "steps": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "resumed_from_step": backup.restored_step,
        "distribution": plan.describe(),
        "config": config.to_dict(),
        "final_logs": final_logs,
    }
    return _finish(plan, config, model, tokenizer, manifest, root, training, verbose)


def _prepare_inputs(plan, config, overwrite, verbose):
    """``(data root, splits, tokenizer)``. Only the chief writes the run directory: it prepares
    the run, the data and the tokenizer while the other workers wait, then every worker reads
    the same files."""
    if plan.is_chief:
        _prepare_run_dir(config, overwrite)
        root, splits = _resolve_data(config, verbose)
        tokenizer = _train_tokenizer(config, splits["train"][0], verbose)
    plan.barrier()
    if not plan.is_chief:
        root, splits = _resolve_data(config, verbose, generate=False)
        tokenizer = _load_tokenizer(config)
    return root, splits, tokenizer


def _build_model(config, manifest, tokenizer):
    """A fresh compiled model of ``config.preset`` for the dataset's shape and the tokenizer's
    vocabulary (`SensorLMCoCa` for the ``sensorlm_coca_*`` presets)."""
    from sensorlm_keras import SensorLM, SensorLMCoCa
    from sensorlm_keras.models.sensorlm_coca_config import COCA_PRESETS
    from sensorlm_keras.training.optimizer import build_optimizer

    overrides = dict(config.model)
    overrides.setdefault("num_channels", len(manifest.channel_names))
    overrides.setdefault("sequence_length", int(manifest.num_timesteps))
    overrides["vocabulary_size"] = tokenizer.vocabulary_size
    overrides.setdefault("max_text_length", max(config.text_length, 64))
    if "patch_size" in overrides:  # a None side spans the whole axis (e.g. every channel)
        height, width = overrides["patch_size"]
        overrides["patch_size"] = (
            overrides["sequence_length"] if height is None else height,
            overrides["num_channels"] if width is None else width,
        )
    model_class = SensorLMCoCa if config.preset in COCA_PRESETS else SensorLM
    model = model_class.from_preset(config.preset, **overrides)
    model.compile(
        optimizer=build_optimizer(
            model,
            config.steps,
            peak_learning_rate=config.peak_learning_rate,
            weight_decay=config.weight_decay,
            global_clipnorm=config.global_clipnorm,
            warmup_fraction=config.warmup_fraction,
            cooldown_fraction=config.cooldown_fraction,
            timescale=config.timescale,
        )
    )
    return model


def _training_dataset(plan, config, train_dir, tokenizer, resume_step):
    from sensorlm_keras.data import make_dataset

    return plan.shard_dataset(make_dataset(
        train_dir, tokenizer, config.batch_size, variant=config.caption_variant,
        text_length=config.text_length, shuffle_buffer=config.shuffle_buffer, seed=config.seed,
        repeat=True, drop_remainder=True,
        # A resumed run continues the same seeded stream after the batches the interrupted
        # run trained on, so it ends with the weights of an uninterrupted run.
        skip_batches=resume_step,
    ))


def _epoch_validation(plan, config, splits, tokenizer):
    """An `EpochValidation` callback on the validation split, or None without one."""
    from sensorlm_keras.data import make_dataset
    from sensorlm_keras.training.epoch_validation import EpochValidation

    if "validation" not in splits or splits["validation"][1].num_examples < 2:
        return None
    val_dir, val_manifest = splits["validation"]
    val_batch = min(config.batch_size, val_manifest.num_examples)

    def validation_dataset():
        return plan.shard_dataset(make_dataset(
            val_dir, tokenizer, val_batch, variant=config.caption_variant,
            text_length=config.text_length, drop_remainder=True,
        ))

    # A fresh validation dataset every epoch (not fit's validation_data, whose cached
    # iterator stalled training by 13-60 s per epoch: see EpochValidation).
    return EpochValidation(validation_dataset, steps=val_manifest.num_examples // val_batch)


def _callbacks(plan, config, backup, guard, validation):
    """Validation first (the others see its val_* logs), backup, NaN guard, checkpoints and
    TensorBoard. Only the chief writes; the others join the chief's checkpoint saves."""
    import keras

    from sensorlm_keras.training.periodic_checkpoint import PeriodicCheckpoint

    callbacks = [backup, guard]
    if validation is not None:
        callbacks.insert(0, validation)
    callbacks.append(PeriodicCheckpoint(os.path.join(config.run_dir, "checkpoints"),
                                        keep=config.keep_checkpoints, write=plan.is_chief))
    if config.tensorboard and plan.is_chief:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(config.run_dir, "logs"),
                                                     update_freq="epoch"))
    return callbacks


def _fit(plan, config, model, train_ds, backup, splits, tokenizer, verbose):
    """``model.fit`` over ``config.steps`` steps in checkpoint-sized epochs; a lost worker or a
    non-finite loss ends it with one clear error."""
    import keras

    from sensorlm_keras.training.non_finite_loss_guard import NonFiniteLossGuard

    guard = NonFiniteLossGuard()
    validation = _epoch_validation(plan, config, splits, tokenizer)
    callbacks = _callbacks(plan, config, backup, guard, validation)
    if verbose:
        print(
            f"Training {config.preset} ({model.count_params():,} parameters, "
            f"{model.config.num_sensor_tokens} sensor tokens) on "
            f"{splits['train'][1].num_examples} examples, backend {keras.backend.backend()}: "
            f"{config.steps} steps of batch {config.batch_size}, checkpoint every "
            f"{config.steps_per_checkpoint} steps, {plan.describe()}.",
            flush=True,
        )
    try:
        history = model.fit(
            train_ds,
            epochs=-(-config.steps // config.steps_per_checkpoint),
            steps_per_epoch=config.steps_per_checkpoint,
            shuffle=False,
            callbacks=callbacks,
            verbose=verbose,
        )
    except Exception as error:
        reason = plan.lost_worker(error)
        if reason is None:
            raise
        raise WorkerLostError(_lost_worker_message(plan, reason, backup)) from None
    if guard.failed_step is not None:
        last = backup._weights_path if os.path.exists(backup._weights_path) else None
        raise TrainingDivergedError(
            f"training stopped: the loss became {guard.failed_loss} at optimizer step "
            f"{guard.failed_step}. The last good backup is "
            f"{last or 'none (it failed before the first backup)'}; lower the learning rate or "
            "check the data, then run the same command again to resume from it."
        )
    return history


def _finish(plan, config, model, tokenizer, manifest, root, training, verbose):
    """The chief saves the run directory and returns it loaded; the others join the chief's
    final save (see `discard_save`), keep nothing and return None."""
    from sensorlm_keras.data import ChannelSchema
    from sensorlm_keras.runs import load_run, save_run
    from sensorlm_keras.training.atomic_backup_and_restore import discard_save

    if not plan.is_chief:
        discard_save(model.save, ".keras")
        plan.release()
        if verbose:
            print(f"Worker {plan.worker_index} of {plan.num_workers} finished; the chief writes "
                  f"the run directory {config.run_dir}.", flush=True)
        return None
    if manifest.extra.get("channels"):  # the dataset's own normalisation (labelled windows)
        schema = ChannelSchema.from_config(manifest.extra["channels"])
    else:
        schema = ChannelSchema.default()
        if list(manifest.channel_names) != list(schema.names):
            schema = schema.select(manifest.channel_names)
    save_run(config.run_dir, model, tokenizer, schema, text_length=config.text_length,
             caption_variant=config.caption_variant, training=training,
             metrics=training["final_logs"],
             zero_shot_templates=manifest.extra.get("zero_shot_templates"))
    plan.release()
    run = load_run(config.run_dir)
    run.config["data_root"] = root
    return run
