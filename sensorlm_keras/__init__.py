"""sensorlm_keras: SensorLM in Keras 3 (TensorFlow, JAX, PyTorch).

The layers, models, losses and training step need only keras, numpy and one backend. The data
pipeline, tokenizer and export modules import TensorFlow / keras-hub / tensorflow-text lazily.
"""

__version__ = "0.1.0"

from sensorlm_keras import errors, layers, losses, models
from sensorlm_keras.losses import CLIPLoss, SigLIPLoss
from sensorlm_keras.models import SensorEncoder, SensorLM, SensorLMConfig, TextEncoder
