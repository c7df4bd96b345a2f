"""`export_saved_model`: a trained SensorLM run -> a TensorFlow SavedModel for TF Serving.

The export is written to ``<export_base>/<name>/<version>/`` (the layout TensorFlow Serving
watches: it serves the highest integer version). It is built in a hidden temporary directory
next to the target and renamed into place, so a reader never sees a half-written version.

The serving graph needs the TensorFlow backend. A run trained and saved on any backend can be
exported: when the current process runs JAX or PyTorch, the export runs in a fresh Python
subprocess with ``KERAS_BACKEND=tensorflow`` that reloads the run's ``model.keras``.
"""

import dataclasses
import inspect
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile

from sensorlm_keras.errors import ConfigError, SensorLMError

EXPORT_FORMAT_VERSION = 1
METADATA_FILENAME = "sensorlm_export.json"
TOKENIZER_ASSET_FILENAME = "tokenizer.model"
WORKER_ENV = "SENSORLM_EXPORT_WORKER"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExportError(SensorLMError):
    """The export could not be written (the target is left as it was)."""


class ExportExistsError(ExportError, FileExistsError):
    """The export version directory already exists and ``overwrite`` was not requested."""


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What `export_saved_model` wrote.

    Attributes:
        path: absolute path of the version directory ``<export_base>/<name>/<version>``.
        name: the model name (TF Serving's ``MODEL_NAME``).
        version: the integer version.
        signatures: signature names of the SavedModel (``serving_default`` included).
        metadata: the content of ``assets/sensorlm_export.json``.
    """

    path: str
    name: str
    version: int
    signatures: tuple
    metadata: dict

    def __fspath__(self):
        return self.path


# ---------------------------------------------------------------------------- arguments
def _check_positive_int(value, field, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{field}: expected an integer >= {minimum}, received {value!r}.")
    return int(value)


def _check_name(name):
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"name: expected a directory name of letters, digits, '_', '-' or '.' (not starting "
            f"with '.' or '-'), received {name!r}."
        )
    return name


def existing_versions(model_dir):
    """Integer version directories present in ``model_dir`` (sorted)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(entry)
        for entry in os.listdir(model_dir)
        if entry.isdigit() and os.path.isdir(os.path.join(model_dir, entry))
    )


def next_version(export_base, name="sensorlm"):
    """The next free version of ``<export_base>/<name>``: highest existing + 1, or 1."""
    versions = existing_versions(os.path.join(os.fspath(export_base), _check_name(name)))
    return versions[-1] + 1 if versions else 1


def _resolve_target(export_base, name, version, overwrite):
    """-> ``(model_dir, version, final_path)``; raises if the version exists without overwrite."""
    export_base = os.path.abspath(os.fspath(export_base))
    name = _check_name(name)
    model_dir = os.path.join(export_base, name)
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ConfigError(f"export: {model_dir!r} exists and is not a directory.")
    if version is None:
        version = next_version(export_base, name)
    version = _check_positive_int(version, "version", minimum=0)
    final = os.path.join(model_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ExportExistsError(
            f"export: {final!r} already exists; choose another version, omit the version to use "
            f"the next free one ({next_version(export_base, name)}), or pass overwrite=True "
            "(--overwrite)."
        )
    return model_dir, version, final


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


# ---------------------------------------------------------------------------- public API
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
    max_batch_size = _check_positive_int(max_batch_size, "max_batch_size")
    max_text_length_chars = _check_positive_int(max_text_length_chars, "max_text_length_chars")
    overwrite = bool(overwrite)
    _resolve_target(export_base, name, version, overwrite)  # fail fast, nothing written

    import keras

    backend = keras.backend.backend()
    kwargs = dict(
        export_base=os.path.abspath(os.fspath(export_base)),
        name=name,
        version=version,
        overwrite=overwrite,
        max_batch_size=max_batch_size,
        max_text_length_chars=max_text_length_chars,
    )
    if backend == "tensorflow":
        return _export_in_process(run_dir_or_run, **kwargs)
    if os.environ.get(WORKER_ENV):
        raise ExportError(
            f"export worker: expected the TensorFlow backend, running {backend!r}; check that "
            "KERAS_BACKEND is not overridden by a keras.json in the worker's environment."
        )
    return _export_in_subprocess(os.path.abspath(run_dir), **kwargs)


# ---------------------------------------------------------------------------- subprocess
def _error_classes():
    from sensorlm_keras import errors

    classes = {
        name: obj
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, Exception)
    }
    classes.update(ExportError=ExportError, ExportExistsError=ExportExistsError)
    for builtin in (FileExistsError, FileNotFoundError, NotADirectoryError, PermissionError,
                    OSError, ValueError, TypeError):
        classes[builtin.__name__] = builtin
    return classes


