"""Keras layers of SensorLM."""

from sensorlm_keras.layers.l2_normalization import L2Normalization
from sensorlm_keras.layers.last_token_pooling import LastTokenPooling
from sensorlm_keras.layers.map_head import MAPHead
from sensorlm_keras.layers.masked_mean_pooling import MaskedMeanPooling
from sensorlm_keras.layers.mlp_block import MLPBlock
from sensorlm_keras.layers.multi_head_dot_product_attention import MultiHeadDotProductAttention
from sensorlm_keras.layers.patch_embedding import PatchEmbedding
from sensorlm_keras.layers.position_embedding import PositionEmbedding
from sensorlm_keras.layers.transformer_block import TransformerBlock
