"""The token and position embedding pair shared by the text tower and the caption decoder."""

import math

import keras

from sensorlm_keras.layers.position_embedding import PositionEmbedding


def token_and_position_embeddings(vocabulary_size, max_text_length, hidden_dim, dtype):
    """Return ``(token_embedding, position_embedding)`` layers named as the towers save them.

    The token table is initialised with standard deviation ``1 / sqrt(hidden_dim)``; the
    position embedding is learned (`PositionEmbedding`).

    Args:
        vocabulary_size: int, rows of the token table.
        max_text_length: int, number of learned positions.
        hidden_dim: int, embedding width.
        dtype: the owner's dtype policy.
    """
    token_embedding = keras.layers.Embedding(
        vocabulary_size,
        hidden_dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(hidden_dim)),
        dtype=dtype,
        name="token_embedding",
    )
    position_embedding = PositionEmbedding(
        max_text_length, dtype=dtype, name="position_embedding"
    )
    return token_embedding, position_embedding
