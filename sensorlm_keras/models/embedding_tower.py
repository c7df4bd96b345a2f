"""`EmbeddingTower`: what the sensor and text towers share."""

import keras

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.l2_normalization import L2Normalization
from sensorlm_keras.layers.transformer_block import TransformerBlock
from sensorlm_keras.models.backbone import Backbone
from sensorlm_keras.utils.validation import check_choice


class EmbeddingTower(Backbone):
    """Base of `SensorEncoder` and `TextEncoder`: embedded tokens -> position embedding ->
    pre-LN transformer blocks -> final LayerNorm -> pooling -> optional Dense projection to
    ``embed_dim`` -> L2 normalisation, in float32.

    A subclass embeds its tokens, names its ``position_embedding`` and pooling layer, and calls
    `_make_tower_layers`, `_build_tower` and `_encode`; the rest lives here.

    Example:

    ```python
    class MyTower(EmbeddingTower):
        ...  # see SensorEncoder and TextEncoder
    ```
    """

    def _set_tower_arguments(self, hidden_dim, num_layers, num_heads, mlp_dim, embed_dim,
                             projection, dropout, layer_norm_epsilon, flash_attention,
                             normalize):
        """Store the arguments both towers take (``embed_dim`` None: ``hidden_dim``;
        ``projection`` None: project only when the widths differ)."""
        self.hidden_dim = int(hidden_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.embed_dim = self.hidden_dim if embed_dim is None else int(embed_dim)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.flash_attention = flash_attention
        self.normalize = bool(normalize)
        self._projection_mode = check_choice(
            projection, f"{type(self).__name__}.projection", (None, True, False),
            error=InputValidationError,
        )
        if self._projection_mode is False and self.embed_dim != self.hidden_dim:
            raise InputValidationError(
                f"{type(self).__name__}: projection=False needs embed_dim == hidden_dim, "
                f"received embed_dim {self.embed_dim} and hidden_dim {self.hidden_dim}."
            )

    @property
    def uses_projection(self):
        """Whether a Dense projection follows pooling (``projection`` None: widths differ)."""
        if self._projection_mode is None:
            return self.embed_dim != self.hidden_dim
        return bool(self._projection_mode)

    def _make_blocks(self, **block_options):
        """The transformer blocks and the final LayerNorm."""
        policy = self.dtype_policy
        self.blocks = [
            TransformerBlock(
                self.num_heads,
                self.mlp_dim,
                dropout=self.dropout,
                layer_norm_epsilon=self.layer_norm_epsilon,
                flash_attention=self.flash_attention,
                dtype=policy,
                name=f"block_{i}",
                **block_options,
            )
            for i in range(self.num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="final_norm"
        )

    def _make_head(self):
        """The projection (when used) and the L2 normalisation after pooling."""
        self.projection = (
            keras.layers.Dense(self.embed_dim, dtype=self.dtype_policy, name="projection")
            if self.uses_projection
            else None
        )
        self.l2_normalization = L2Normalization(name="l2_normalization")

    def _build_tower(self, token_shape, pooler):
        """Build position embedding, blocks, final norm, ``pooler`` and head, in that order."""
        self.position_embedding.build(token_shape)
        for block in self.blocks:
            block.build(token_shape)
        self.final_norm.build(token_shape)
        pooler.build(token_shape)
        if self.projection is not None:
            self.projection.build((token_shape[0], self.hidden_dim))
        self.l2_normalization.build((token_shape[0], self.embed_dim))
        self.built = True

    def _encode(self, embedded, padding_mask=None, training=None):
        """Position embedding, blocks and final LayerNorm over embedded tokens."""
        x = self.position_embedding(embedded)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        return self.final_norm(x)

    def _embedding(self, pooled):
        """``projection`` (when the tower has one), then unit norm (``normalize``) or a cast,
        always float32: the embeddings that enter the contrastive logits."""
        if self.projection is not None:
            pooled = self.projection(pooled)
        if self.normalize:
            return self.l2_normalization(pooled)
        return keras.ops.cast(pooled, "float32")

    def compute_output_shape(self, input_shape, *args):
        return (input_shape[0], self.embed_dim)
