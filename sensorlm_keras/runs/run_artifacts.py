"""A run directory: everything needed to use a trained SensorLM again.

Layout of ``<run_dir>/`` (written by `save_run`, read by `load_run`)::

    model.keras        the trained SensorLM (Keras safe-mode loadable, any backend)
    tokenizer/         tokenizer.model (SentencePiece proto) + tokenizer.json
    run_config.json    {"format_version", "model_config", "channels" (ChannelSchema config:
                        names, means, stds, families, clamps), "text_length",
                        "caption_variant", "backend", "training": {...}, "metrics": {...}}

Each file is written atomically (temporary name, fsync, rename).
"""

import dataclasses
import json
import os
import tempfile

from sensorlm_keras.errors import ConfigError

FORMAT_VERSION = 1
MODEL_FILENAME = "model.keras"
TOKENIZER_DIRNAME = "tokenizer"
CONFIG_FILENAME = "run_config.json"


@dataclasses.dataclass
class RunArtifacts:
    """A loaded run: the model, its tokenizer, its channel schema and the run config dict."""

    model: object
    tokenizer: object
    schema: object
    config: dict
    directory: str

    @property
    def text_length(self):
        return int(self.config.get("text_length", self.tokenizer.text_length))


def save_run(run_dir, model, tokenizer, schema, text_length, caption_variant="high_summary",
             training=None, metrics=None, zero_shot_templates=None):
    """Write ``model.keras``, ``tokenizer/`` and ``run_config.json`` into ``run_dir``
    (``zero_shot_templates``: the training dataset's own templates, e.g. of labelled windows;
    ``None`` = the default ones)."""
    import keras

    from sensorlm_keras.utils.atomic_io import atomic_write_text

    check_tokenizer_matches_model(tokenizer, model)
    if schema.num_channels != model.config.num_channels:
        raise ConfigError(
            f"save_run: the channel schema has {schema.num_channels} channels, the model expects "
            f"{model.config.num_channels}."
        )
    os.makedirs(run_dir, exist_ok=True)
    final = os.path.join(run_dir, MODEL_FILENAME)
    fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".keras", dir=run_dir)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    tokenizer.save(os.path.join(run_dir, TOKENIZER_DIRNAME))
    config = {
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "channels": schema.to_config(),
        "text_length": int(text_length),
        "caption_variant": caption_variant,
        **({"zero_shot_templates": list(zero_shot_templates)} if zero_shot_templates else {}),
        "backend": keras.backend.backend(),
        "training": training or {},
        "metrics": metrics or {},
    }
    atomic_write_text(
        os.path.join(run_dir, CONFIG_FILENAME), json.dumps(config, indent=2, default=float) + "\n"
    )
    return run_dir


def load_run(run_dir, compile=False):
    """Load a run directory written by `save_run` (safe mode; no code is executed).

    Raises:
        ConfigError: missing/invalid files.
        UnsafeFileError: ``model.keras`` would execute code (see `load_keras_model_safely`).
    """
    import sensorlm_keras.models  # noqa: F401  (registers the classes for deserialisation)
    from sensorlm_keras.data.channel_schema import ChannelSchema
    from sensorlm_keras.tokenizers import SensorLMTokenizer
    from sensorlm_keras.runs.safe_model_loading import load_keras_model_safely

    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise ConfigError(f"load_run: run directory {run_dir!r} does not exist.")
    for name in (MODEL_FILENAME, TOKENIZER_DIRNAME, CONFIG_FILENAME):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise ConfigError(
                f"load_run: {run_dir!r} is not a SensorLM run directory: {name!r} is missing."
            )
    config_path = os.path.join(run_dir, CONFIG_FILENAME)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"load_run: cannot read {config_path}: {error}") from None
    if not isinstance(config, dict) or config.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"load_run: {config_path}: expected format_version {FORMAT_VERSION}, received "
            f"{config.get('format_version') if isinstance(config, dict) else config!r}."
        )
    model_path = os.path.join(run_dir, MODEL_FILENAME)
    try:
        model = load_keras_model_safely(model_path, compile=compile)
    except ConfigError as error:
        raise ConfigError(f"load_run: cannot load the run's model {model_path}: {error}") from error
    tokenizer = SensorLMTokenizer.load(
        os.path.join(run_dir, TOKENIZER_DIRNAME), text_length=int(config["text_length"])
    )
    check_tokenizer_matches_model(tokenizer, model)
    schema = ChannelSchema.from_config(config["channels"])
    return RunArtifacts(model=model, tokenizer=tokenizer, schema=schema, config=config,
                        directory=run_dir)


def check_tokenizer_matches_model(tokenizer, model):
    """Raise `ConfigError` if the tokenizer's vocabulary or length does not fit the model."""
    vocab = model.config.vocabulary_size
    if tokenizer.vocabulary_size != vocab:
        raise ConfigError(
            f"tokenizer: vocabulary size {tokenizer.vocabulary_size} does not match the model's "
            f"vocabulary_size {vocab}; use the tokenizer the model was trained with."
        )
    if tokenizer.text_length > model.config.max_text_length:
        raise ConfigError(
            f"tokenizer: text_length {tokenizer.text_length} exceeds the model's "
            f"max_text_length {model.config.max_text_length}."
        )
