"""Global gradient norm, shared by the backend train steps."""

from keras import ops


def global_norm(gradients):
    """``sqrt(sum_g ||g||^2)`` in float32, skipping ``None`` gradients."""
    squares = [ops.sum(ops.square(ops.cast(g, "float32"))) for g in gradients if g is not None]
    if not squares:
        return ops.zeros((), "float32")
    return ops.sqrt(ops.sum(ops.stack(squares)))
