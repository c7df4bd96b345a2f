"""`TransformerBlock`: a pre-LayerNorm transformer encoder block."""

import keras

from sensorlm_keras.layers.mlp_block import MLPBlock
from sensorlm_keras.layers.multi_head_dot_product_attention import MultiHeadDotProductAttention


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class TransformerBlock(keras.layers.Layer):
    """Pre-LayerNorm block: ``x + MHSA(LN(x))`` then ``x + MLP(LN(x))``.

    Args:
        num_heads: int, attention heads.
        mlp_dim: int, hidden width of the MLP.
        dropout: float, dropout rate of attention output and MLP.
        layer_norm_epsilon: float, LayerNorm epsilon (default 1e-6).
        activation: MLP activation, default ``"gelu"``.
        flash_attention: None (backend decides), True or False.
        is_causal: bool, causal self-attention (text decoders).
        attention_chunk_size: None, a positive int or ``"auto"``: memory-efficient exact
            attention over query blocks (see `MultiHeadDotProductAttention`).
        remat: bool, rematerialise the block in training: only its input is kept for the
            backward pass, which recomputes the block (`keras.remat`: ``tf.recompute_grad``,
            ``jax.checkpoint``, ``torch.utils.checkpoint``).
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(batch, length, width)``.
        padding_mask: optional bool/int tensor ``(batch, length)``, True/1 for real tokens.
        training: bool, dropout switch.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import TransformerBlock

    block = TransformerBlock(num_heads=4, mlp_dim=256)
    y = block(np.zeros((2, 16, 64), "float32"))   # (2, 16, 64)
    ```
    """

    def __init__(
        self,
        num_heads,
        mlp_dim,
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        activation="gelu",
        flash_attention=None,
        is_causal=False,
        attention_chunk_size=None,
        remat=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.activation = activation
        self.flash_attention = flash_attention
        self.is_causal = bool(is_causal)
        self.attention_chunk_size = attention_chunk_size
        self.remat = bool(remat)
        policy = self.dtype_policy
        self.norm1 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="norm1"
        )
        self.attention = MultiHeadDotProductAttention(
            self.num_heads,
            dropout=self.dropout,
            flash_attention=flash_attention,
            attention_chunk_size=attention_chunk_size,
            dtype=policy,
            name="attention",
        )
        self.norm2 = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="norm2"
        )
        self.mlp = MLPBlock(
            self.mlp_dim, activation=activation, dropout=self.dropout, dtype=policy, name="mlp"
        )

    def build(self, input_shape):
        self.norm1.build(input_shape)
        self.attention.build(input_shape)
        self.norm2.build(input_shape)
        self.mlp.build(input_shape)
        self.built = True

    def call(self, inputs, padding_mask=None, training=None):
        if self.remat and training:
            # keras.remat sees one positional tensor: the mask and the Python training flag
            # are closed over (tf.recompute_grad takes no keyword arguments in graph mode and
            # jax.checkpoint would trace the flag).
            def forward(x):
                return self._forward(x, padding_mask, training)

            return keras.remat(forward)(inputs)
        return self._forward(inputs, padding_mask, training)

    def _forward(self, inputs, padding_mask, training):
        x = inputs
        y = self.norm1(x)
        y = self.attention(y, attention_mask=padding_mask, is_causal=self.is_causal, training=training)
        x = x + y
        y = self.norm2(x)
        y = self.mlp(y, training=training)
        return x + y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "mlp_dim": self.mlp_dim,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "activation": self.activation,
                "flash_attention": self.flash_attention,
                "is_causal": self.is_causal,
                "attention_chunk_size": self.attention_chunk_size,
                "remat": self.remat,
            }
        )
        return config
