"""The export description written to ``assets/sensorlm_export.json`` (and served by the
``metadata`` signature): what a client needs to prepare inputs and read outputs."""

import inspect
import os

from sensorlm_keras.export.signatures import (
    DEFAULT_SIGNATURE,
    MAX_PROMPT_TEMPLATES,
    PLACEHOLDER,
    SIGNATURES,
)

EXPORT_FORMAT_VERSION = 1
METADATA_FILENAME = "sensorlm_export.json"
TOKENIZER_ASSET_FILENAME = "tokenizer.model"

_SENSOR_NORMALIZATION = (
    "missing = non-finite or outside plausible_ranges; z = (raw - mean) / std; z clipped to "
    "[-z_clip, z_clip]; missing cells imputed over time (linear interpolation, then edge fill, "
    "then 0). embed_sensor expects the imputed z-scores; embed_sensor_masked does the "
    "imputation itself from sensor_mask."
)
_TOKENIZATION = (
    "lower-case (if lowercase), SentencePiece ids, truncate to text_length - 1 pieces, append "
    "eos_id, pad with pad_id to text_length"
)


def z_clip(run_config):
    """The z-score clip the run was trained with (its config, else `preprocess_days`' default)."""
    from sensorlm_keras.data.preprocessing import preprocess_days

    for section in (run_config.get("preprocessing"), run_config.get("training")):
        if isinstance(section, dict) and "clip" in section:
            return section["clip"]
    return inspect.signature(preprocess_days).parameters["clip"].default


def _sensor_section(model_config, schema, clip):
    from sensorlm_keras.data.preprocessing import PLAUSIBLE_RANGES

    return {
        "layout": "(batch, time steps, channels)",
        "sequence_length": int(model_config.sequence_length),
        "num_channels": int(model_config.num_channels),
        "dtype": "float32",
        "normalization": _SENSOR_NORMALIZATION,
        "z_clip": clip,
        "channels": schema.to_config(),
        "channel_names": list(schema.names),
        "means": [float(v) for v in schema.means],
        "stds": [float(v) for v in schema.stds],
        "non_negative": [bool(v) for v in schema.non_negative],
        "plausible_ranges": {
            n: list(PLAUSIBLE_RANGES[n]) for n in schema.names if n in PLAUSIBLE_RANGES
        },
    }


def _text_section(model_config, tokenizer):
    return {
        "text_length": int(tokenizer.text_length),
        "max_text_length": int(model_config.max_text_length),
        "vocabulary_size": int(tokenizer.vocabulary_size),
        "lowercase": bool(tokenizer.lowercase),
        "pad_id": int(tokenizer.pad_id),
        "eos_id": int(tokenizer.eos_id),
        "tokenizer_asset": TOKENIZER_ASSET_FILENAME,
        "tokenization": _TOKENIZATION,
    }


def _versions():
    import tensorflow as tf
    import tensorflow_text

    from sensorlm_keras import __version__

    return {
        "exported_by": f"sensorlm_keras {__version__}",
        "tensorflow_version": tf.__version__,
        "tensorflow_text_version": getattr(tensorflow_text, "__version__", None),
        "custom_ops": ["SentencepieceOp", "SentencepieceTokenizeOp"],
    }


def build_metadata(run, name, version, max_batch_size, max_text_length_chars):
    """The JSON description written to ``assets/sensorlm_export.json``.

    Args:
        run: the `RunArtifacts` being exported.
        name, version: where the export goes (``<name>/<version>``).
        max_batch_size, max_text_length_chars: the serving limits.
    """
    import keras
    import numpy as np

    from sensorlm_keras.data.captions.zero_shot_prompts import run_prompt_templates

    model, cfg = run.model, run.model.config
    scale = float(keras.ops.convert_to_numpy(model.logit_scale))
    bias = float(keras.ops.convert_to_numpy(model.logit_bias))
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "name": name,
        "version": int(version),
        **_versions(),
        "source_run": os.path.abspath(run.directory),
        "source_backend": run.config.get("backend"),
        "model_config": cfg.to_dict(),
        "loss_type": model.loss_type,
        "logit_scale": scale,
        "temperature": float(np.exp(scale)),
        "logit_bias": bias if model.loss_type == "sigmoid" else None,
        "sensor": _sensor_section(cfg, run.schema, z_clip(run.config)),
        "text": _text_section(cfg, run.tokenizer),
        "limits": {
            "max_batch_size": int(max_batch_size),
            "max_text_length_chars": int(max_text_length_chars),
            "max_prompt_templates": MAX_PROMPT_TEMPLATES,
        },
        "zero_shot": {
            "default_prompt_templates": list(run_prompt_templates(run.config)),
            "placeholder": PLACEHOLDER,
            "ensembling": "mean of the L2-normalised prompt embeddings of a class, L2-normalised",
        },
        "signatures": dict(SIGNATURES),
        "serving_default": DEFAULT_SIGNATURE,
    }
