"""Every other Keras backend (e.g. ``numpy``, inference only): the portable pieces, with
Keras' own ``train_step`` (see `sensorlm_keras.backend` for the names)."""

from sensorlm_keras.backend.common import (
    BaseTrainStep,
    auto_attention_chunk_size,
    auto_unmasked_attention,
    chunked_dot_product_attention,
    compile_inference,
    no_grad,
)

TrainStep = BaseTrainStep
