"""Training on several devices and hosts (`DistributionPlan`, the backend-neutral façade; each
backend's code is in its room of `sensorlm_keras.backend`).

- TensorFlow: `MirroredStrategy` (one machine, N GPUs or split CPUs),
  `MultiWorkerMirroredStrategy` (several machines, configured by ``TF_CONFIG``) and
  `TPUStrategy`. `SensorLM`'s TensorFlow step all-gathers the embeddings so every replica scores
  its rows against the whole global batch, and scales the loss per replica.
- JAX: `keras.distribution.DataParallel` and `ModelParallel` with an FSDP-style layout map
  (`sensorlm_keras.backend.jax.jax_distribution.fsdp_layout_map`); several processes as
  `keras.distribution.initialize` joins them.
- PyTorch: single device only with the pinned Keras (its torch trainer has no distribution
  support); asking for a strategy raises a clear error.
"""

from sensorlm_keras.distribute.distribution_plan import (
    STRATEGIES,
    DistributionPlan,
    request_cpu_devices,
)
