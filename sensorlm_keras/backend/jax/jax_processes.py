"""Multi-process JAX: read the cluster from the environment, join it (with a bounded failure
detection) and recognise a computation that failed because another process is gone."""

import os

from sensorlm_keras.errors import ConfigError

HEARTBEAT_TIMEOUT_SECONDS = 30

_MARKERS = ("gloo", "connection reset", "connection refused", "connection closed",
            "heartbeat", "coordination", "barrier failed", "unavailable", "deadline_exceeded")


def describe_lost_worker(error):
    """A one-line reason when ``error`` means another process stopped, else None.

    On CPU hosts JAX's cross-process collectives run over Gloo, which fails with "Gloo
    all-reduce failed ... Connection reset by peer" as soon as a peer's socket closes; the
    coordination service reports a process that stopped sending heartbeats.
    """
    import jax

    runtime_error = getattr(jax.errors, "JaxRuntimeError", None) or jax.errors.XlaRuntimeError
    if not isinstance(error, runtime_error):
        return None
    text = " ".join(str(error).split())
    lower = text.lower()
    if not any(m in lower for m in _MARKERS):
        return None
    for marker in ("connection reset by peer", "connection refused", "connection closed",
                   "heartbeat timeout", "barrier failed"):
        at = lower.find(marker)
        if at >= 0:
            return text[at:at + len(marker)]
    return text[:160]


def initialize_processes(address, num_processes, process_id,
                         heartbeat_timeout=HEARTBEAT_TIMEOUT_SECONDS):
    """Join the JAX cluster, as `keras.distribution.initialize` does, with one difference:
    a process that stops sending heartbeats for ``heartbeat_timeout`` seconds (JAX's default
    is 100) ends the others, so a lost process stops the run within that bound even where
    no collective fails first.

    ``address`` is the coordinator's ``host:port`` or Keras' comma-separated job addresses
    (the first is the coordinator).
    """
    import jax

    coordinator = str(address).split(",")[0].strip()
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=int(num_processes),
        process_id=int(process_id), heartbeat_timeout_seconds=int(heartbeat_timeout),
    )
    try:  # Keras' own step after joining: one global seed when none is set
        from keras.src.backend.jax.distribution_lib import initialize_rng
    except ImportError:  # a Keras without it: the caller's keras.utils.set_random_seed rules
        return
    initialize_rng()


_JAX_CLUSTER_VARIABLES = (
    ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
     "KERAS_DISTRIBUTION_PROCESS_ID"),
    ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"),
)


def jax_cluster(coordinator=None, num_processes=None, process_id=None, environ=None):
    """The multi-process JAX cluster ``(addresses, num_processes, process_id)`` or None.

    Explicit arguments win; otherwise one of two sets of environment variables is read:
    Keras' own (``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES``,
    ``KERAS_DISTRIBUTION_PROCESS_ID``, as `keras.distribution.initialize` documents) or JAX's
    names (``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``). A set must
    be complete: a partial one raises `ConfigError` naming the missing variables (JAX itself
    reads only the coordinator address and would stop with "Number of processes must be
    defined").
    """
    environ = os.environ if environ is None else environ
    values = [coordinator, num_processes, process_id]
    source = "arguments"
    if all(v is None for v in values):
        for names in _JAX_CLUSTER_VARIABLES:
            found = [environ.get(name) for name in names]
            if any(v not in (None, "") for v in found):
                missing = [n for n, v in zip(names, found) if v in (None, "")]
                if missing:
                    raise ConfigError(
                        f"multi-process JAX: {', '.join(missing)} not set; set all of "
                        f"{', '.join(names)} on every process."
                    )
                values, source = found, " / ".join(names)
                break
        else:
            return None
    address, count, index = values
    if not address or count is None or index is None:
        raise ConfigError(
            "multi-process JAX: expected a coordinator address, a number of processes and a "
            f"process id, received {address!r}, {count!r}, {index!r} ({source})."
        )
    try:
        count, index = int(count), int(index)
    except (TypeError, ValueError):
        raise ConfigError(
            f"multi-process JAX: number of processes and process id must be integers, received "
            f"{count!r} and {index!r} ({source})."
        ) from None
    if count < 1 or not 0 <= index < count:
        raise ConfigError(
            f"multi-process JAX: expected 0 <= process id < number of processes, received "
            f"process id {index} of {count} ({source})."
        )
    return str(address), count, index
