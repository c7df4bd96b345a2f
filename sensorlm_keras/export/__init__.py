"""Export of a trained SensorLM run to a TensorFlow SavedModel for TensorFlow Serving.

`export_saved_model(run_dir, "saved_models")` writes ``saved_models/sensorlm/<version>/`` with
the signatures ``embed_sensor`` (= ``serving_default``), ``embed_sensor_masked``,
``embed_text``, ``embed_text_ids``, ``tokenize``, ``score``, ``zero_shot``,
``zero_shot_templates`` and ``metadata``. TensorFlow is imported only when an export runs; a
process on the JAX or PyTorch backend exports through a TensorFlow subprocess. See
``README.md`` in this package for the serving contract.
"""

from sensorlm_keras.export.saved_model import (
    METADATA_FILENAME,
    TOKENIZER_ASSET_FILENAME,
    ExportError,
    ExportExistsError,
    ExportResult,
    existing_versions,
    export_saved_model,
    next_version,
)

# Signature names and the built-in zero-shot prompts (importing serving_module imports Keras
# but not TensorFlow).
SIGNATURE_NAMES = (
    "embed_sensor",
    "embed_sensor_masked",
    "embed_text",
    "embed_text_ids",
    "tokenize",
    "score",
    "zero_shot",
    "zero_shot_templates",
    "metadata",
)

__all__ = [
    "METADATA_FILENAME",
    "SIGNATURE_NAMES",
    "TOKENIZER_ASSET_FILENAME",
    "ExportError",
    "ExportExistsError",
    "ExportResult",
    "existing_versions",
    "export_saved_model",
    "next_version",
]
