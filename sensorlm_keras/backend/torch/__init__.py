"""PyTorch's pieces of `sensorlm_keras` (see `sensorlm_keras.backend` for the names).

- `TrainStep`: `TorchTrainStep` (Keras' eager step plus the global gradient norm).
- `no_grad`: ``torch.no_grad()``. PyTorch records the autograd graph of every eager call on
  trainable weights and keeps each layer's activations for a backward pass that inference never
  runs: `encode_sensor` on 32 days of `sensorlm_small` was killed for lack of memory on a 24 GB
  machine before inference ran under it.
- Attention: the portable versions (PyTorch's ``scaled_dot_product_attention`` already has a
  memory-efficient CPU kernel, so ``"auto"`` keeps it).
"""

import torch

from sensorlm_keras.backend.common import (
    auto_attention_chunk_size,
    auto_unmasked_attention,
    chunked_dot_product_attention,
)
from sensorlm_keras.backend.torch.torch_train_step import TorchTrainStep

TrainStep = TorchTrainStep


def no_grad():
    """``torch.no_grad()``: inference keeps no activations for a backward pass."""
    return torch.no_grad()


def compile_inference(fn, model):
    """``fn`` run eagerly under ``torch.no_grad()``."""
    del model

    def run(*args):
        with torch.no_grad():
            return fn(*args)

    return run
