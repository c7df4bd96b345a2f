"""SensorLM models: the two towers, the two-tower model and its config."""

from sensorlm_keras.models.sensor_encoder import SensorEncoder
from sensorlm_keras.models.sensorlm import SensorLM
from sensorlm_keras.models.sensorlm_config import PRESETS, SensorLMConfig
from sensorlm_keras.models.text_encoder import TextEncoder
