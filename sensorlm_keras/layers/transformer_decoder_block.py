"""`TransformerDecoderBlock`: pre-LN causal self-attention (+ cross-attention) + MLP, with a
fixed-size key/value cache for incremental decoding."""

import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.mlp_block import MLPBlock
from sensorlm_keras.layers.multi_head_dot_product_attention import MultiHeadDotProductAttention


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class TransformerDecoderBlock(keras.layers.Layer):
    """Pre-LayerNorm decoder block.

    ``x = x + CausalSelfAttention(LN(x))``; with ``cross_attention=True`` also
    ``x = x + CrossAttention(LN(x) <- context)``; then ``x = x + MLP(LN(x))``. Without
    cross-attention this is a unimodal (text-only) causal layer of CoCa, with it a multimodal
    layer.

    Incremental decoding uses a fixed-size cache ``(batch, 2, max_length, heads, head_dim)``
    holding the self-attention keys and values of the positions decoded so far: `decode` projects
    only the new tokens, writes their keys/values at ``cache_index`` with
    ``keras.ops.slice_update`` (jit-friendly: the shape never changes) and attends to the cached
    positions ``<= cache_index + i``. The cross-attention keys/values of the context are computed
    once with `cross_key_value`. Decoding ``n`` tokens therefore costs ``O(n)`` block
    evaluations of one token each instead of ``O(n^2)`` tokens.

    Args:
        num_heads: int, attention heads (self- and cross-attention).
        mlp_dim: int, hidden width of the MLP.
        cross_attention: bool, add a cross-attention sub-layer over ``context``.
        dropout: float, dropout rate of the attention outputs and the MLP.
        layer_norm_epsilon: float, LayerNorm epsilon.
        activation: MLP activation, default ``"gelu"``.
        flash_attention: None (backend decides), True or False.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: tensor ``(batch, length, width)``.
        context: tensor ``(batch, context_length, context_width)``; required when
            ``cross_attention=True``, must be None otherwise.
        training: bool, dropout switch.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import TransformerDecoderBlock

    block = TransformerDecoderBlock(num_heads=2, mlp_dim=64, cross_attention=True)
    x = np.zeros((2, 10, 32), "float32")
    context = np.zeros((2, 4, 32), "float32")
    y = block(x, context=context)                            # (2, 10, 32), causal
    cache = block.init_cache(batch_size=2, max_length=10)
    cross = block.cross_key_value(context)
    y0, cache = block.decode(x[:, :1], cache, 0, cross)      # first position only
    ```
    """

    def __init__(
        self,
        num_heads,
        mlp_dim,
        cross_attention=False,
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        activation="gelu",
        flash_attention=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.cross_attention = bool(cross_attention)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.activation = activation
        self.flash_attention = flash_attention
        policy = self.dtype_policy
        eps = self.layer_norm_epsilon
        self.self_attention_norm = keras.layers.LayerNormalization(
            epsilon=eps, dtype=policy, name="self_attention_norm"
        )
        self.self_attention = MultiHeadDotProductAttention(
            self.num_heads,
            dropout=self.dropout,
            flash_attention=flash_attention,
            dtype=policy,
            name="self_attention",
        )
        if self.cross_attention:
            self.cross_attention_norm = keras.layers.LayerNormalization(
                epsilon=eps, dtype=policy, name="cross_attention_norm"
            )
            self.cross_attention_layer = MultiHeadDotProductAttention(
                self.num_heads,
                cross_attention=True,
                dropout=self.dropout,
                flash_attention=flash_attention,
                dtype=policy,
                name="cross_attention",
            )
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=eps, dtype=policy, name="mlp_norm")
        self.mlp = MLPBlock(
            self.mlp_dim, activation=activation, dropout=self.dropout, dtype=policy, name="mlp"
        )

    def build(self, inputs_shape, context_shape=None):
        if len(inputs_shape) != 3:
            raise InputValidationError(
                "TransformerDecoderBlock inputs: expected rank 3 (batch, length, width), "
                f"received shape {tuple(inputs_shape)}."
            )
        width = inputs_shape[-1]
        if width % self.num_heads:
            raise InputValidationError(
                f"TransformerDecoderBlock: width {width} is not divisible by num_heads "
                f"{self.num_heads}."
            )
        self.head_dim = width // self.num_heads
        self.self_attention_norm.build(inputs_shape)
        self.self_attention.build(inputs_shape)
        if self.cross_attention:
            if context_shape is None:
                context_shape = (inputs_shape[0], None, width)
            self._context_width = context_shape[-1]
            self.cross_attention_norm.build(inputs_shape)
            self.cross_attention_layer.build(inputs_shape, context_shape)
        self.mlp_norm.build(inputs_shape)
        self.mlp.build(inputs_shape)
        self.built = True

    def _check_context(self, context):
        if self.cross_attention and context is None:
            raise InputValidationError(
                "TransformerDecoderBlock: cross_attention=True needs a `context` input."
            )
        if not self.cross_attention and context is not None:
            raise InputValidationError(
                "TransformerDecoderBlock: `context` was given but cross_attention=False."
            )

    def _cross_and_mlp(self, x, context=None, cross_kv=None, training=None):
        if self.cross_attention:
            attn = self.cross_attention_layer
            y = self.cross_attention_norm(x)
            if cross_kv is None:
                y = attn(y, context, training=training)
            else:
                # Only the query is projected; keys/values come from the cache (the dummy
                # one-token value just satisfies the fused projection's signature).
                dummy = ops.zeros((ops.shape(y)[0], 1, self._context_width), y.dtype)
                q, _, _ = attn.project_qkv(y, dummy)
                k, v = cross_kv[:, 0], cross_kv[:, 1]
                y = attn.project_output(attn.attend(q, k, v), training=training)
            x = x + y
        return x + self.mlp(self.mlp_norm(x), training=training)

    def call(self, inputs, context=None, training=None):
        self._check_context(context)
        x = ops.cast(inputs, self.compute_dtype)
        y = self.self_attention(self.self_attention_norm(x), is_causal=True, training=training)
        return self._cross_and_mlp(x + y, context=context, training=training)

    # ------------------------------------------------------------------ incremental decoding
    def init_cache(self, batch_size, max_length):
        """An all-zero self-attention cache ``(batch, 2, max_length, heads, head_dim)``."""
        return ops.zeros(
            (int(batch_size), 2, int(max_length), self.num_heads, self.head_dim),
            dtype=self.compute_dtype,
        )

    def cross_key_value(self, context):
        """Cross-attention keys and values of ``context``: ``(batch, 2, length, heads, dim)``."""
        if not self.cross_attention:
            raise InputValidationError(
                "TransformerDecoderBlock.cross_key_value: this block has no cross-attention."
            )
        context = ops.cast(context, self.compute_dtype)
        probe = ops.zeros_like(context[:, :1, :1]) + ops.zeros(
            (self.num_heads * self.head_dim,), self.compute_dtype
        )
        _, k, v = self.cross_attention_layer.project_qkv(probe, context)
        return ops.stack([k, v], axis=1)

    def decode(self, inputs, cache, cache_index, cross_kv=None, training=False):
        """Run ``inputs`` (positions ``cache_index .. cache_index + t - 1``) against the cache.

        Args:
            inputs: tensor ``(batch, t, width)``, the new positions.
            cache: ``(batch, 2, max_length, heads, head_dim)`` from `init_cache` or a
                previous call.
            cache_index: int or scalar int tensor, position of ``inputs[:, 0]``.
            cross_kv: the `cross_key_value` of the context (cross-attention blocks only).
            training: bool, dropout switch (normally False).

        Returns:
            ``(outputs (batch, t, width), updated cache)``.
        """
        if self.cross_attention and cross_kv is None:
            raise InputValidationError(
                "TransformerDecoderBlock.decode: this block has cross-attention and needs "
                "`cross_kv` (from cross_key_value(context))."
            )
        x = ops.cast(inputs, self.compute_dtype)
        attn = self.self_attention
        q, k, v = attn.project_qkv(self.self_attention_norm(x))
        index = ops.cast(cache_index, "int32")
        zero = ops.zeros((), "int32")
        update = ops.cast(ops.stack([k, v], axis=1), cache.dtype)
        cache = ops.slice_update(cache, [zero, zero, index, zero, zero], update)
        max_length = ops.shape(cache)[2]
        steps = ops.shape(x)[1]
        key_positions = ops.arange(max_length, dtype="int32")[None, :]
        query_positions = index + ops.arange(steps, dtype="int32")[:, None]
        mask = ops.less_equal(key_positions, query_positions)[None, None, :, :]
        y = attn.attend(q, cache[:, 0], cache[:, 1], mask)
        y = attn.project_output(y, training=training)
        out = self._cross_and_mlp(x + y, cross_kv=cross_kv, training=training)
        return out, cache

    def compute_output_shape(self, inputs_shape, context_shape=None):
        return tuple(inputs_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "mlp_dim": self.mlp_dim,
                "cross_attention": self.cross_attention,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "activation": self.activation,
                "flash_attention": self.flash_attention,
            }
        )
        return config
