"""`SigLIPLoss`: the pairwise sigmoid contrastive loss of SensorLM."""

import keras
from keras import ops

from sensorlm_keras.losses import contrastive_ops
from sensorlm_keras.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SigLIPLoss(keras.losses.Loss):
    """Sigmoid contrastive loss (SigLIP): every sensor-text pair is a binary classification.

    ``logits = exp(t') * z_s @ z_t^T + b``; labels are +1 for matching pairs and -1 elsewhere;
    the loss is ``-sum log sigmoid(labels * logits)`` divided by the batch size B
    (``normalization="paper"``, as in the SensorLM paper, big_vision and open_clip) or by the
    number of pairs (``normalization="pairs"``, the seed's formula). Float32 throughout.

    It is a `keras.losses.Loss` on logits, like keras-hub's ``SigLIPLoss``: ``y_true`` is the
    +1/-1 label matrix, ``y_pred`` the logits, and each row's loss is reduced by the
    ``reduction`` (default: the mean over rows). `SensorLM` uses it the Keras way:
    ``model.compile(optimizer, loss=SigLIPLoss(...))`` (without ``loss`` the model builds one
    from its ``loss_normalization`` and ``loss_chunk_size``); the model computes the loss from
    the embeddings of its one forward pass with `embedding_loss`, which also scores each
    replica's rows against the gathered texts of every replica under data parallelism.

    Args:
        normalization: ``"paper"`` (default) or ``"pairs"``.
        chunk_size: None or an int: `embedding_loss` computes the logits in blocks of this many
            texts, so the full B x B logits never exist at once (same value).
        **kwargs: `keras.losses.Loss` arguments (``name``, ``reduction``, ``dtype``).

    Call arguments:
        y_true: float ``(B, B_text)``, +1 for matching pairs, -1 elsewhere.
        y_pred: float ``(B, B_text)`` logits.
        sample_weight: optional per-row weights.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.losses import SigLIPLoss

    z = np.eye(4, 8, dtype="float32")
    loss = SigLIPLoss()
    value = loss.embedding_loss(z, z, logit_scale=np.log(10.0), logit_bias=-10.0)
    logits = 10.0 * z @ z.T - 10.0
    same = loss(2.0 * np.eye(4, dtype="float32") - 1.0, logits)   # the Keras convention
    ```
    """

    def __init__(self, normalization="paper", chunk_size=None, name="siglip_loss", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(name=name, **kwargs)
        self.normalization = contrastive_ops.check_normalization(normalization)
        self.chunk_size = check_positive_int(chunk_size, "SigLIPLoss.chunk_size", allow_none=True)

    def call(self, y_true, y_pred):
        pairs = contrastive_ops.sigmoid_pair_losses(y_true, y_pred)
        if self.normalization == "paper":
            return ops.sum(pairs, axis=-1)
        return ops.mean(pairs, axis=-1)

    def embedding_loss(self, sensor_embeddings, text_embeddings, logit_scale, logit_bias,
                       all_sensor_embeddings=None, all_text_embeddings=None,
                       positive_offset=0, num_rows_total=None):
        """The loss of sensor rows against texts, from L2-normalised embeddings.

        Args:
            sensor_embeddings: ``(B, D)``, the rows scored here (a replica's local rows).
            text_embeddings: ``(B, D)``, the texts of those rows.
            logit_scale: scalar ``t'`` (the temperature is ``exp(t')``).
            logit_bias: scalar ``b``.
            all_sensor_embeddings: unused (the sigmoid loss scores sensor rows only); accepted
                so that both contrastive losses take the same arguments.
            all_text_embeddings: ``(B_text, D)``, the candidate texts (the whole global batch
                under data parallelism); default ``text_embeddings``.
            positive_offset: column of the first row's positive in the candidate texts.
            num_rows_total: the B of the normaliser (the global batch when rows are split over
                replicas); default the number of rows given.

        Returns:
            A float32 scalar; replicas' values sum to the loss of the global batch.
        """
        del all_sensor_embeddings
        texts = text_embeddings if all_text_embeddings is None else all_text_embeddings
        rows = ops.shape(sensor_embeddings)[0]
        cols = ops.shape(texts)[0]
        if self.chunk_size:
            total = contrastive_ops.chunked_sigmoid_loss_sum(
                sensor_embeddings, texts, logit_scale, logit_bias, self.chunk_size,
                positive_offset,
            )
        else:
            logits = contrastive_ops.contrastive_logits(
                sensor_embeddings, texts, logit_scale, logit_bias
            )
            labels = contrastive_ops.positive_labels(rows, cols, positive_offset)
            total = contrastive_ops.sigmoid_loss_sum(logits, labels)
        normaliser = ops.cast(rows if num_rows_total is None else num_rows_total, "float32")
        if self.normalization == "pairs":
            normaliser = normaliser * ops.cast(cols, "float32")
        return total / normaliser

    def get_config(self):
        config = super().get_config()
        config.update({"normalization": self.normalization, "chunk_size": self.chunk_size})
        return config
