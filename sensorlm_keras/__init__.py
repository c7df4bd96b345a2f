"""sensorlm_keras: SensorLM in Keras 3 (TensorFlow, JAX, PyTorch).

Public names are imported lazily, so `import sensorlm_keras.data` does not import Keras, and the
layers, models, losses and training step need only keras, numpy and one backend. The data
pipeline, tokenizer and export modules import TensorFlow / keras-hub / tensorflow-text lazily.

Example:

```python
from sensorlm_keras import SensorLM

model = SensorLM.from_preset("sensorlm_tiny")
```
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "SensorLM": "sensorlm_keras.models.sensorlm",
    "SensorLMConfig": "sensorlm_keras.models.sensorlm_config",
    "SensorLMCoCa": "sensorlm_keras.models.sensorlm_coca",
    "SensorLMCoCaConfig": "sensorlm_keras.models.sensorlm_coca_config",
    "CaptionDecoder": "sensorlm_keras.models.caption_decoder",
    "SensorEncoder": "sensorlm_keras.models.sensor_encoder",
    "TextEncoder": "sensorlm_keras.models.text_encoder",
    "SigLIPLoss": "sensorlm_keras.losses.siglip_loss",
    "CLIPLoss": "sensorlm_keras.losses.clip_loss",
}
_SUBMODULES = (
    "backend",
    "data",
    "distribute",
    "errors",
    "evaluation",
    "export",
    "layers",
    "losses",
    "models",
    "runs",
    "tokenizers",
    "training",
    "utils",
)

__all__ = sorted(_LAZY) + list(_SUBMODULES)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"sensorlm_keras.{name}")
    raise AttributeError(f"module 'sensorlm_keras' has no attribute {name!r}")


def __dir__():
    return __all__
