"""`MAPHead`: multi-head attention pooling with a learned probe."""

import keras

from sensorlm_keras.layers.attentional_pooler import (
    attend_with_learned_queries,
    query_attention_layers,
)
from sensorlm_keras.layers.mlp_block import MLPBlock


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class MAPHead(keras.layers.Layer):
    """Multihead attention pooling: one learned probe attends over the tokens.

    ``x = CrossAttention(probe <- tokens)``, then ``x = x + MLP(LN(x))``; the probe's output is
    the pooled vector ``(batch, width)``.

    Args:
        num_heads: int, attention heads.
        mlp_dim: int, hidden width of the MLP.
        layer_norm_epsilon: float, LayerNorm epsilon.
        flash_attention: None (backend decides), True or False.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(batch, tokens, width)``.
        padding_mask: optional bool tensor ``(batch, tokens)``, True for real tokens.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import MAPHead

    pooled = MAPHead(num_heads=4, mlp_dim=256)(np.zeros((2, 16, 64), "float32"))   # (2, 64)
    ```
    """

    def __init__(self, num_heads, mlp_dim, layer_norm_epsilon=1e-6, flash_attention=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.flash_attention = flash_attention
        self.attention, self.norm = query_attention_layers(self)
        self.mlp = MLPBlock(self.mlp_dim, dtype=self.dtype_policy, name="mlp")

    def build(self, input_shape):
        width = input_shape[-1]
        self.probe = self.add_weight(
            name="probe", shape=(1, 1, width), initializer="glorot_uniform"
        )
        probe_shape = (input_shape[0], 1, width)
        self.attention.build(probe_shape, input_shape)
        self.norm.build(probe_shape)
        self.mlp.build(probe_shape)
        self.built = True

    def call(self, inputs, padding_mask=None, training=None):
        x = attend_with_learned_queries(
            self.attention, self.probe, inputs, padding_mask, training=training
        )
        x = x + self.mlp(self.norm(x), training=training)
        return x[:, 0, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "mlp_dim": self.mlp_dim,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "flash_attention": self.flash_attention,
            }
        )
        return config
