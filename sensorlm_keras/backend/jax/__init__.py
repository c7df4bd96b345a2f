"""JAX's pieces of `sensorlm_keras` (see `sensorlm_keras.backend` for the names).

- `TrainStep`: `JAXTrainStep` (Keras' stateless step plus the global gradient norm).
- Chunked attention: `blockwise_attention` (hand-written backward) for unmasked attention,
  checkpointed blocks in a loop otherwise (`chunked_attention`); ``"auto"`` uses it for long
  sequences on CPU-only machines, where XLA has no fused attention kernel.
- `compile_inference`: ``jax.jit`` of a stateless function of the model's variables.
"""

import jax
import keras

from sensorlm_keras.backend.common import (
    auto_unmasked_attention,
    has_accelerator,
    no_grad,
)
from sensorlm_keras.backend.jax.chunked_attention import chunked_dot_product_attention
from sensorlm_keras.backend.jax.jax_distribution import JAXDistribution, request_cpu_devices
from sensorlm_keras.backend.jax.jax_train_step import JAXTrainStep

Distribution = JAXDistribution
TrainStep = JAXTrainStep

AUTO_CHUNK_SIZE = 1280
AUTO_MIN_TOKENS = 1024


def auto_attention_chunk_size(num_tokens):
    """Blocks of ``AUTO_CHUNK_SIZE`` queries for sequences longer than ``AUTO_MIN_TOKENS`` on a
    CPU-only machine (XLA's CPU attention materialises every score matrix: base model 4x less
    training memory and, with `blockwise_attention`, 1.8x faster than full attention; README,
    "Performance"), else None (GPU/TPU flash kernels)."""
    if has_accelerator() or num_tokens is None or num_tokens <= AUTO_MIN_TOKENS:
        return None
    return AUTO_CHUNK_SIZE


def compile_inference(fn, model):
    """``fn`` jitted as a pure function of ``model``'s variables, which are read at call time
    (so later training is seen)."""
    variables = list(model.trainable_variables) + list(model.non_trainable_variables)

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(*args)

    jitted = jax.jit(pure)
    return lambda *args: jitted([v.value for v in variables], *args)
