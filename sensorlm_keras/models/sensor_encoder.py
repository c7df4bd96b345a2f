"""`SensorEncoder`: the ViT sensor tower of SensorLM."""

import keras

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.layers.map_head import MAPHead
from sensorlm_keras.layers.patch_embedding import PatchEmbedding
from sensorlm_keras.layers.position_embedding import PositionEmbedding
from sensorlm_keras.layers.sinusoidal_initializer import SinusoidalInitializer
from sensorlm_keras.models.embedding_tower import EmbeddingTower
from sensorlm_keras.utils.validation import check_choice

POSITION_INITIALIZERS = {
    "normal": lambda: None,  # PositionEmbedding's default: RandomNormal(1 / sqrt(width))
    "sincos": SinusoidalInitializer,
}


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SensorEncoder(EmbeddingTower):
    """Sensor ViT: patches -> position embedding -> blocks -> LN -> MAP head -> (projection) -> L2.

    The input day ``(batch, sequence_length, num_channels)`` is cut into ``patch_size`` patches
    (1440 x 34 with (10, 2) gives 144 x 17 = 2448 tokens), encoded by pre-LN transformer blocks,
    pooled by multihead attention pooling with one learned probe, optionally projected to
    ``embed_dim`` and L2-normalised in float32. The model is built at construction.

    Args:
        sequence_length: int, minutes (time steps) per example.
        num_channels: int, channels per minute.
        patch_size: ``(time, channels)`` patch size.
        hidden_dim: int, token width.
        num_layers: int, number of transformer blocks.
        num_heads: int, attention heads.
        mlp_dim: int, MLP hidden width.
        embed_dim: int or None, output width; None (default) = ``hidden_dim``.
        projection: None (default: a Dense projection only when ``embed_dim`` differs from
            ``hidden_dim``), True or False.
        dropout: float, dropout rate.
        layer_norm_epsilon: float, LayerNorm epsilon.
        flash_attention: None (backend decides), True or False.
        normalize: bool, L2-normalise the output (default True).
        attention_chunk_size: None, a positive int or ``"auto"``: exact attention over blocks
            of that many queries, rematerialised (activation memory linear in tokens; see
            `sensorlm_keras.backend.dot_product_attention`).
        remat: bool, rematerialise every transformer block in the backward pass
            (`keras.remat`): less activation memory for about one extra forward pass.
        position_initializer: initial value of the learned position embedding: ``"normal"``
            (default; standard deviation ``1 / sqrt(hidden_dim)``, as in ViT) or ``"sincos"``
            (`SinusoidalInitializer` over the token index, time-major; every token starts
            with a readable position, which the CoCa tiny preset needs to state times).
        **kwargs: standard model arguments (``name``, ``dtype``).

    Call arguments:
        inputs: float tensor ``(batch, sequence_length, num_channels)`` of z-scores.
        training: bool.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.models import SensorEncoder

    encoder = SensorEncoder(sequence_length=120, num_channels=8, hidden_dim=32, num_layers=1,
                            num_heads=2, mlp_dim=64)
    z = encoder(np.zeros((2, 120, 8), "float32"))   # (2, 32), unit rows
    tokens = encoder.encode_tokens(np.zeros((2, 120, 8), "float32"))   # (2, 48, 32)
    ```
    """

    def __init__(
        self,
        sequence_length=1440,
        num_channels=34,
        patch_size=(10, 2),
        hidden_dim=768,
        num_layers=12,
        num_heads=12,
        mlp_dim=3072,
        embed_dim=None,
        projection=None,
        dropout=0.0,
        layer_norm_epsilon=1e-6,
        flash_attention=None,
        normalize=True,
        attention_chunk_size=None,
        remat=False,
        position_initializer="normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.num_channels = int(num_channels)
        self.patch_size = tuple(int(p) for p in patch_size)
        self._set_tower_arguments(hidden_dim, num_layers, num_heads, mlp_dim, embed_dim,
                                  projection, dropout, layer_norm_epsilon, flash_attention,
                                  normalize)
        self.attention_chunk_size = attention_chunk_size
        self.remat = bool(remat)
        self.position_initializer = check_choice(
            position_initializer, "SensorEncoder.position_initializer", POSITION_INITIALIZERS,
            error=InputValidationError,
        )
        self._build_layers()
        self.build((None, self.sequence_length, self.num_channels))

    def _build_layers(self):
        policy = self.dtype_policy
        self.patch_embedding = PatchEmbedding(
            self.hidden_dim, patch_size=self.patch_size, dtype=policy, name="patch_embedding"
        )
        grid = self.patch_embedding.grid_shape(self.sequence_length, self.num_channels)
        self.num_tokens = grid[0] * grid[1]
        self.position_embedding = PositionEmbedding(
            self.num_tokens,
            initializer=POSITION_INITIALIZERS[self.position_initializer](),
            dtype=policy,
            name="position_embedding",
        )
        self._make_blocks(attention_chunk_size=self.attention_chunk_size, remat=self.remat)
        self.map_head = MAPHead(
            self.num_heads,
            self.mlp_dim,
            layer_norm_epsilon=self.layer_norm_epsilon,
            flash_attention=self.flash_attention,
            dtype=policy,
            name="map_head",
        )
        self._make_head()

    def check_input_shape(self, shape):
        """Raise `InputValidationError` if ``shape`` is not ``(batch, T, C)`` of this model."""
        shape = tuple(shape)
        if len(shape) != 3:
            raise InputValidationError(
                f"sensor: expected rank 3 (batch, {self.sequence_length}, {self.num_channels}), "
                f"received shape {shape}."
            )
        if shape[1] is not None and shape[1] != self.sequence_length:
            raise InputValidationError(
                f"sensor: expected sequence length {self.sequence_length} (axis 1), received "
                f"{shape[1]} in shape {shape}."
            )
        if shape[2] is not None and shape[2] != self.num_channels:
            raise InputValidationError(
                f"sensor: expected {self.num_channels} channels (axis 2), received {shape[2]} in "
                f"shape {shape}."
            )

    def build(self, input_shape):
        self.check_input_shape(input_shape)
        self.patch_embedding.build(input_shape)
        self._build_tower((input_shape[0], self.num_tokens, self.hidden_dim), self.map_head)

    def encode_tokens(self, inputs, training=None):
        """Token sequence after the final LayerNorm, ``(batch, num_tokens, hidden_dim)``."""
        self.check_input_shape(inputs.shape)
        return self._encode(self.patch_embedding(inputs), training=training)

    def pool_tokens(self, tokens, training=None):
        """The day's embedding ``(batch, embed_dim)`` (float32) from `encode_tokens`' output:
        MAP head, projection, L2 normalisation."""
        return self._embedding(self.map_head(tokens, training=training))

    def call(self, inputs, training=None):
        return self.pool_tokens(self.encode_tokens(inputs, training=training), training=training)

    def get_config(self):
        config = super().get_config()
        config.update({
            "sequence_length": self.sequence_length,
            "num_channels": self.num_channels,
            "patch_size": list(self.patch_size),
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "mlp_dim": self.mlp_dim,
            "embed_dim": self.embed_dim,
            "projection": self.uses_projection,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "flash_attention": self.flash_attention,
            "normalize": self.normalize,
            "attention_chunk_size": self.attention_chunk_size,
            "remat": self.remat,
            "position_initializer": self.position_initializer,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "projection" not in config:  # saved before `projection`: embed_dim meant "project"
            config["projection"] = config.get("embed_dim") is not None
        return super().from_config(config)
