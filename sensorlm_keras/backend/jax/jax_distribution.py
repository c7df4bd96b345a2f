"""`JAXDistribution`: `keras.distribution` (data and model parallel, several processes) for
`DistributionPlan`."""

import contextlib
import os
import sys

import keras

from sensorlm_keras.backend.jax.jax_processes import (
    describe_lost_worker,
    initialize_processes,
    jax_cluster,
)
from sensorlm_keras.errors import ConfigError


def request_cpu_devices(count):
    """Split the CPU into ``count`` XLA host devices: sets ``XLA_FLAGS`` before JAX creates
    its backends (`ConfigError` when it is too late)."""
    if "jax" in sys.modules and _jax_backends_initialised():
        import jax

        if len(jax.devices("cpu")) != count:
            raise ConfigError(
                "cpu devices: JAX is already initialised; set XLA_FLAGS="
                f"--xla_force_host_platform_device_count={count} before starting Python."
            )
        return
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()


def _jax_backends_initialised():
    """Whether JAX has created its backends (after which XLA_FLAGS is no longer read)."""
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except ImportError:  # a JAX without this module: assume the worst
        return True


def fsdp_layout_map(device_mesh, model_axis="model"):
    """A `keras.distribution.LayoutMap` that shards SensorLM's large weights over
    ``model_axis`` (FSDP style): projection kernels on their input width, MLP kernels on their
    first axis, output projections on their output width, token embeddings on the vocabulary
    and position embeddings on the width. Small weights (norms, biases, probe, t', b) are
    replicated. Every sharded axis must be divisible by the model-axis size.
    """
    m = model_axis
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[r".*qkv_kernel"] = (m, None, None, None)
    layout_map[r".*key_value_kernel"] = (m, None, None, None)
    layout_map[r".*query_kernel"] = (m, None, None)
    layout_map[r".*attention/output_kernel"] = (None, None, m)
    layout_map[r".*mlp/hidden/kernel"] = (m, None)
    layout_map[r".*mlp/output/kernel"] = (m, None)
    layout_map[r".*patch_embedding/kernel"] = (None, None, None, m)
    layout_map[r".*token_embedding/embeddings"] = (m, None)
    layout_map[r".*position_embedding/embeddings"] = (None, m)
    layout_map[r".*projection/kernel"] = (m, None)
    return layout_map


class JAXDistribution:
    """A Keras distribution on JAX: ``"data_parallel"`` (`keras.distribution.DataParallel`) or
    ``"model_parallel"`` (`ModelParallel` with `fsdp_layout_map` over a (batch, model) mesh),
    over every device of every process (the processes join as `keras.distribution.initialize`
    would, see `jax_processes`).

    Args:
        strategy: one of `STRATEGIES`.
        model_parallel_size: devices per model replica for ``"model_parallel"``.
        jax_coordinator, jax_num_processes, jax_process_id: the multi-process cluster (read
            from the environment when unset, see `jax_cluster`).

    Example:

    ```python
    distribution = JAXDistribution("data_parallel")
    with distribution.scope():
        ...  # build and compile the model
    ```
    """

    STRATEGIES = ("data_parallel", "model_parallel")

    def __init__(self, strategy, model_parallel_size=2, jax_coordinator=None,
                 jax_num_processes=None, jax_process_id=None, **unused):
        self.name = strategy
        cluster = jax_cluster(jax_coordinator, jax_num_processes, jax_process_id)
        if cluster is not None and cluster[1] > 1:
            initialize_processes(*cluster)
        devices = keras.distribution.list_devices()
        if strategy == "data_parallel":
            self.distribution = keras.distribution.DataParallel(devices=devices)
            return
        size = int(model_parallel_size)
        if size < 1 or len(devices) % size:
            raise ConfigError(
                f"model_parallel_size: {size} does not divide the {len(devices)} devices."
            )
        mesh = keras.distribution.DeviceMesh(
            (len(devices) // size, size), axis_names=("batch", "model"), devices=devices
        )
        self.distribution = keras.distribution.ModelParallel(
            layout_map=fsdp_layout_map(mesh), batch_dim_name="batch"
        )

    @property
    def num_replicas(self):
        # DataParallel: a 1-D mesh of replicas; ModelParallel: (batch, model), batch first.
        return self.distribution.device_mesh.shape[0]

    def count_workers(self):
        import jax

        return jax.process_count()

    @property
    def worker_index(self):
        import jax

        return jax.process_index()

    def barrier(self):
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("sensorlm_keras barrier")

    def lost_worker(self, error):
        return describe_lost_worker(error)

    def shard_dataset(self, dataset):
        """As is: `keras.distribution.DataParallel` re-batches and shards the same seeded
        stream on every process by itself."""
        return dataset

    def release(self):
        """Stop distributing new models and computations."""
        keras.distribution.set_distribution(None)

    @contextlib.contextmanager
    def scope(self):
        keras.distribution.set_distribution(self.distribution)
        yield
