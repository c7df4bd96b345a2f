"""Backend-agnostic contrastive-loss maths (float32 throughout).

These functions take already L2-normalised embeddings. ``positive_offset`` is the column of
the first local row's positive in the (possibly globally gathered) text batch: row ``i`` of the
sensor embeddings is paired with column ``positive_offset + i`` of the text embeddings.
"""

from keras import ops

from sensorlm_keras.errors import ConfigError

NORMALIZATIONS = ("paper", "pairs")


def check_normalization(normalization):
    if normalization not in NORMALIZATIONS:
        raise ConfigError(
            f"loss normalization: expected one of {NORMALIZATIONS}, received {normalization!r}."
        )
    return normalization


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


def sigmoid_loss_sum(logits, labels):
    """``-sum log sigmoid(labels * logits)`` (float32 scalar)."""
    return -ops.sum(ops.log_sigmoid(labels * logits))


def normalize_sigmoid_loss(total, num_rows, num_cols, normalization):
    """Divide a summed sigmoid loss by B (``"paper"``) or by all pairs (``"pairs"``)."""
    if normalization == "paper":
        return total / ops.cast(num_rows, "float32")
    return total / (ops.cast(num_rows, "float32") * ops.cast(num_cols, "float32"))


def chunked_sigmoid_loss_sum(
    sensor_embeddings, text_embeddings, logit_scale, logit_bias, chunk_size, positive_offset=0
):
    """``-sum log sigmoid(y * logits)`` over all pairs, computed in column blocks of
    ``chunk_size`` texts so that at most ``B x chunk_size`` logits exist at once.

    Numerically equal to ``sigmoid_loss_sum(contrastive_logits(...), positive_labels(...))``;
    the last block may be smaller (uneven chunk sizes are fine). The text batch size must be
    static (known when the function is traced), as it is in every Keras training step.
    """
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ConfigError(f"chunk_size: expected a positive int, received {chunk_size!r}.")
    s = ops.cast(sensor_embeddings, "float32")
    t = ops.cast(text_embeddings, "float32")
    cols = t.shape[0]
    if cols is None:
        raise ConfigError(
            "chunked sigmoid loss: the text batch size must be static; use the plain loss."
        )
    rows = ops.shape(s)[0]
    scale = ops.exp(ops.cast(logit_scale, "float32"))
    bias = ops.cast(logit_bias, "float32")
    total = ops.zeros((), "float32")
    for start in range(0, cols, chunk_size):
        stop = min(start + chunk_size, cols)
        block = ops.matmul(s, ops.transpose(t[start:stop])) * scale + bias
        labels = positive_labels(rows, stop - start, positive_offset - start)
        total = total + sigmoid_loss_sum(block, labels)
    return total


def sigmoid_loss(
    sensor_embeddings,
    text_embeddings,
    logit_scale,
    logit_bias,
    normalization="paper",
    positive_offset=0,
    num_rows_total=None,
    chunk_size=None,
):
    """SigLIP loss on embeddings.

    ``"paper"``: ``-(1/B) sum_i sum_j log sigmoid(y_ij z_ij)`` (paper, big_vision, open_clip).
    ``"pairs"``: the mean over all pairs (the seed's formula, 1/B of the paper's value).
    ``num_rows_total`` overrides B in the normaliser (used when rows are split over replicas).
    ``chunk_size`` computes the same value blockwise (`chunked_sigmoid_loss_sum`).
    """
    check_normalization(normalization)
    rows, cols = ops.shape(sensor_embeddings)[0], ops.shape(text_embeddings)[0]
    if chunk_size:
        total = chunked_sigmoid_loss_sum(
            sensor_embeddings, text_embeddings, logit_scale, logit_bias, chunk_size,
            positive_offset,
        )
    else:
        logits = contrastive_logits(sensor_embeddings, text_embeddings, logit_scale, logit_bias)
        labels = positive_labels(rows, cols, positive_offset)
        total = sigmoid_loss_sum(logits, labels)
    norm_rows = rows if num_rows_total is None else num_rows_total
    return normalize_sigmoid_loss(total, norm_rows, cols, normalization)


def softmax_loss(sensor_embeddings, text_embeddings, logit_scale):
    """CLIP loss: mean of the sensor->text and text->sensor cross-entropies (float32)."""
    logits = contrastive_logits(sensor_embeddings, text_embeddings, logit_scale)
    targets = ops.arange(ops.shape(logits)[0])
    s2t = ops.mean(ops.sparse_categorical_crossentropy(targets, logits, from_logits=True))
    t2s = ops.mean(
        ops.sparse_categorical_crossentropy(targets, ops.transpose(logits), from_logits=True)
    )
    return 0.5 * (s2t + t2s)


def softmax_loss_sum_local(sensor_local, text_local, sensor_all, text_all, logit_scale,
                           positive_offset=0):
    """Sum (not mean) over the local rows of both CLIP cross-entropies against the gathered
    batch: sensor_local vs text_all and text_local vs sensor_all. Dividing by 2 x B_global and
    summing over replicas gives `softmax_loss` of the global batch."""
    rows = ops.shape(sensor_local)[0]
    targets = ops.arange(rows) + positive_offset
    s2t = contrastive_logits(sensor_local, text_all, logit_scale)
    t2s = contrastive_logits(text_local, sensor_all, logit_scale)
    return ops.sum(
        ops.sparse_categorical_crossentropy(targets, s2t, from_logits=True)
    ) + ops.sum(ops.sparse_categorical_crossentropy(targets, t2s, from_logits=True))