def _raise_if_failed(result):
    """Re-raise the error reported by the export worker as the same class where known."""
    if result.get("ok"):
        return
    cls = _error_classes().get(result.get("type"))
    if cls is None:
        raise ExportError(
            f"export (TensorFlow subprocess): {result.get('type')}: {result.get('message')}\n"
            f"{result.get('traceback', '')}"
        )
    raise cls(result.get("message", ""))


def _export_in_subprocess(run_dir, **kwargs):
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "tensorflow"
    env[WORKER_ENV] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    with tempfile.TemporaryDirectory(prefix="sensorlm-export-") as work:
        request_path = os.path.join(work, "request.json")
        result_path = os.path.join(work, "result.json")
        with open(request_path, "w", encoding="utf-8") as f:
            json.dump(dict(kwargs, run_dir=run_dir), f)
        proc = subprocess.run(
            [sys.executable, "-m", "sensorlm_keras.export._worker", request_path, result_path],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        result = None
        if os.path.isfile(result_path):
            with open(result_path, encoding="utf-8") as f:
                result = json.load(f)
    if result is None:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-15:]
        raise ExportError(
            f"export: the TensorFlow export subprocess exited with code {proc.returncode} "
            "without a result:\n" + "\n".join(tail)
        )
    _raise_if_failed(result)
    out = result["result"]
    return ExportResult(
        path=out["path"],
        name=out["name"],
        version=int(out["version"]),
        signatures=tuple(out["signatures"]),
        metadata=out["metadata"],
    )


# ---------------------------------------------------------------------------- in process
def _z_clip(config):
    from sensorlm_keras.data.preprocessing import preprocess_days

    default = inspect.signature(preprocess_days).parameters["clip"].default
    for section in (config.get("preprocessing"), config.get("training")):
        if isinstance(section, dict) and "clip" in section:
            return section["clip"]
    return default


def build_metadata(run, name, version, max_batch_size, max_text_length_chars):
    """The JSON description written to ``assets/sensorlm_export.json``."""
    import keras
    import numpy as np
    import tensorflow as tf
    import tensorflow_text

    from sensorlm_keras import __version__
    from sensorlm_keras.data.preprocessing import PLAUSIBLE_RANGES
    from sensorlm_keras.data.captions.zero_shot_prompts import DEFAULT_PROMPT_TEMPLATES
    from sensorlm_keras.export.serving_module import (
        DEFAULT_SIGNATURE,
        MAX_PROMPT_TEMPLATES,
        SIGNATURES,
    )

    model, tokenizer, schema = run.model, run.tokenizer, run.schema
    cfg = model.config
    z_clip = _z_clip(run.config)
    scale = float(np.asarray(keras.ops.convert_to_numpy(model.logit_scale)))
    bias = float(np.asarray(keras.ops.convert_to_numpy(model.logit_bias)))
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "name": name,
        "version": int(version),
        "exported_by": f"sensorlm_keras {__version__}",
        "tensorflow_version": tf.__version__,
        "tensorflow_text_version": getattr(tensorflow_text, "__version__", None),
        "custom_ops": ["SentencepieceOp", "SentencepieceTokenizeOp"],
        "source_run": os.path.abspath(run.directory),
        "source_backend": run.config.get("backend"),
        "model_config": cfg.to_dict(),
        "loss_type": model.loss_type,
        "logit_scale": scale,
        "temperature": float(np.exp(scale)),
        "logit_bias": bias if model.loss_type == "sigmoid" else None,
        "sensor": {
            "layout": "(batch, minutes, channels)",
            "sequence_length": int(cfg.sequence_length),
            "num_channels": int(cfg.num_channels),
            "dtype": "float32",
            "normalization": (
                "missing = non-finite or outside plausible_ranges; z = (raw - mean) / std; "
                "z clipped to [-z_clip, z_clip]; missing cells imputed over time (linear "
                "interpolation, then edge fill, then 0). embed_sensor expects the imputed "
                "z-scores; embed_sensor_masked does the imputation itself from sensor_mask."
            ),
            "z_clip": z_clip,
            "channels": schema.to_config(),
            "channel_names": list(schema.names),
            "means": [float(v) for v in schema.means],
            "stds": [float(v) for v in schema.stds],
            "non_negative": [bool(v) for v in schema.non_negative],
            "plausible_ranges": {
                n: list(PLAUSIBLE_RANGES[n]) for n in schema.names if n in PLAUSIBLE_RANGES
            },
        },
        "text": {
            "text_length": int(tokenizer.sequence_length),
            "max_text_length": int(cfg.max_text_length),
            "vocabulary_size": int(tokenizer.vocabulary_size),
            "lowercase": bool(tokenizer.lowercase),
            "pad_id": int(tokenizer.pad_id),
            "eos_id": int(tokenizer.eos_id),
            "tokenizer_asset": TOKENIZER_ASSET_FILENAME,
            "tokenization": "lower-case (if lowercase), SentencePiece ids, truncate to "
            "text_length - 1 pieces, append eos_id, pad with pad_id to text_length",
        },
        "limits": {
            "max_batch_size": int(max_batch_size),
            "max_text_length_chars": int(max_text_length_chars),
            "max_prompt_templates": MAX_PROMPT_TEMPLATES,
        },
        "zero_shot": {
            "default_prompt_templates": list(DEFAULT_PROMPT_TEMPLATES),
            "placeholder": "{}",
            "ensembling": "mean of the L2-normalised prompt embeddings of a class, L2-normalised",
        },
        "signatures": dict(SIGNATURES),
        "serving_default": DEFAULT_SIGNATURE,
    }


