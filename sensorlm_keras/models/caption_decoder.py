"""`CaptionDecoder`: the CoCa-style multimodal text decoder of `SensorLMCoCa`."""

import keras
from keras import ops

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.attentional_pooler import AttentionalPooler
from sensorlm_keras.layers.token_embeddings import token_and_position_embeddings
from sensorlm_keras.layers.transformer_decoder_block import TransformerDecoderBlock
from sensorlm_keras.models.backbone import Backbone
from sensorlm_keras.utils.validation import check_int, check_positive_int, check_token_shape


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class CaptionDecoder(Backbone):
    """Causal text decoder conditioned on sensor tokens.

    token + position embedding -> ``num_unimodal_layers`` causal text-only blocks ->
    ``num_multimodal_layers`` causal blocks that cross-attend to the sensor tokens pooled by an
    `AttentionalPooler` (``num_pooler_queries`` learned queries, as in CoCa) or, with
    ``num_pooler_queries=None``, to every sensor token (LayerNorm, then a Dense projection when
    ``sensor_width != hidden_dim``) -> LayerNorm -> vocabulary logits (float32), through the
    transposed token embedding (``tie_embeddings=True``) or an own Dense layer.

    The pooler is a bottleneck: its few queries keep what the captions need most (the day's
    activity) and can drop where in the day things happen. Without it the decoder can read
    times (the sleep-duration diagnosis in docs/learning.md), at a cost that grows with the
    number of sensor tokens (144 for 10-minute patches of all channels).

    Teacher forcing: ``logits[:, i]`` predicts ``token_ids[:, i]`` from ``token_ids[:, :i]``
    (the input is shifted right by one and starts with ``start_token_id``; 0, the pad id, as
    in T5, since the caption tokenizer has no BOS).

    Args:
        vocabulary_size: int, number of token ids.
        max_text_length: int, number of learned positions (longest caption).
        hidden_dim: int, decoder width.
        num_heads: int, attention heads.
        mlp_dim: int, MLP hidden width.
        num_unimodal_layers: int >= 0, causal text-only blocks.
        num_multimodal_layers: int >= 1, causal blocks with cross-attention.
        num_pooler_queries: int, learned queries of the attentional pooler, or None to
            cross-attend to every sensor token.
        sensor_width: int, width of the sensor tokens.
        tie_embeddings: bool, logits through the transposed token embedding.
        dropout: float, dropout rate.
        layer_norm_epsilon: float, LayerNorm epsilon.
        flash_attention: None (backend decides), True or False.
        start_token_id: int, first decoder input token (default 0).
        **kwargs: standard model arguments.

    Call arguments:
        token_ids: int tensor ``(batch, length)``, the target caption.
        sensor_tokens: float tensor ``(batch, sensor_tokens, sensor_width)``.
        training: bool.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.models import CaptionDecoder

    decoder = CaptionDecoder(vocabulary_size=100, max_text_length=16, hidden_dim=32,
                             num_heads=2, mlp_dim=64, num_unimodal_layers=1,
                             num_multimodal_layers=1, num_pooler_queries=4, sensor_width=48)
    logits = decoder(np.array([[5, 6, 1, 0]]), np.zeros((1, 12, 48), "float32"))  # (1, 4, 100)
    ```
    """

    RENAMED_ARGUMENTS = {"max_sequence_length": "max_text_length"}

    def __init__(
        self,
        vocabulary_size=32000,
        max_text_length=1024,
        hidden_dim=768,
        num_heads=12,
        mlp_dim=3072,
        num_unimodal_layers=6,
        num_multimodal_layers=6,
        num_pooler_queries=256,
        sensor_width=768,
        tie_embeddings=True,
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        flash_attention=None,
        start_token_id=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        field = "CaptionDecoder"
        self.vocabulary_size = check_positive_int(vocabulary_size, f"{field}.vocabulary_size",
                                                  error=InputValidationError)
        self.max_text_length = int(max_text_length)
        self.hidden_dim = int(hidden_dim)
        self.num_heads = int(num_heads)
        self.mlp_dim = int(mlp_dim)
        self.num_unimodal_layers = check_int(num_unimodal_layers, f"{field}.num_unimodal_layers",
                                             minimum=0, error=InputValidationError)
        self.num_multimodal_layers = check_positive_int(
            num_multimodal_layers, f"{field}.num_multimodal_layers", error=InputValidationError
        )
        self.num_pooler_queries = check_positive_int(
            num_pooler_queries, f"{field}.num_pooler_queries", allow_none=True,
            error=InputValidationError,
        )
        self.sensor_width = int(sensor_width)
        self.tie_embeddings = bool(tie_embeddings)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.flash_attention = flash_attention
        self.start_token_id = check_int(start_token_id, f"{field}.start_token_id", minimum=0,
                                        maximum=self.vocabulary_size - 1,
                                        error=InputValidationError)
        self._build_layers()
        self.build((None, self.max_text_length), (None, None, self.sensor_width))

    def _build_layers(self):
        policy = self.dtype_policy
        self.token_embedding, self.position_embedding = token_and_position_embeddings(
            self.vocabulary_size, self.max_text_length, self.hidden_dim, policy
        )
        self.pooler = self.context_norm = self.context_projection = None
        if self.num_pooler_queries is not None:
            self.pooler = AttentionalPooler(
                self.num_pooler_queries,
                self.num_heads,
                width=self.hidden_dim,
                layer_norm_epsilon=self.layer_norm_epsilon,
                flash_attention=self.flash_attention,
                dtype=policy,
                name="pooler",
            )
        else:
            self.context_norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=policy, name="context_norm"
            )
            if self.sensor_width != self.hidden_dim:
                self.context_projection = keras.layers.Dense(
                    self.hidden_dim, dtype=policy, name="context_projection"
                )
        self.unimodal_blocks = [self._block(i, False) for i in range(self.num_unimodal_layers)]
        self.multimodal_blocks = [self._block(i, True) for i in range(self.num_multimodal_layers)]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="final_norm"
        )
        self.output_projection = (
            None
            if self.tie_embeddings
            else keras.layers.Dense(self.vocabulary_size, dtype=policy, name="output_projection")
        )

    def _block(self, index, cross_attention):
        kind = "multimodal" if cross_attention else "unimodal"
        return TransformerDecoderBlock(
            self.num_heads,
            self.mlp_dim,
            cross_attention=cross_attention,
            dropout=self.dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            flash_attention=self.flash_attention,
            dtype=self.dtype_policy,
            name=f"{kind}_block_{index}",
        )

    @property
    def blocks(self):
        return self.unimodal_blocks + self.multimodal_blocks

    def build(self, token_ids_shape, sensor_tokens_shape=None):
        if sensor_tokens_shape is None:
            sensor_tokens_shape = (token_ids_shape[0], None, self.sensor_width)
        self.token_embedding.build(token_ids_shape)
        x_shape = (token_ids_shape[0], token_ids_shape[1], self.hidden_dim)
        self.position_embedding.build(x_shape)
        if self.pooler is not None:
            self.pooler.build(sensor_tokens_shape)
        else:
            self.context_norm.build(sensor_tokens_shape)
            if self.context_projection is not None:
                self.context_projection.build(sensor_tokens_shape)
        context_shape = (token_ids_shape[0], self.num_pooler_queries or sensor_tokens_shape[1],
                         self.hidden_dim)
        for b in self.unimodal_blocks:
            b.build(x_shape)
        for b in self.multimodal_blocks:
            b.build(x_shape, context_shape)
        self.final_norm.build(x_shape)
        if self.output_projection is not None:
            self.output_projection.build(x_shape)
        self.built = True

    # ------------------------------------------------------------------ pieces
    def shift_right(self, token_ids):
        """Decoder inputs for teacher forcing: ``[start, t_0, ..., t_{L-2}]``."""
        token_ids = ops.cast(token_ids, "int32")
        start = ops.full_like(token_ids[:, :1], self.start_token_id)
        return ops.concatenate([start, token_ids[:, :-1]], axis=1)

    def pool_sensor(self, sensor_tokens, training=None):
        """The cross-attention context ``(batch, num_pooler_queries or sensor_tokens,
        hidden_dim)``: the attentional pooler's output, or the normalised sensor tokens."""
        if self.pooler is not None:
            return self.pooler(sensor_tokens, training=training)
        x = self.context_norm(ops.cast(sensor_tokens, self.compute_dtype))
        if self.context_projection is not None:
            x = self.context_projection(x)
        return x

    def logits(self, hidden):
        """Float32 vocabulary logits of final hidden states ``(..., hidden_dim)``."""
        x = self.final_norm(hidden)
        if self.output_projection is None:
            table = ops.cast(self.token_embedding.embeddings, x.dtype)
            out = ops.matmul(x, ops.transpose(table))
        else:
            out = self.output_projection(x)
        return ops.cast(out, "float32")

    def call(self, token_ids, sensor_tokens, training=None):
        check_token_shape(token_ids.shape, self.max_text_length)
        context = self.pool_sensor(sensor_tokens, training=training)
        x = self.token_embedding(self.shift_right(token_ids))
        x = self.position_embedding(x)
        for b in self.unimodal_blocks:
            x = b(x, training=training)
        for b in self.multimodal_blocks:
            x = b(x, context=context, training=training)
        return self.logits(x)

    # ------------------------------------------------------------------ incremental decoding
    def init_cache(self, batch_size, max_length):
        """Zero self-attention caches, one ``(batch, 2, max_length, heads, head_dim)`` per block."""
        if not 1 <= int(max_length) <= self.max_text_length:
            raise InputValidationError(
                f"max_length: expected 1..{self.max_text_length} (the decoder's positions), "
                f"received {max_length!r}."
            )
        return [b.init_cache(batch_size, max_length) for b in self.blocks]

    def cross_key_values(self, sensor_tokens):
        """Build the context once and project the keys/values of every multimodal block."""
        context = self.pool_sensor(sensor_tokens, training=False)
        return [b.cross_key_value(context) for b in self.multimodal_blocks]

    def decode_step(self, token_ids, index, cross_kvs, caches):
        """Logits of the next token after feeding ``token_ids`` at positions ``index ..``.

        Args:
            token_ids: int ``(batch, t)``, the decoder inputs at positions
                ``index .. index + t - 1`` (``t = 1`` when generating).
            index: int or scalar int tensor.
            cross_kvs: from `cross_key_values`.
            caches: from `init_cache` or a previous step.

        Returns:
            ``(logits (batch, t, vocabulary) float32, updated caches)``.
        """
        index = ops.cast(index, "int32")
        x = self.token_embedding(ops.cast(token_ids, "int32"))
        steps = ops.shape(x)[1]
        positions = index + ops.arange(steps, dtype="int32")
        table = ops.cast(self.position_embedding.embeddings, x.dtype)
        x = x + ops.take(table, positions, axis=0)[None]
        new_caches = []
        for b, cache in zip(self.unimodal_blocks, caches):
            x, cache = b.decode(x, cache, index)
            new_caches.append(cache)
        offset = len(self.unimodal_blocks)
        for b, cache, kv in zip(self.multimodal_blocks, caches[offset:], cross_kvs):
            x, cache = b.decode(x, cache, index, kv)
            new_caches.append(cache)
        return self.logits(x), new_caches

    def compute_output_shape(self, token_ids_shape, sensor_tokens_shape=None):
        return (token_ids_shape[0], token_ids_shape[1], self.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "max_text_length": self.max_text_length,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "num_unimodal_layers": self.num_unimodal_layers,
            "num_multimodal_layers": self.num_multimodal_layers,
            "num_pooler_queries": self.num_pooler_queries,
            "sensor_width": self.sensor_width,
            "tie_embeddings": self.tie_embeddings,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "flash_attention": self.flash_attention,
            "start_token_id": self.start_token_id,
        })
        return config
