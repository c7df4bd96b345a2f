"""`no_grad()`: a context for pure inference calls, per backend.

PyTorch records the autograd graph of every eager call on trainable weights and keeps each
layer's activations for a backward pass that inference never runs: `encode_sensor` on 32 days
of `sensorlm_small` was killed for lack of memory on a 24 GB machine. TensorFlow (no tape) and
JAX (functional) keep nothing, so the context does nothing there.
"""

import contextlib

import keras


def no_grad():
    """``torch.no_grad()`` under the PyTorch backend, a no-op context otherwise."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()
