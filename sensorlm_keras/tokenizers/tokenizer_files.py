"""The files of a saved `SensorLMTokenizer`, read with size limits and written atomically.

A tokenizer directory holds ``tokenizer.model`` (the serialized SentencePiece model) and
``tokenizer.json`` (its config). Both may come from untrusted places, so their sizes are
checked before anything is read, and the model must have the id layout of `train_sentencepiece`.
"""

import json
import os

from sensorlm_keras.errors import ConfigError, describe
from sensorlm_keras.tokenizers.train_sentencepiece import EOS_ID, PAD_ID
from sensorlm_keras.utils.atomic_io import atomic_write_bytes, atomic_write_text

MODEL_FILENAME = "tokenizer.model"
CONFIG_FILENAME = "tokenizer.json"
FORMAT_VERSION = 1
# A 32k-piece SentencePiece model is ~0.8 MB; larger files are refused before being read.
MAX_MODEL_BYTES = 64 * 2**20
MAX_CONFIG_BYTES = 2**20


def read_model_proto(proto):
    """The model bytes of ``proto``: bytes, or the path of a ``.model`` file (size-limited)."""
    if isinstance(proto, (str, os.PathLike)):
        path = os.fspath(proto)
        if not os.path.isfile(path):
            raise ConfigError(
                f"SensorLMTokenizer(proto): expected model bytes or an existing .model file, "
                f"received the path {path!r} which does not exist."
            )
        proto = _read_limited(path, MAX_MODEL_BYTES, "SensorLMTokenizer(proto)",
                              "a SentencePiece model")
    if isinstance(proto, (bytes, bytearray)) and len(proto) > MAX_MODEL_BYTES:
        raise ConfigError(
            f"SensorLMTokenizer(proto): {len(proto)} bytes, more than the {MAX_MODEL_BYTES}-"
            "byte limit for a SentencePiece model."
        )
    if not isinstance(proto, (bytes, bytearray)) or not proto:
        raise ConfigError(
            f"SensorLMTokenizer(proto): expected non-empty bytes, received {describe(proto)}."
        )
    return bytes(proto)


def load_processor(proto):
    """A ``sentencepiece.SentencePieceProcessor`` of the model bytes (``<pad>``=0, ``</s>``=1)."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor()
    try:
        processor.LoadFromSerializedProto(proto)
    except Exception as error:  # sentencepiece raises RuntimeError / OSError
        raise ConfigError(
            "SensorLMTokenizer(proto): the bytes are not a valid SentencePiece model "
            f"({error})."
        ) from None
    pieces = [processor.id_to_piece(i) for i in range(min(2, processor.get_piece_size()))]
    if (
        processor.get_piece_size() < 3
        or processor.pad_id() != PAD_ID
        or processor.eos_id() != EOS_ID
    ):
        raise ConfigError(
            "SensorLMTokenizer(proto): expected a model with <pad>=0 and </s>=1 (as written "
            f"by train_sentencepiece), received pad_id={processor.pad_id()}, "
            f"eos_id={processor.eos_id()}, first pieces {pieces}."
        )
    return processor


def write_tokenizer_files(directory, proto, config):
    """Write ``tokenizer.model`` and ``tokenizer.json`` into ``directory`` atomically."""
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigError(
            f"SensorLMTokenizer.save(directory): expected a directory, received the file "
            f"{directory!r}."
        )
    os.makedirs(directory, exist_ok=True)
    atomic_write_bytes(os.path.join(directory, MODEL_FILENAME), proto)
    atomic_write_text(
        os.path.join(directory, CONFIG_FILENAME), json.dumps(config, indent=2) + "\n"
    )
    return directory


def read_tokenizer_config(directory):
    """``(config, model_path)`` of a saved tokenizer directory (the config checked)."""
    directory = os.fspath(directory)
    config_path = os.path.join(directory, CONFIG_FILENAME)
    model_path = os.path.join(directory, MODEL_FILENAME)
    for path in (config_path, model_path):
        if not os.path.isfile(path):
            raise ConfigError(
                f"SensorLMTokenizer.load(directory): expected {os.path.basename(path)} in "
                f"{directory!r}, it does not exist."
            )
    text = _read_limited(config_path, MAX_CONFIG_BYTES, "SensorLMTokenizer.load",
                         "a tokenizer config")
    try:
        config = json.loads(text.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ConfigError(
            f"SensorLMTokenizer.load: {config_path} is not valid JSON ({error})."
        ) from None
    if not isinstance(config, dict):
        raise ConfigError(
            f"SensorLMTokenizer.load: {config_path}: expected a JSON object, received "
            f"{describe(config)}."
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"SensorLMTokenizer.load: {config_path}: expected format_version "
            f"{FORMAT_VERSION}, received {config.get('format_version')!r}."
        )
    return config, model_path


def _read_limited(path, limit, field, what):
    """The bytes of ``path``, refused unread when the file is larger than ``limit``."""
    size = os.path.getsize(path)
    if size > limit:
        raise ConfigError(
            f"{field}: {path!r} is {size} bytes, more than the {limit}-byte limit for {what} "
            "(refused unread)."
        )
    with open(path, "rb") as f:
        return f.read(limit + 1)
