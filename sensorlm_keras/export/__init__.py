"""Export of a trained SensorLM run to a TensorFlow SavedModel for TensorFlow Serving.

`export_saved_model(run_dir, "saved_models")` writes ``saved_models/sensorlm/<version>/`` with
the signatures ``embed_sensor`` (= ``serving_default``), ``embed_sensor_masked``,
``embed_text``, ``embed_text_ids``, ``tokenize``, ``score``, ``zero_shot``,
``zero_shot_templates`` and ``metadata``. TensorFlow is imported only when an export runs; a
process on the JAX or PyTorch backend exports through a TensorFlow subprocess. See
``README.md`` in this package for the serving contract and a map of its modules.
"""

from sensorlm_keras.export.errors import ExportError, ExportExistsError
from sensorlm_keras.export.export_result import ExportResult
from sensorlm_keras.export.metadata import METADATA_FILENAME, TOKENIZER_ASSET_FILENAME
from sensorlm_keras.export.saved_model import export_saved_model
from sensorlm_keras.export.signatures import SIGNATURES
from sensorlm_keras.export.versions import existing_versions, next_version

SIGNATURE_NAMES = tuple(SIGNATURES)
"""The signature names in registration order (``serving_default`` is ``embed_sensor``)."""

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
