"""The one place where `sensorlm_keras` looks at the Keras backend.

Everything that differs between backends lives in a package named for its backend
(`backend/tensorflow/`, `backend/jax/`, `backend/torch/`; `backend/numpy/` for any other), the
portable versions they share in `backend/common/`. The rest of the project calls the functions
of this module, which forward to the active backend's package (`current`). Every backend package
provides the same names:

| name | TensorFlow | JAX | PyTorch | other |
|---|---|---|---|---|
| `TrainStep` (mixin of `SensorLM`) | all-gathered negatives under `tf.distribute`, grad norm | stateless step, grad norm | eager step, grad norm | Keras' own |
| `no_grad()` | no-op | no-op | ``torch.no_grad()`` | no-op |
| `compile_inference(fn, model)` | ``tf.function`` | ``jax.jit`` (stateless) | eager, no grad | eager |
| `chunked_dot_product_attention` | portable | loop + hand-written backward | portable | portable |
| `auto_attention_chunk_size(n)` | None | 1280 on CPU for n > 1024 | None | None |
| `auto_unmasked_attention()` | closed-form gradient on CPU | None | None | None |
| `Distribution` (for `DistributionPlan`) | `tf.distribute` strategies | `keras.distribution` | None | None |
| `request_cpu_devices(n)` | logical CPU devices | ``XLA_FLAGS`` host devices | absent | absent |

Example:

```python
from sensorlm_keras import backend

with backend.no_grad():
    embeddings = model.sensor_encoder(days)
```
"""

import importlib

import keras
from keras import ops

from sensorlm_keras.errors import ConfigError, InputValidationError

_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def current():
    """The active Keras backend's package: ``sensorlm_keras.backend.<tensorflow|jax|torch>``,
    or ``sensorlm_keras.backend.numpy`` for any other backend."""
    return package(keras.backend.backend())


def package(name):
    """The package of the backend named ``name`` (``"numpy"``'s for any other name); used
    before Keras initialises its devices, when only the name is known."""
    return importlib.import_module(f"{__name__}.{_PACKAGES.get(name, 'numpy')}")


def train_step_class():
    """The active backend's train-step mixin class (`SensorLM`'s first base class)."""
    return current().TrainStep


def no_grad():
    """A context for pure inference calls (``torch.no_grad()`` on PyTorch, a no-op elsewhere)."""
    return current().no_grad()


def compile_inference(fn, model):
    """``fn`` (a pure inference function reading ``model``'s variables) compiled for the active
    backend: ``tf.function``, a stateless ``jax.jit``, or eager under ``torch.no_grad``."""
    return current().compile_inference(fn, model)


def resolve_attention_chunk_size(value, num_tokens):
    """The query chunk size to use for ``num_tokens`` tokens (None = exact full attention).

    ``value`` is None (never chunk), a positive int (chunk when the query is longer than that)
    or ``"auto"``: chunk only where the active backend measured that it pays off (JAX on a
    CPU-only machine, sequences over 1024 tokens, blocks of 1280 queries). PyTorch's
    ``scaled_dot_product_attention`` has a memory-efficient CPU kernel already; on TensorFlow
    chunks were 1.6x slower than full attention (set an int to trade speed for memory);
    GPUs/TPUs have flash/cuDNN kernels.
    """
    if value is None:
        return None
    if value == "auto":
        return current().auto_attention_chunk_size(num_tokens)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"attention_chunk_size: expected None, 'auto' or a positive int, received {value!r}."
        )
    return value


def chunked_dot_product_attention(q, k, v, mask=None, is_causal=False, chunk_size=512,
                                  remat=True):
    """Exact attention over blocks of ``chunk_size`` queries, each recomputed in the backward
    pass when ``remat`` (activation memory linear in the number of tokens).

    Args:
        q: ``(batch, query_length, heads, head_dim)``.
        k, v: ``(batch, key_length, heads, head_dim)``.
        mask: None or bool ``(batch, 1|heads, 1|query_length, key_length)``, True = attend.
        is_causal: bool, query ``i`` attends to keys ``<= i`` (self-attention).
        chunk_size: int, queries per block.
        remat: bool, recompute each block in the backward pass.

    Returns:
        ``(batch, query_length, heads, head_dim)`` in the dtype of ``v``.
    """
    query_length, key_length = q.shape[1], k.shape[1]
    if query_length is None or key_length is None:
        raise InputValidationError(
            "chunked_dot_product_attention: query and key lengths must be static, received "
            f"query_length={query_length}, key_length={key_length}."
        )
    return current().chunked_dot_product_attention(
        q, k, v, mask=mask, is_causal=is_causal, chunk_size=int(chunk_size), remat=remat
    )


def dot_product_attention(q, k, v, mask=None, is_causal=False, flash_attention=None,
                          chunk_size=None, training=False):
    """Exact attention of projected ``q (b, t, n, h)`` over ``k, v (b, s, n, h)``; the one
    place where the kernel is chosen.

    1. ``chunk_size`` resolved for the longer of the two lengths (`resolve_attention_chunk_size`)
       is shorter than the query: `chunked_dot_product_attention`, recomputed in training.
    2. ``"auto"``, no mask, not causal, and the backend has a kernel for that case
       (TensorFlow on a CPU-only machine: a closed-form gradient): that kernel.
    3. Otherwise `keras.ops.dot_product_attention` (the backend's fused/flash kernels).

    ``flash_attention=True`` always takes 3.

    Args:
        q, k, v: projected query, key and value tensors.
        mask: None or bool ``(batch, 1|heads, 1|query_length, key_length)``, True = attend.
        is_causal: bool, query ``i`` sees keys ``<= i``.
        flash_attention: None (backend decides), True or False.
        chunk_size: None, a positive int or ``"auto"``.
        training: bool; chunked blocks are recomputed in the backward pass only in training.

    Returns:
        ``(batch, query_length, heads, head_dim)``.
    """
    query_length, key_length = q.shape[1], k.shape[1]
    if flash_attention is not True and None not in (query_length, key_length):
        chunk = resolve_attention_chunk_size(chunk_size, max(query_length, key_length))
        if chunk is not None and query_length > chunk:
            return chunked_dot_product_attention(
                q, k, v, mask=mask, is_causal=is_causal, chunk_size=chunk, remat=bool(training)
            )
        if chunk_size == "auto" and mask is None and not is_causal:
            kernel = current().auto_unmasked_attention()
            if kernel is not None:
                return kernel(q, k, v)
    return ops.dot_product_attention(
        q, k, v, mask=mask, is_causal=is_causal, flash_attention=flash_attention
    )
