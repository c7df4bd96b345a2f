"""`export_saved_model`: a trained SensorLM run -> a TensorFlow SavedModel for TF Serving.

The export is written to ``<export_base>/<name>/<version>/`` (the layout TensorFlow Serving
watches: it serves the highest integer version). It is built in a hidden temporary directory
next to the target and renamed into place, so a reader never sees a half-written version.

The serving graph needs the TensorFlow backend. A run trained and saved on any backend can be
exported: when the current process runs JAX or PyTorch, the export runs in a fresh Python
subprocess with ``KERAS_BACKEND=tensorflow`` that reloads the run's ``model.keras``.
"""

import json
import os

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.export import publish
from sensorlm_keras.export.errors import ExportError
from sensorlm_keras.export.export_result import ExportResult
from sensorlm_keras.export.metadata import (
    METADATA_FILENAME,
    TOKENIZER_ASSET_FILENAME,
    build_metadata,
)
from sensorlm_keras.export.versions import resolve_target
from sensorlm_keras.utils.validation import check_positive_int


def export_saved_model(
    run_dir_or_run,
    export_base,
    name="sensorlm",
    version=None,
    overwrite=False,
    max_batch_size=256,
    max_text_length_chars=20000,
):
    """Export a trained SensorLM run as a TensorFlow SavedModel with named signatures.

    Signatures (inputs -> outputs; ``B`` sensor rows, ``N`` texts, ``K`` classes, ``D``
    embedding width; see ``sensorlm_keras/export/README.md``):

    - ``embed_sensor`` (also ``serving_default``): ``sensor`` float32 ``(B, T, C)`` z-scores ->
      ``sensor_embeddings`` ``(B, D)``.
    - ``embed_sensor_masked``: ``sensor`` + ``sensor_mask`` bool ``(B, T, C)`` (True = missing;
      those cells may hold anything, NaN included) -> missing cells are imputed over time
      exactly as in training -> ``sensor_embeddings``.
    - ``embed_text``: ``texts`` string ``(N,)``, tokenised in the graph (tensorflow-text
      SentencePiece; same ids as `SensorLMTokenizer`) -> ``text_embeddings`` ``(N, D)``.
    - ``embed_text_ids``: ``token_ids`` int32 ``(N, L)`` + ``padding_mask`` bool ``(N, L)``
      (True = real token) -> ``text_embeddings``.
    - ``tokenize``: ``texts`` -> ``token_ids``, ``padding_mask``.
    - ``score``: ``sensor`` + ``texts`` -> ``logits`` and ``probabilities`` ``(B, N)`` (sigmoid;
      softmax over texts for a CLIP-loss model).
    - ``zero_shot``: ``sensor`` + ``class_names`` ``(K,)`` -> ``probabilities``, ``logits``,
      ``class_distribution`` (softmax over classes) ``(B, K)``, ``predicted_index`` int32
      ``(B,)``, ``predicted_class`` string ``(B,)``; built-in prompt templates are ensembled.
    - ``zero_shot_templates``: same plus ``prompt_templates`` ``(P,)`` (each with one ``{}``).
    - ``metadata``: no inputs -> preprocessing constants, tokenizer proto and export JSON.

    Serving limits are checked inside the graph (readable ``INVALID_ARGUMENT`` errors): batch
    sizes in ``[1, max_batch_size]``, texts of at most ``max_text_length_chars`` characters,
    sensor shape ``(B, T, C)`` of the model, finite sensor values.

    Args:
        run_dir_or_run: a run directory (``model.keras``, ``tokenizer/``, ``run_config.json``)
            or a `RunArtifacts` from `load_run`. Outside the TensorFlow backend the run is
            re-read from its directory by the export subprocess (in-memory changes to a
            `RunArtifacts` model are not seen there).
        export_base: base directory; the export goes to ``<export_base>/<name>/<version>``.
        name: model name (TF Serving's ``MODEL_NAME``).
        version: integer version; ``None`` = highest existing + 1 (1 for a new model).
        overwrite: replace an existing version directory (atomically: the old one is renamed
            aside, the new one renamed in, then the old one deleted).
        max_batch_size: serving limit on sensor rows, texts and class names per request.
        max_text_length_chars: serving limit on the length of one text, in characters.

    Returns:
        `ExportResult` (``path``, ``name``, ``version``, ``signatures``, ``metadata``).

    Raises:
        ExportExistsError: the version directory exists and ``overwrite`` is False.
        ConfigError: bad arguments or not a run directory.
        ExportError: the export subprocess failed.

    Example:

    ```python
    from sensorlm_keras.export import export_saved_model

    result = export_saved_model("runs/base", "saved_models")
    result.path          # '.../saved_models/sensorlm/1'
    ```
    """
    run_dir = _run_directory(run_dir_or_run)
    _check_run_directory(run_dir)
    options = dict(
        export_base=os.path.abspath(os.fspath(export_base)),
        name=name,
        version=version,
        overwrite=bool(overwrite),
        max_batch_size=check_positive_int(max_batch_size, "max_batch_size"),
        max_text_length_chars=check_positive_int(max_text_length_chars, "max_text_length_chars"),
    )
    resolve_target(export_base, name, version, options["overwrite"])  # fail fast, nothing written

    import keras

    if keras.backend.backend() == "tensorflow":
        return _export_in_process(run_dir_or_run, **options)
    from sensorlm_keras.export._worker import export_in_subprocess  # not at import: `-m` runs it

    return export_in_subprocess(os.path.abspath(run_dir), **options)


