"""`AttentionalPooler`: N learned queries cross-attend to a token sequence (CoCa's pooler)."""

import math

import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.multi_head_dot_product_attention import MultiHeadDotProductAttention
from sensorlm_keras.utils.validation import check_positive_int


def query_attention_layers(layer):
    """The ``(cross-attention, LayerNorm)`` pair of a learned-query layer, named ``attention``
    and ``norm``, from its ``num_heads``, ``flash_attention`` and ``layer_norm_epsilon``.

    Shared by `AttentionalPooler` and `MAPHead`.
    """
    attention = MultiHeadDotProductAttention(
        layer.num_heads,
        cross_attention=True,
        flash_attention=layer.flash_attention,
        dtype=layer.dtype_policy,
        name="attention",
    )
    norm = keras.layers.LayerNormalization(
        epsilon=layer.layer_norm_epsilon, dtype=layer.dtype_policy, name="norm"
    )
    return attention, norm


def attend_with_learned_queries(attention, queries, inputs, padding_mask=None, training=None):
    """Cross-attention of a learned ``(num_queries, width)`` query matrix over ``inputs``
    ``(batch, tokens, input_width)``, the same queries for every example.

    Shared by `AttentionalPooler` (N queries, CoCa) and `MAPHead` (one probe, ViT's MAP).

    Returns:
        ``(batch, num_queries, width)`` in the attention layer's compute dtype.
    """
    inputs = ops.cast(inputs, attention.compute_dtype)
    queries = ops.cast(ops.reshape(queries, (-1, ops.shape(queries)[-1])), attention.compute_dtype)
    batch = ops.shape(inputs)[0]
    queries = ops.broadcast_to(queries[None], (batch,) + tuple(ops.shape(queries)))
    return attention(queries, inputs, attention_mask=padding_mask, training=training)


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class AttentionalPooler(keras.layers.Layer):
    """Pool a token sequence into ``num_queries`` tokens with learned queries.

    ``out = LN(CrossAttention(queries <- inputs))``: a ``(num_queries, width)`` learned query
    matrix attends over the input tokens (keys/values projected from the input width to
    ``width``), and the result is layer-normalised. This is the attentional pooler of CoCa; the
    captioning decoder of `SensorLMCoCa` cross-attends to its output instead of to every sensor
    token, so decoding cost does not grow with the number of sensor patches.

    Args:
        num_queries: int, number of learned queries (output tokens).
        num_heads: int, attention heads.
        width: int or None, query/output width; default the input width.
        layer_norm_epsilon: float, epsilon of the output LayerNorm.
        flash_attention: None (backend decides), True or False.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(batch, tokens, input_width)``.
        padding_mask: optional bool/int tensor ``(batch, tokens)``, True/1 for real tokens.
        training: bool, dropout switch.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import AttentionalPooler

    pooler = AttentionalPooler(num_queries=8, num_heads=2, width=32)
    pooled = pooler(np.zeros((2, 24, 64), "float32"))   # (2, 8, 32)
    ```
    """

    def __init__(
        self,
        num_queries,
        num_heads,
        width=None,
        layer_norm_epsilon=1e-6,
        flash_attention=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_queries = check_positive_int(
            num_queries, "AttentionalPooler.num_queries", error=InputValidationError
        )
        self.num_heads = check_positive_int(
            num_heads, "AttentionalPooler.num_heads", error=InputValidationError
        )
        self.width = check_positive_int(
            width, "AttentionalPooler.width", allow_none=True, error=InputValidationError
        )
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.flash_attention = flash_attention
        self.attention, self.norm = query_attention_layers(self)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise InputValidationError(
                "AttentionalPooler input: expected rank 3 (batch, tokens, width), received "
                f"shape {tuple(input_shape)}."
            )
        width = self.width or input_shape[-1]
        if width % self.num_heads:
            raise InputValidationError(
                f"AttentionalPooler: width {width} is not divisible by num_heads {self.num_heads}."
            )
        self.queries = self.add_weight(
            name="queries",
            shape=(self.num_queries, width),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(width)),
        )
        query_shape = (input_shape[0], self.num_queries, width)
        self.attention.build(query_shape, input_shape)
        self.norm.build(query_shape)
        self.built = True

    def call(self, inputs, padding_mask=None, training=None):
        x = attend_with_learned_queries(
            self.attention, self.queries, inputs, padding_mask, training=training
        )
        return self.norm(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_queries, self.width or input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_queries": self.num_queries,
                "num_heads": self.num_heads,
                "width": self.width,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "flash_attention": self.flash_attention,
            }
        )
        return config
