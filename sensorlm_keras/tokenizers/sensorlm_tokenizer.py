"""`SensorLMTokenizer`: lower-cased SentencePiece ids with EOS, truncation and padding."""

import json
import os

import numpy as np

from sensorlm_keras.utils.atomic_io import atomic_write_bytes, atomic_write_text
from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.tokenizers.train_sentencepiece import EOS_ID, PAD_ID

MODEL_FILENAME = "tokenizer.model"
CONFIG_FILENAME = "tokenizer.json"
FORMAT_VERSION = 1
# A 32k-piece SentencePiece model is ~0.8 MB; larger files are refused before being read.
MAX_MODEL_BYTES = 64 * 2**20
MAX_CONFIG_BYTES = 2**20


MAX_SEQUENCE_LENGTH = 2**16


def _check_length(value, field):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not 1 <= value <= MAX_SEQUENCE_LENGTH
    ):
        raise ConfigError(
            f"{field}: expected an integer in [1, {MAX_SEQUENCE_LENGTH}], received {value!r}."
        )
    return int(value)


class SensorLMTokenizer:
    """Caption tokenizer: lower-case, SentencePiece, append EOS, truncate, pad with 0.

    Wraps keras-hub's ``SentencePieceTokenizer`` (built from the model proto bytes). Output for a
    batch of ``B`` texts is ``{"token_ids": int32 (B, L), "padding_mask": bool (B, L)}`` where
    ``L = sequence_length``; ``padding_mask`` is ``True`` on real tokens (EOS included) and
    ``False`` on padding (keras-hub convention). Longer texts are truncated to ``L - 1`` pieces
    so that EOS is always the last real token. A single string gives ``(L,)`` arrays.

    The same TensorFlow graph runs eagerly and inside ``tf.data``: Python strings or lists give
    NumPy arrays, ``tf.string`` tensors give ``tf.Tensor`` (usable in ``Dataset.map``).
    TensorFlow, tensorflow-text and keras-hub are imported on first use only.

    Args:
        proto: serialized SentencePiece model (``bytes``) or a path to a ``.model`` file.
            Its ids must follow the T5 layout: ``<pad>`` = 0 and ``</s>`` = 1.
        sequence_length: output length ``L`` (default 64).
        lowercase: lower-case the text before encoding (default ``True``, as in training).

    Example:

    ```python
    from sensorlm_keras.tokenizers import SensorLMTokenizer

    tokenizer = SensorLMTokenizer.load("artifacts/tokenizer")
    out = tokenizer(["Resting heart rate was 58 bpm.", "A 45 minute run."])
    out["token_ids"].shape      # (2, 64)
    tokenizer.detokenize(out["token_ids"])
    ds = ds.map(lambda t: tokenizer(t))   # works on tf.string tensors in tf.data
    ```
    """

    def __init__(self, proto, sequence_length=64, lowercase=True):
        if isinstance(proto, (str, os.PathLike)):
            path = os.fspath(proto)
            if not os.path.isfile(path):
                raise ConfigError(
                    f"SensorLMTokenizer(proto): expected model bytes or an existing .model file, "
                    f"received the path {path!r} which does not exist."
                )
            size = os.path.getsize(path)
            if size > MAX_MODEL_BYTES:
                raise ConfigError(
                    f"SensorLMTokenizer(proto): {path!r} is {size} bytes, more than the "
                    f"{MAX_MODEL_BYTES}-byte limit for a SentencePiece model (refused unread)."
                )
            with open(path, "rb") as f:
                proto = f.read(MAX_MODEL_BYTES + 1)
        if isinstance(proto, (bytes, bytearray)) and len(proto) > MAX_MODEL_BYTES:
            raise ConfigError(
                f"SensorLMTokenizer(proto): {len(proto)} bytes, more than the {MAX_MODEL_BYTES}-"
                "byte limit for a SentencePiece model."
            )
        if not isinstance(proto, (bytes, bytearray)) or not proto:
            raise ConfigError(
                f"SensorLMTokenizer(proto): expected non-empty bytes, received {describe(proto)}."
            )
        self.proto = bytes(proto)
        self.sequence_length = _check_length(sequence_length, "SensorLMTokenizer.sequence_length")
        self.lowercase = bool(lowercase)
        self.pad_id = PAD_ID
        self.eos_id = EOS_ID
        self._spm = self._load_processor(self.proto)
        self._keras_hub_tokenizer = None
        self._graph_fns = {}

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _load_processor(proto):
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

    @classmethod
    def from_file(cls, model_file, **kwargs):
        """Build from a ``.model`` file written by `train_sentencepiece`."""
        return cls(os.fspath(model_file), **kwargs)

    @property
    def keras_hub_tokenizer(self):
        """The wrapped ``keras_hub.tokenizers.SentencePieceTokenizer`` (built on first use)."""
        import tensorflow as tf

        # Build eagerly even when first touched while tracing a tf.data function: the
        # SentencePiece op resource must live outside the traced graph.
        with tf.init_scope():
            self._ensure_resource_alive()
            if self._keras_hub_tokenizer is None:
                import keras_hub

                self._keras_hub_tokenizer = keras_hub.tokenizers.SentencePieceTokenizer(
                    proto=self.proto, sequence_length=None, dtype="int32"
                )
        return self._keras_hub_tokenizer

    def _ensure_resource_alive(self):
        """Rebuild after TensorFlow dropped the SentencePiece resource.

        ``tf.random.set_seed`` (and so ``keras.utils.set_random_seed``) clears TensorFlow's
        kernel cache, which destroys the kernel-owned SentencePiece resource of an existing
        tokenizer; the next call would fail with ``NotFoundError``. A cheap probe detects this
        and the keras-hub tokenizer and the traced functions are rebuilt.
        """
        import tensorflow as tf

        if self._keras_hub_tokenizer is None:
            return
        sentence_piece = getattr(self._keras_hub_tokenizer, "_sentence_piece", None)
        if sentence_piece is None:
            return
        try:
            sentence_piece.vocab_size()
        except tf.errors.NotFoundError:
            self._keras_hub_tokenizer = None
            self._graph_fns = {}

    # ------------------------------------------------------------------ queries
    @property
    def vocabulary_size(self):
        """Number of pieces (ids are ``0 .. vocabulary_size - 1``)."""
        return int(self._spm.get_piece_size())

    def id_to_token(self, token_id):
        """The piece string of an id."""
        if not 0 <= int(token_id) < self.vocabulary_size:
            raise DataError(
                f"SensorLMTokenizer.id_to_token(token_id): expected 0..{self.vocabulary_size - 1}, "
                f"received {token_id!r}."
            )
        return self._spm.id_to_piece(int(token_id))

    def token_to_id(self, token):
        """The id of a piece string (``<unk>``'s id when unknown)."""
        return int(self._spm.piece_to_id(token))

    def get_config(self):
        return {
            "format_version": FORMAT_VERSION,
            "class_name": type(self).__name__,
            "sequence_length": self.sequence_length,
            "lowercase": self.lowercase,
            "vocabulary_size": self.vocabulary_size,
            "pad_id": self.pad_id,
            "eos_id": self.eos_id,
            "model_file": MODEL_FILENAME,
        }

    # ------------------------------------------------------------------ tokenisation
    def _tokenize_graph(self, texts, sequence_length):
        """TensorFlow ops: ``texts`` is a rank-1 ``tf.string`` tensor -> dict of (B, L) tensors."""
        import tensorflow as tf

        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        pieces = self.keras_hub_tokenizer.tokenize(texts)
        if not isinstance(pieces, tf.RaggedTensor):
            pieces = tf.RaggedTensor.from_tensor(pieces)
        pieces = tf.cast(pieces, tf.int32)[:, : sequence_length - 1]
        batch = tf.shape(texts)[0]
        eos = tf.fill([batch, 1], tf.constant(self.eos_id, tf.int32))
        ids = tf.concat([pieces, tf.RaggedTensor.from_tensor(eos)], axis=1)
        lengths = ids.row_lengths()
        token_ids = ids.to_tensor(default_value=self.pad_id, shape=[None, sequence_length])
        padding_mask = tf.sequence_mask(lengths, sequence_length)
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    def _graph_fn(self, sequence_length):
        fn = self._graph_fns.get(sequence_length)
        if fn is None:
            import tensorflow as tf

            fn = tf.function(
                lambda texts: self._tokenize_graph(texts, sequence_length),
                input_signature=[tf.TensorSpec([None], tf.string)],
                reduce_retracing=True,
            )
            self._graph_fns[sequence_length] = fn
        return fn

    def __call__(self, texts, sequence_length=None):
        """Tokenize one text or a batch; see the class docstring for the output format.

        Args:
            texts: ``str``, list/tuple/array of ``str``, or a ``tf.string`` tensor of rank 0 or 1.
            sequence_length: override of ``self.sequence_length`` for this call.
        """
        return self.tokenize(texts, sequence_length=sequence_length)

    def tokenize(self, texts, sequence_length=None):
        """Same as calling the tokenizer."""
        import tensorflow as tf

        length = self.sequence_length
        if sequence_length is not None:
            length = _check_length(sequence_length, "SensorLMTokenizer(sequence_length)")
        if isinstance(texts, (tf.Tensor, tf.RaggedTensor)) or tf.is_symbolic_tensor(texts):
            if texts.dtype != tf.string:
                raise DataError(
                    f"SensorLMTokenizer(texts): expected a tf.string tensor, received dtype "
                    f"{texts.dtype.name}."
                )
            rank = texts.shape.rank
            if rank not in (0, 1):
                raise DataError(
                    f"SensorLMTokenizer(texts): expected a tensor of rank 0 or 1, received shape "
                    f"{texts.shape}."
                )
            batch = texts if rank == 1 else tf.reshape(texts, [1])
            if tf.executing_eagerly():
                self._ensure_resource_alive()
                out = self._graph_fn(length)(batch)
            else:
                out = self._tokenize_graph(batch, length)
            if rank == 0:
                out = {k: tf.reshape(v, [length]) for k, v in out.items()}
            return out

        single = isinstance(texts, (str, bytes))
        items = [texts] if single else texts
        if isinstance(items, np.ndarray):
            if items.ndim != 1:
                raise DataError(
                    f"SensorLMTokenizer(texts): expected a 1-D array of strings, received "
                    f"{describe(items)}."
                )
            items = items.tolist()
        if not isinstance(items, (list, tuple)):
            raise DataError(
                f"SensorLMTokenizer(texts): expected a string, a list of strings or a tf.string "
                f"tensor, received {describe(texts)}."
            )
        clean = []
        for i, item in enumerate(items):
            if isinstance(item, bytes):
                try:
                    item = item.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise DataError(
                        f"SensorLMTokenizer(texts): item {i} is not valid UTF-8 ({error})."
                    ) from None
            if not isinstance(item, str):
                raise DataError(
                    f"SensorLMTokenizer(texts): item {i} is not a string; received "
                    f"{describe(item)}."
                )
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:  # lone surrogates cannot reach TensorFlow
                raise DataError(
                    f"SensorLMTokenizer(texts): item {i} is not encodable as UTF-8 ({error})."
                ) from None
            clean.append(item)
        batch = tf.constant(clean, dtype=tf.string, shape=[len(clean)])
        self._ensure_resource_alive()
        out = {k: v.numpy() for k, v in self._graph_fn(length)(batch).items()}
        if single:
            out = {k: v[0] for k, v in out.items()}
        return out

    def detokenize(self, token_ids):
        """Ids -> text. Padding and everything after the first EOS are dropped.

        Args:
            token_ids: ``(L,)`` or ``(B, L)`` ints (NumPy, list or any tensor).

        Returns:
            A string for one sequence, a list of strings for a batch.
        """
        try:
            ids = np.asarray(token_ids.numpy() if hasattr(token_ids, "numpy") else token_ids)
        except (ValueError, TypeError) as error:  # ragged nested lists
            raise DataError(
                f"SensorLMTokenizer.detokenize(token_ids): expected a rectangular array of ids, "
                f"received {describe(token_ids)} ({error})."
            ) from None
        if ids.ndim not in (1, 2) or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise DataError(
                f"SensorLMTokenizer.detokenize(token_ids): expected integer ids of shape (L,) or "
                f"(B, L), received {describe(ids)}."
            )
        single = ids.ndim == 1
        rows = ids[None] if single else ids
        texts = []
        for row in rows.tolist():
            if self.eos_id in row:
                row = row[: row.index(self.eos_id)]
            row = [t for t in row if t != self.pad_id]
            bad = [t for t in row if not 0 <= t < self.vocabulary_size]
            if bad:
                raise DataError(
                    f"SensorLMTokenizer.detokenize(token_ids): ids must lie in "
                    f"[0, {self.vocabulary_size - 1}], received {bad[:5]}."
                )
            texts.append(self._spm.decode(row))
        return texts[0] if single else texts

    # ------------------------------------------------------------------ persistence
    def save(self, directory):
        """Write ``tokenizer.model`` (the proto) and ``tokenizer.json`` (config) atomically."""
        directory = os.fspath(directory)
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise ConfigError(
                f"SensorLMTokenizer.save(directory): expected a directory, received the file "
                f"{directory!r}."
            )
        os.makedirs(directory, exist_ok=True)
        atomic_write_bytes(os.path.join(directory, MODEL_FILENAME), self.proto)
        atomic_write_text(
            os.path.join(directory, CONFIG_FILENAME), json.dumps(self.get_config(), indent=2) + "\n"
        )
        return directory

    @classmethod
    def load(cls, directory, **overrides):
        """Load a tokenizer written by `save`; keyword arguments override the saved config."""
        directory = os.fspath(directory)
        config_path = os.path.join(directory, CONFIG_FILENAME)
        model_path = os.path.join(directory, MODEL_FILENAME)
        for path in (config_path, model_path):
            if not os.path.isfile(path):
                raise ConfigError(
                    f"SensorLMTokenizer.load(directory): expected {os.path.basename(path)} in "
                    f"{directory!r}, it does not exist."
                )
        size = os.path.getsize(config_path)
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"SensorLMTokenizer.load: {config_path} is {size} bytes, more than the "
                f"{MAX_CONFIG_BYTES}-byte limit for a tokenizer config."
            )
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
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
        kwargs = {
            "sequence_length": config.get("sequence_length", 64),
            "lowercase": config.get("lowercase", True),
        }
        kwargs.update(overrides)
        tokenizer = cls(model_path, **kwargs)
        if config.get("vocabulary_size") not in (None, tokenizer.vocabulary_size):
            raise ConfigError(
                f"SensorLMTokenizer.load: {config_path} says vocabulary_size="
                f"{config['vocabulary_size']} but {MODEL_FILENAME} has {tokenizer.vocabulary_size}."
            )
        return tokenizer
