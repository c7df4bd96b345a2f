"""SensorLM models: the two towers, the two-tower model and its config, and the CoCa model
(captioning decoder) and its config."""

from sensorlm_keras.models.sensor_encoder import SensorEncoder
from sensorlm_keras.models.sensorlm import SensorLM
from sensorlm_keras.models.sensorlm_config import PRESETS, SensorLMConfig
from sensorlm_keras.models.text_encoder import TextEncoder
from sensorlm_keras.models.caption_decoder import CaptionDecoder
from sensorlm_keras.models.sensorlm_coca import SensorLMCoCa
from sensorlm_keras.models.sensorlm_coca_config import COCA_PRESETS, SensorLMCoCaConfig
