"""`TextEncoder`: the text transformer tower of SensorLM."""

import keras

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.last_token_pooling import LastTokenPooling
from sensorlm_keras.layers.masked_mean_pooling import MaskedMeanPooling
from sensorlm_keras.layers.token_embeddings import token_and_position_embeddings
from sensorlm_keras.models.embedding_tower import EmbeddingTower
from sensorlm_keras.utils.validation import check_choice, check_token_shape


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class TextEncoder(EmbeddingTower):
    """Text transformer: token + position embedding -> bidirectional blocks -> LN -> pooling ->
    Dense projection -> L2.

    Args:
        vocabulary_size: int, number of token ids.
        max_text_length: int, number of learned positions (longest input).
        hidden_dim: int, token width.
        num_layers: int, number of transformer blocks.
        num_heads: int, attention heads.
        mlp_dim: int, MLP hidden width.
        embed_dim: int or None, output width; None (default) = ``hidden_dim``, the same rule
            as `SensorEncoder`, so two towers of one width pair by default.
        projection: True (default: a Dense projection after pooling, as in the paper's text
            tower), False (none; ``embed_dim`` must equal ``hidden_dim``) or None (only when
            the widths differ, `SensorEncoder`'s default).
        pooling: ``"mean"`` (masked mean over real tokens) or ``"last"`` (last real token, i.e.
            EOS with this project's tokenizer).
        dropout: float, dropout rate.
        layer_norm_epsilon: float, LayerNorm epsilon.
        flash_attention: None (backend decides), True or False.
        normalize: bool, L2-normalise the output (default True).
        **kwargs: standard model arguments.

    Call arguments:
        token_ids: int tensor ``(batch, length)``, ``length <= max_text_length``.
        padding_mask: optional bool/int tensor ``(batch, length)``, True/1 for real tokens.
        training: bool.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.models import TextEncoder

    encoder = TextEncoder(vocabulary_size=100, max_text_length=16, hidden_dim=32,
                          num_layers=1, num_heads=2, mlp_dim=64, embed_dim=32)
    ids = np.array([[5, 6, 1, 0]])
    z = encoder(ids, padding_mask=ids > 0)   # (1, 32)
    ```
    """

    RENAMED_ARGUMENTS = {"max_sequence_length": "max_text_length"}

    def __init__(
        self,
        vocabulary_size=32000,
        max_text_length=1024,
        hidden_dim=768,
        num_layers=12,
        num_heads=12,
        mlp_dim=3072,
        embed_dim=None,
        projection=True,
        pooling="mean",
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        flash_attention=None,
        normalize=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pooling = check_choice(
            pooling, "TextEncoder.pooling", ("mean", "last"), error=InputValidationError
        )
        self.vocabulary_size = int(vocabulary_size)
        self.max_text_length = int(max_text_length)
        self._set_tower_arguments(hidden_dim, num_layers, num_heads, mlp_dim, embed_dim,
                                  projection, dropout, layer_norm_epsilon, flash_attention,
                                  normalize)

        policy = self.dtype_policy
        self.token_embedding, self.position_embedding = token_and_position_embeddings(
            self.vocabulary_size, self.max_text_length, self.hidden_dim, policy
        )
        self._make_blocks()
        if pooling == "mean":
            self.pooler = MaskedMeanPooling(dtype=policy, name="pooling")
        else:
            self.pooler = LastTokenPooling(dtype=policy, name="pooling")
        self._make_head()
        self.build((None, self.max_text_length))

    def check_input_shape(self, shape):
        """Raise `InputValidationError` unless ``shape`` is ``(batch, <= max_text_length)``."""
        check_token_shape(shape, self.max_text_length)

    def build(self, input_shape):
        self.check_input_shape(input_shape)
        self.token_embedding.build(input_shape)
        self._build_tower((input_shape[0], input_shape[1], self.hidden_dim), self.pooler)

    def encode_tokens(self, token_ids, padding_mask=None, training=None):
        """Token sequence after the final LayerNorm, ``(batch, length, hidden_dim)``."""
        self.check_input_shape(token_ids.shape)
        return self._encode(self.token_embedding(token_ids), padding_mask, training=training)

    def call(self, token_ids, padding_mask=None, training=None):
        if padding_mask is not None:
            # int32, not bool: see MultiHeadDotProductAttention (tf.distribute and bool).
            padding_mask = keras.ops.cast(keras.ops.cast(padding_mask, "bool"), "int32")
        x = self.encode_tokens(token_ids, padding_mask=padding_mask, training=training)
        return self._embedding(self.pooler(x, padding_mask=padding_mask))

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "max_text_length": self.max_text_length,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "embed_dim": self.embed_dim,
            "projection": self.uses_projection,
            "pooling": self.pooling,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "flash_attention": self.flash_attention,
            "normalize": self.normalize,
        })
        return config
