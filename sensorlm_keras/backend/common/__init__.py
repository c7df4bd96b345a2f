"""What the backends share: the portable versions every backend package starts from.

A backend package (`sensorlm_keras.backend.tensorflow`, `.jax`, `.torch`, `.numpy`) provides
the names listed in `sensorlm_keras.backend`; where it has nothing better it re-exports the
portable version from here.
"""

import contextlib

import keras

from sensorlm_keras.backend.common.base_train_step import BaseTrainStep, global_norm
from sensorlm_keras.backend.common.chunked_attention import (
    block_attention,
    chunked_dot_product_attention,
)


def no_grad():
    """A context for pure inference calls: nothing to switch off where no tape records."""
    return contextlib.nullcontext()


def compile_inference(fn, model):
    """``fn`` itself: a backend without a compiler runs inference eagerly."""
    del model
    return fn


def auto_attention_chunk_size(num_tokens):
    """``"auto"`` chunks nowhere unless a backend measured that it pays off."""
    del num_tokens
    return None


def auto_unmasked_attention():
    """No special kernel for ``"auto"`` unmasked attention: `keras.ops.dot_product_attention`."""
    return None


def has_accelerator():
    """Whether Keras sees a GPU or TPU (False on a CPU-only machine)."""
    try:
        devices = keras.distribution.list_devices()
    except Exception:  # a backend without device listing: treat as CPU
        return False
    return any(not str(d).lower().startswith("cpu") for d in devices)
