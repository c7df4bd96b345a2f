"""Recognise a `tf.distribute` collective that failed because another worker is gone."""

_MARKERS = ("unhealthy", "heartbeat", "connection reset", "connection refused",
            "socket closed", "failed to connect", "peer", "task", "collective ops is aborted")


def describe_lost_worker(error):
    """A one-line reason when ``error`` means another worker stopped, else None.

    MultiWorkerMirroredStrategy reports a lost worker as `UnavailableError` (its health check
    or a reset gRPC connection) and, while a collective waits, as `DeadlineExceededError` or
    `AbortedError`/`CancelledError` naming the collective and the task.
    """
    import tensorflow as tf

    if not isinstance(error, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                              tf.errors.AbortedError, tf.errors.CancelledError)):
        return None
    text = " ".join(str(error).split())
    if not isinstance(error, tf.errors.UnavailableError) and not any(
            m in text.lower() for m in _MARKERS):
        return None
    return _reason(text)


def _reason(text):
    lower = text.lower()
    at = lower.find("the following tasks are unhealthy")
    if at >= 0:  # the health check names the lost tasks
        return text[at:at + 160].split(" The ")[0].rstrip(". ")
    for marker in ("connection reset by peer", "connection refused", "socket closed",
                   "failed to connect"):
        at = lower.find(marker)
        if at >= 0:
            return text[at:at + len(marker)]
    return text[:160]