def _export_in_process(
    run_dir_or_run, export_base, name, version, overwrite, max_batch_size, max_text_length_chars
):
    import tensorflow as tf

    from sensorlm_keras.utils.atomic_io import atomic_write_bytes, atomic_write_text
    from sensorlm_keras.export.serving_module import build_serving_module
    from sensorlm_keras.models import sensorlm as _registers_classes  # noqa: F401 (load_run)
    from sensorlm_keras.runs.run_artifacts import RunArtifacts, load_run

    run = run_dir_or_run if isinstance(run_dir_or_run, RunArtifacts) else load_run(run_dir_or_run)
    model_dir, version, final = _resolve_target(export_base, name, version, overwrite)
    os.makedirs(model_dir, exist_ok=True)
    from sensorlm_keras.utils.atomic_io import remove_stale_temporaries

    remove_stale_temporaries(model_dir)  # left by an export that was killed
    token = f"{version}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp = os.path.join(model_dir, f".tmp-export-{token}")
    staging = os.path.join(model_dir, f".tmp-assets-{token}")
    metadata = build_metadata(run, name, version, max_batch_size, max_text_length_chars)
    try:
        os.makedirs(staging)
        metadata_path = os.path.join(staging, METADATA_FILENAME)
        tokenizer_path = os.path.join(staging, TOKENIZER_ASSET_FILENAME)
        atomic_write_text(metadata_path, json.dumps(metadata, indent=2) + "\n")
        atomic_write_bytes(tokenizer_path, run.tokenizer.proto)
        module, signatures = build_serving_module(
            run.model,
            run.tokenizer,
            run.schema,
            metadata,
            {"metadata": metadata_path, "tokenizer": tokenizer_path},
            max_batch_size=max_batch_size,
            max_text_length_chars=max_text_length_chars,
            z_clip=metadata["sensor"]["z_clip"],
        )
        tf.saved_model.save(module, tmp, signatures=signatures)
        for asset in (METADATA_FILENAME, TOKENIZER_ASSET_FILENAME):
            if not os.path.isfile(os.path.join(tmp, "assets", asset)):
                raise ExportError(f"export: the SavedModel lacks assets/{asset}.")
        _install(tmp, final, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(
        path=final,
        name=name,
        version=int(version),
        signatures=("serving_default",) + tuple(n for n in signatures if n != "serving_default"),
        metadata=metadata,
    )


def _install(tmp, final, overwrite):
    """Rename the finished directory ``tmp`` to ``final``.

    Without ``overwrite`` an existing ``final`` raises `ExportExistsError` (``tmp`` is left for
    the caller to delete). With ``overwrite`` the old directory is renamed aside, ``tmp`` renamed
    in, and the old one deleted; if the second rename fails the old one is put back.
    """
    from sensorlm_keras.utils.atomic_io import fsync_directory

    parent = os.path.dirname(final)
    if not os.path.exists(final):
        os.rename(tmp, final)
    elif not overwrite:
        raise ExportExistsError(
            f"export: {final!r} appeared while exporting; pass overwrite=True to replace it."
        )
    else:
        aside = os.path.join(parent, f".old-{os.path.basename(final)}-{secrets.token_hex(4)}")
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(aside, final)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    fsync_directory(parent)
