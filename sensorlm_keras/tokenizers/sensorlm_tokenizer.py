"""`SensorLMTokenizer`: lower-cased SentencePiece ids with EOS, truncation and padding."""

import os

import numpy as np

from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.tokenizers.tokenizer_files import (  # noqa: F401  (limits named here too)
    CONFIG_FILENAME,
    FORMAT_VERSION,
    MAX_CONFIG_BYTES,
    MAX_MODEL_BYTES,
    MODEL_FILENAME,
    load_processor,
    read_model_proto,
    read_tokenizer_config,
    write_tokenizer_files,
)
from sensorlm_keras.tokenizers.train_sentencepiece import EOS_ID, PAD_ID
from sensorlm_keras.utils.validation import check_int

MAX_TEXT_LENGTH = 2**16


class SensorLMTokenizer:
    """Caption tokenizer: lower-case, SentencePiece, append EOS, truncate, pad with 0.

    Wraps keras-hub's ``SentencePieceTokenizer`` (built from the model proto bytes). Output for a
    batch of ``B`` texts is ``{"token_ids": int32 (B, L), "padding_mask": bool (B, L)}`` where
    ``L = text_length``; ``padding_mask`` is ``True`` on real tokens (EOS included) and
    ``False`` on padding (keras-hub convention). Longer texts are truncated to ``L - 1`` pieces
    so that EOS is always the last real token. A single string gives ``(L,)`` arrays.

    The same TensorFlow graph runs eagerly and inside ``tf.data``: Python strings or lists give
    NumPy arrays, ``tf.string`` tensors give ``tf.Tensor`` (usable in ``Dataset.map``).
    TensorFlow, tensorflow-text and keras-hub are imported on first use only.

    Args:
        proto: serialized SentencePiece model (``bytes``) or a path to a ``.model`` file.
            Its ids must follow the T5 layout: ``<pad>`` = 0 and ``</s>`` = 1.
        text_length: output length ``L`` (default 64).
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

    def __init__(self, proto, text_length=64, lowercase=True):
        self.proto = read_model_proto(proto)
        self.text_length = check_int(
            text_length, "SensorLMTokenizer.text_length", 1, MAX_TEXT_LENGTH
        )
        self.lowercase = bool(lowercase)
        self.pad_id = PAD_ID
        self.eos_id = EOS_ID
        self._spm = load_processor(self.proto)
        self._keras_hub_tokenizer = None
        self._packer = None
        self._graph_fns = {}

    # ------------------------------------------------------------------ construction
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
                self._packer = keras_hub.layers.StartEndPacker(
                    sequence_length=self.text_length,
                    end_value=self.eos_id,
                    pad_value=self.pad_id,
                    return_padding_mask=True,
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
            "text_length": self.text_length,
            "lowercase": self.lowercase,
            "vocabulary_size": self.vocabulary_size,
            "pad_id": self.pad_id,
            "eos_id": self.eos_id,
            "model_file": MODEL_FILENAME,
        }

    # ------------------------------------------------------------------ tokenisation
    def _tokenize_graph(self, texts, text_length):
        """TensorFlow ops: ``texts`` is a rank-1 ``tf.string`` tensor -> dict of (B, L) tensors."""
        import tensorflow as tf

        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        pieces = self.keras_hub_tokenizer.tokenize(texts)
        if not isinstance(pieces, tf.RaggedTensor):
            pieces = tf.RaggedTensor.from_tensor(pieces)
        # Truncate to L - 1 pieces, append EOS, pad with 0; the mask is True on real tokens.
        token_ids, padding_mask = self._packer(
            tf.cast(pieces, tf.int32), sequence_length=text_length
        )
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    def _graph_fn(self, text_length):
        fn = self._graph_fns.get(text_length)
        if fn is None:
            import tensorflow as tf

            fn = tf.function(
                lambda texts: self._tokenize_graph(texts, text_length),
                input_signature=[tf.TensorSpec([None], tf.string)],
                reduce_retracing=True,
            )
            self._graph_fns[text_length] = fn
        return fn

    def __call__(self, texts, text_length=None):
        """Tokenize one text or a batch; see the class docstring for the output format.

        Args:
            texts: ``str``, list/tuple/array of ``str``, or a ``tf.string`` tensor of rank 0 or 1.
            text_length: override of ``self.text_length`` for this call.
        """
        return self.tokenize(texts, text_length=text_length)

    def tokenize(self, texts, text_length=None):
        """Same as calling the tokenizer."""
        import tensorflow as tf

        length = self.text_length
        if text_length is not None:
            length = check_int(
                text_length, "SensorLMTokenizer(text_length)", 1, MAX_TEXT_LENGTH
            )
        if isinstance(texts, (tf.Tensor, tf.RaggedTensor)) or tf.is_symbolic_tensor(texts):
            return self._tokenize_tensor(texts, length)
        clean, single = _text_list(texts)
        batch = tf.constant(clean, dtype=tf.string, shape=[len(clean)])
        self._ensure_resource_alive()
        out = {k: v.numpy() for k, v in self._graph_fn(length)(batch).items()}
        if single:
            out = {k: v[0] for k, v in out.items()}
        return out

    def _tokenize_tensor(self, texts, length):
        import tensorflow as tf

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
        return write_tokenizer_files(directory, self.proto, self.get_config())

    @classmethod
    def load(cls, directory, **overrides):
        """Load a tokenizer written by `save`; keyword arguments override the saved config."""
        config, model_path = read_tokenizer_config(directory)
        kwargs = {
            # "sequence_length": the name in tokenizer.json files written before text_length
            "text_length": config.get("text_length", config.get("sequence_length", 64)),
            "lowercase": config.get("lowercase", True),
        }
        kwargs.update(overrides)
        tokenizer = cls(model_path, **kwargs)
        if config.get("vocabulary_size") not in (None, tokenizer.vocabulary_size):
            config_path = os.path.join(os.fspath(directory), CONFIG_FILENAME)
            raise ConfigError(
                f"SensorLMTokenizer.load: {config_path} says vocabulary_size="
                f"{config['vocabulary_size']} but {MODEL_FILENAME} has {tokenizer.vocabulary_size}."
            )
        return tokenizer


def _text_list(texts):
    """``(list of str, single)`` of Python text input: a string or a list/tuple/1-D array of
    strings (bytes are decoded as UTF-8); `DataError` naming the first bad item otherwise."""
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
    return clean, single
