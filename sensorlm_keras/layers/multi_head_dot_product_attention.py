"""`MultiHeadDotProductAttention`: fused-projection multi-head attention."""

import keras
from keras import ops

from sensorlm_keras import backend
from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class MultiHeadDotProductAttention(keras.layers.Layer):
    """Multi-head attention computed with `keras.ops.dot_product_attention`.

    Self-attention (``cross_attention=False``) projects query, key and value with one fused
    ``(width, 3, heads, head_dim)`` kernel (one matmul instead of three). Cross-attention
    (``cross_attention=True``) projects the query from ``query`` and key/value with one fused
    ``(value_width, 2, heads, head_dim)`` kernel from ``value``. The attention itself is
    chosen by `sensorlm_keras.backend.dot_product_attention`: by default
    ``keras.ops.dot_product_attention``, so each backend uses its best kernel;
    ``flash_attention=None`` lets the backend decide (flash attention is never forced on, it
    raises on CPU).

    With ``attention_chunk_size="auto"`` (the default of `SensorLMConfig`) the backend picks
    what was measured to pay off on this machine: on a CPU-only TensorFlow, unmasked attention
    has a closed-form gradient (the same values, 1.2x faster forward + backward at 2448
    tokens); on a CPU-only JAX, sequences over 1024 tokens run in blocks with a hand-written
    backward pass.

    With ``attention_chunk_size`` an int, long self- or cross-attention is computed over blocks
    of queries, each recomputed in the backward pass
    (`sensorlm_keras.backend.chunked_dot_product_attention`): the same result as full
    attention, with activation memory linear instead of quadratic in the number of tokens.

    Args:
        num_heads: int, number of attention heads.
        head_dim: int or None; default ``width // num_heads``.
        cross_attention: bool, whether keys/values come from a second input.
        use_bias: bool, whether projections have biases.
        dropout: float, dropout rate on the attention output.
        flash_attention: None (backend decides), True or False.
        attention_chunk_size: None (full attention), a positive int (query block size, used
            when the query is longer) or ``"auto"`` (the backend's measured choice; see
            `sensorlm_keras.backend.resolve_attention_chunk_size`).
        kernel_initializer: initializer of the projection kernels.
        **kwargs: standard layer arguments.

    Call arguments:
        query: tensor ``(batch, query_length, width)``.
        value: tensor ``(batch, key_length, value_width)``, only for cross-attention.
        attention_mask: optional bool tensor, either a key padding mask ``(batch, key_length)``
            (True = attend) or a full mask ``(batch, query_length, key_length)``.
        is_causal: bool, apply a causal mask (self-attention only).
        training: bool, dropout switch.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.layers import MultiHeadDotProductAttention

    attention = MultiHeadDotProductAttention(num_heads=4)
    y = attention(np.zeros((2, 16, 64), "float32"))   # (2, 16, 64)
    ```
    """

    def __init__(
        self,
        num_heads,
        head_dim=None,
        cross_attention=False,
        use_bias=True,
        dropout=0.0,
        flash_attention=None,
        attention_chunk_size=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int(
            num_heads, "MultiHeadDotProductAttention.num_heads", error=InputValidationError
        )
        self.head_dim = None if head_dim is None else int(head_dim)
        self.cross_attention = bool(cross_attention)
        self.use_bias = bool(use_bias)
        self.dropout = float(dropout)
        self.flash_attention = flash_attention
        backend.resolve_attention_chunk_size(attention_chunk_size, None)  # validates it
        self.attention_chunk_size = attention_chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape=None):
        width = query_shape[-1]
        if self.head_dim is None:
            if width % self.num_heads:
                raise InputValidationError(
                    f"MultiHeadDotProductAttention: width {width} is not divisible by "
                    f"num_heads {self.num_heads}."
                )
            self._head_dim = width // self.num_heads
        else:
            self._head_dim = self.head_dim
        heads, hd = self.num_heads, self._head_dim
        if self.cross_attention:
            value_width = width if value_shape is None else value_shape[-1]
            self.query_kernel = self.add_weight(
                name="query_kernel", shape=(width, heads, hd), initializer=self.kernel_initializer
            )
            self.key_value_kernel = self.add_weight(
                name="key_value_kernel",
                shape=(value_width, 2, heads, hd),
                initializer=self.kernel_initializer,
            )
            if self.use_bias:
                self.query_bias = self.add_weight(
                    name="query_bias", shape=(heads, hd), initializer="zeros"
                )
                self.key_value_bias = self.add_weight(
                    name="key_value_bias", shape=(2, heads, hd), initializer="zeros"
                )
        else:
            self.qkv_kernel = self.add_weight(
                name="qkv_kernel", shape=(width, 3, heads, hd), initializer=self.kernel_initializer
            )
            if self.use_bias:
                self.qkv_bias = self.add_weight(
                    name="qkv_bias", shape=(3, heads, hd), initializer="zeros"
                )
        self.output_kernel = self.add_weight(
            name="output_kernel", shape=(heads, hd, width), initializer=self.kernel_initializer
        )
        if self.use_bias:
            self.output_bias = self.add_weight(
                name="output_bias", shape=(width,), initializer="zeros"
            )
        self.built = True

    def _w(self, variable):
        return ops.cast(variable, self.compute_dtype)

    def _project_qkv(self, query, value):
        if self.cross_attention:
            q = ops.einsum("btd,dnh->btnh", query, self._w(self.query_kernel))
            kv = ops.einsum("bsd,dknh->bsknh", value, self._w(self.key_value_kernel))
            if self.use_bias:
                q = q + self._w(self.query_bias)
                kv = kv + self._w(self.key_value_bias)
            k, v = ops.unstack(kv, 2, axis=2)
        else:
            qkv = ops.einsum("btd,dknh->btknh", query, self._w(self.qkv_kernel))
            if self.use_bias:
                qkv = qkv + self._w(self.qkv_bias)
            # unstack, not indexing: its gradient is one stack (indexing three times
            # builds three zero-filled full-size gradients on eager backends).
            q, k, v = ops.unstack(qkv, 3, axis=2)
        return q, k, v

    def call(self, query, value=None, attention_mask=None, is_causal=False, training=None):
        if self.cross_attention and value is None:
            raise InputValidationError(
                "MultiHeadDotProductAttention: cross_attention=True needs a `value` input."
            )
        if not self.cross_attention and value is not None:
            raise InputValidationError(
                "MultiHeadDotProductAttention: `value` was given but cross_attention=False."
            )
        query = ops.cast(query, self.compute_dtype)
        if value is not None:
            value = ops.cast(value, self.compute_dtype)
        q, k, v = self._project_qkv(query, value)
        out = self.attend(
            q, k, v, self.prepare_mask(attention_mask), is_causal=is_causal, training=training
        )
        return self.project_output(out, training=training)

    def prepare_mask(self, attention_mask):
        """Turns a key padding mask or full mask into the bool ``(batch, 1|heads, q, k)`` mask.

        Returns None when ``attention_mask`` is None. Rows without any valid key attend
        everywhere (instead of producing NaN).
        """
        if attention_mask is None:
            return None
        # Mask arithmetic in float32: a bool tensor with several consumers makes
        # TensorFlow aggregate "gradients" over bool under tf.distribute (AddN on bool).
        keep = ops.cast(ops.cast(attention_mask, "bool"), "float32")
        rank = len(keep.shape)
        if rank not in (2, 3):
            raise InputValidationError(
                "MultiHeadDotProductAttention.attention_mask: expected rank 2 (batch, keys) "
                f"or 3 (batch, queries, keys), received shape {tuple(keep.shape)}."
            )
        # A row with no valid key would give NaN: let it attend everywhere instead.
        has_key = ops.max(keep, axis=-1, keepdims=True)
        keep = ops.maximum(keep, 1.0 - has_key)
        keep = keep[:, None, None, :] if rank == 2 else keep[:, None, :, :]
        return ops.greater(keep, 0.5)

    def attend(self, q, k, v, mask=None, is_causal=False, training=None):
        """Attention of projected ``q (b, t, n, h)`` over ``k, v (b, s, n, h)``.

        Args:
            q, k, v: projected query, key and value tensors.
            mask: None or the bool mask from `prepare_mask`.
            is_causal: bool, causal mask (query i sees keys <= i).
            training: bool; chunked attention rematerialises its blocks only in training
                (inference keeps no activations for a backward pass).

        Returns:
            ``(batch, query_length, heads, head_dim)``.
        """
        return backend.dot_product_attention(
            q, k, v, mask=mask, is_causal=is_causal, flash_attention=self.flash_attention,
            chunk_size=self.attention_chunk_size, training=training,
        )

    def project_output(self, out, training=None):
        """Output projection ``(b, t, n, h) -> (b, t, width)`` plus bias and dropout."""
        out = ops.einsum("btnh,nhd->btd", out, self._w(self.output_kernel))
        if self.use_bias:
            out = out + self._w(self.output_bias)
        return self.dropout_layer(out, training=training)

    def project_qkv(self, query, value=None):
        """Projected ``(q, k, v)``, each ``(batch, length, heads, head_dim)``.

        ``value`` is the key/value source for cross-attention and must be None otherwise.
        """
        query = ops.cast(query, self.compute_dtype)
        if value is not None:
            value = ops.cast(value, self.compute_dtype)
        return self._project_qkv(query, value)

    def compute_output_shape(self, query_shape, value_shape=None):
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "head_dim": self.head_dim,
                "cross_attention": self.cross_attention,
                "use_bias": self.use_bias,
                "dropout": self.dropout,
                "flash_attention": self.flash_attention,
                "attention_chunk_size": self.attention_chunk_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
