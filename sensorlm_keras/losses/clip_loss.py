"""`CLIPLoss`: the softmax (InfoNCE) contrastive loss, SensorLM's CLIP variant."""

import keras
from keras import ops

from sensorlm_keras.losses import contrastive_ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class CLIPLoss(keras.losses.Loss):
    """Symmetric softmax contrastive loss (CLIP) between sensor days and texts.

    ``logits = exp(t') * z_s @ z_t^T``; the loss is the mean of the sensor->text and
    text->sensor cross-entropies with the matching pairs as targets, in float32.

    It is a `keras.losses.Loss` on a square logits matrix: ``y_true`` is the +1/-1 label matrix
    (+1 on matching pairs), ``y_pred`` the logits, and row ``i``'s loss is the mean of the
    cross-entropies of row ``i`` and column ``i``; the default reduction (mean over rows) gives
    the CLIP loss. `SensorLM` built with ``loss_type="softmax"`` uses it the Keras way
    (``model.compile(optimizer, loss=CLIPLoss())``, or by default) through `embedding_loss`.

    Args:
        **kwargs: `keras.losses.Loss` arguments (``name``, ``reduction``, ``dtype``).

    Call arguments:
        y_true: float ``(B, B)``, +1 for matching pairs, -1 elsewhere.
        y_pred: float ``(B, B)`` logits.
        sample_weight: optional per-row weights.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.losses import CLIPLoss

    z = np.eye(4, 8, dtype="float32")
    value = CLIPLoss().embedding_loss(z, z, logit_scale=np.log(10.0))
    ```
    """

    def __init__(self, name="clip_loss", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        rows = contrastive_ops.softmax_row_losses(y_true, y_pred, axis=-1)
        cols = contrastive_ops.softmax_row_losses(y_true, y_pred, axis=0)
        return 0.5 * (rows + cols)

    def embedding_loss(self, sensor_embeddings, text_embeddings, logit_scale, logit_bias=None,
                       all_sensor_embeddings=None, all_text_embeddings=None,
                       positive_offset=0, num_rows_total=None):
        """The CLIP loss of these rows, from L2-normalised embeddings.

        Each row's sensor day is scored against the candidate texts and its text against the
        candidate days; under data parallelism the candidates are the gathered global batch,
        and the replicas' values sum to the loss of the global batch.

        Args:
            sensor_embeddings, text_embeddings: ``(B, D)``, this replica's rows.
            logit_scale: scalar ``t'``.
            logit_bias: ignored (softmax is shift invariant per row); accepted so that both
                contrastive losses take the same arguments.
            all_sensor_embeddings, all_text_embeddings: ``(B_all, D)`` candidates (default:
                the rows given).
            positive_offset: column of the first row's positive among the candidates.
            num_rows_total: the B of the normaliser (default the number of rows given).

        Returns:
            A float32 scalar.
        """
        del logit_bias
        sensors = sensor_embeddings if all_sensor_embeddings is None else all_sensor_embeddings
        texts = text_embeddings if all_text_embeddings is None else all_text_embeddings
        rows = ops.shape(sensor_embeddings)[0]
        labels = contrastive_ops.positive_labels(rows, ops.shape(texts)[0], positive_offset)
        sensor_to_text = contrastive_ops.contrastive_logits(sensor_embeddings, texts, logit_scale)
        text_to_sensor = contrastive_ops.contrastive_logits(text_embeddings, sensors, logit_scale)
        total = ops.sum(contrastive_ops.softmax_row_losses(labels, sensor_to_text)) + ops.sum(
            contrastive_ops.softmax_row_losses(labels, text_to_sensor)
        )
        normaliser = ops.cast(rows if num_rows_total is None else num_rows_total, "float32")
        return total / (2.0 * normaliser)
