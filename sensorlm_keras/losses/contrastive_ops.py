"""The contrastive-loss formulas of SensorLM, in float32, written once.

`SigLIPLoss` and `CLIPLoss` (and through them `SensorLM.compute_loss`) are built on these
functions. They take already L2-normalised embeddings or logits. ``positive_offset`` is the
column of the first row's positive in the (possibly globally gathered) text batch: row ``i`` of
the sensor embeddings is paired with column ``positive_offset + i`` of the text embeddings.
"""

from keras import ops

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.utils.validation import check_choice, check_positive_int

NORMALIZATIONS = ("paper", "pairs")


def check_normalization(normalization):
    """``normalization`` if it is ``"paper"`` or ``"pairs"``, else a `ConfigError`."""
    return check_choice(normalization, "loss normalization", NORMALIZATIONS)


def contrastive_logits(sensor_embeddings, text_embeddings, logit_scale, logit_bias=None):
    """``exp(logit_scale) * S @ T^T (+ logit_bias)`` in float32, shape (B_sensor, B_text)."""
    s = ops.cast(sensor_embeddings, "float32")
    t = ops.cast(text_embeddings, "float32")
    logits = ops.matmul(s, ops.transpose(t)) * ops.exp(ops.cast(logit_scale, "float32"))
    if logit_bias is not None:
        logits = logits + ops.cast(logit_bias, "float32")
    return logits


def positive_labels(num_rows, num_cols, positive_offset=0):
    """+1 at (i, positive_offset + i), -1 elsewhere, float32 (num_rows, num_cols)."""
    rows = ops.arange(num_rows)[:, None]
    cols = ops.arange(num_cols)[None, :]
    eye = ops.cast(ops.equal(cols, rows + positive_offset), "float32")
    return 2.0 * eye - 1.0


def sigmoid_pair_losses(labels, logits):
    """``-log sigmoid(labels * logits)`` per pair (float32), labels +1 / -1."""
    return -ops.log_sigmoid(ops.cast(labels, "float32") * ops.cast(logits, "float32"))


def sigmoid_loss_sum(logits, labels):
    """``-sum log sigmoid(labels * logits)`` over all pairs (float32 scalar)."""
    return ops.sum(sigmoid_pair_losses(labels, logits))


def chunked_sigmoid_loss_sum(
    sensor_embeddings, text_embeddings, logit_scale, logit_bias, chunk_size, positive_offset=0
):
    """``-sum log sigmoid(y * logits)`` over all pairs, computed in column blocks of
    ``chunk_size`` texts so that at most ``B x chunk_size`` logits exist at once.

    Numerically equal to ``sigmoid_loss_sum(contrastive_logits(...), positive_labels(...))``;
    the last block may be smaller (uneven chunk sizes are fine). The text batch size must be
    static (known when the function is traced), as it is in every Keras training step.
    """
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    cols = text_embeddings.shape[0]
    if cols is None:
        raise ConfigError(
            "chunked sigmoid loss: the text batch size must be static; use the plain loss."
        )
    rows = ops.shape(sensor_embeddings)[0]
    total = ops.zeros((), "float32")
    for start in range(0, cols, chunk_size):
        stop = min(start + chunk_size, cols)
        block = contrastive_logits(
            sensor_embeddings, text_embeddings[start:stop], logit_scale, logit_bias
        )
        labels = positive_labels(rows, stop - start, positive_offset - start)
        total = total + sigmoid_loss_sum(block, labels)
    return total


def softmax_row_losses(labels, logits, axis=-1):
    """Cross-entropy of each row (``axis=-1``) or column (``axis=0``) of ``logits`` against
    its positive (label +1), float32."""
    targets = ops.cast(ops.greater(ops.cast(labels, "float32"), 0.0), "float32")
    log_probabilities = ops.log_softmax(ops.cast(logits, "float32"), axis=axis)
    return -ops.sum(targets * log_probabilities, axis=axis)
