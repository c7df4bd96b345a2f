"""Multi-process JAX: join the cluster (with a bounded failure detection) and recognise a
computation that failed because another process is gone."""

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