def _run_directory(run_dir_or_run):
    from sensorlm_keras.runs.run_artifacts import RunArtifacts

    if isinstance(run_dir_or_run, RunArtifacts):
        return run_dir_or_run.directory
    if isinstance(run_dir_or_run, (str, os.PathLike)):
        return os.fspath(run_dir_or_run)
    raise ConfigError(
        "export_saved_model(run_dir_or_run): expected a run directory or a RunArtifacts from "
        f"load_run, received {type(run_dir_or_run).__name__}."
    )


def _check_run_directory(run_dir):
    """Cheap check (no model load) that ``run_dir`` looks like a run written by `save_run`."""
    from sensorlm_keras.runs import run_artifacts

    if not os.path.isdir(run_dir):
        raise ConfigError(f"export: run directory {run_dir!r} does not exist.")
    for entry in (
        run_artifacts.MODEL_FILENAME,
        run_artifacts.TOKENIZER_DIRNAME,
        run_artifacts.CONFIG_FILENAME,
    ):
        if not os.path.exists(os.path.join(run_dir, entry)):
            raise ConfigError(
                f"export: {run_dir!r} is not a SensorLM run directory: {entry!r} is missing."
            )


def _write_assets(assets_dir, run, metadata):
    """The two asset files -> ``{"metadata": path, "tokenizer": path}``."""
    from sensorlm_keras.utils.atomic_io import atomic_write_bytes, atomic_write_text

    paths = {
        "metadata": os.path.join(assets_dir, METADATA_FILENAME),
        "tokenizer": os.path.join(assets_dir, TOKENIZER_ASSET_FILENAME),
    }
    atomic_write_text(paths["metadata"], json.dumps(metadata, indent=2) + "\n")
    atomic_write_bytes(paths["tokenizer"], run.tokenizer.proto)
    return paths


def _export_in_process(
    run_dir_or_run, export_base, name, version, overwrite, max_batch_size, max_text_length_chars
):
    import tensorflow as tf

    from sensorlm_keras.export.serving_module import ServingModule
    from sensorlm_keras.models import sensorlm as _registers_classes  # noqa: F401 (load_run)
    from sensorlm_keras.runs.run_artifacts import RunArtifacts, load_run

    run = run_dir_or_run if isinstance(run_dir_or_run, RunArtifacts) else load_run(run_dir_or_run)
    model_dir, version, final = resolve_target(export_base, name, version, overwrite)
    metadata = build_metadata(run, name, version, max_batch_size, max_text_length_chars)
    with publish.staged_version(model_dir, version) as (savedmodel_dir, assets_dir):
        module = ServingModule(
            run.model, run.tokenizer, run.schema, _write_assets(assets_dir, run, metadata),
            max_batch_size=max_batch_size, max_text_length_chars=max_text_length_chars,
            z_clip=metadata["sensor"]["z_clip"],
            prompt_templates=metadata["zero_shot"]["default_prompt_templates"],
        )
        signatures = module.serving_signatures()
        tf.saved_model.save(module, savedmodel_dir, signatures=signatures)
        for asset in (METADATA_FILENAME, TOKENIZER_ASSET_FILENAME):
            if not os.path.isfile(os.path.join(savedmodel_dir, "assets", asset)):
                raise ExportError(f"export: the SavedModel lacks assets/{asset}.")
        publish.install(savedmodel_dir, final, overwrite)
    return ExportResult(
        path=final,
        name=name,
        version=int(version),
        signatures=("serving_default",) + tuple(n for n in signatures if n != "serving_default"),
        metadata=metadata,
    )
