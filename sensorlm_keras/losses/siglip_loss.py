"""`SigLIPLoss`: the pairwise sigmoid contrastive loss of SensorLM."""

import math

import keras

from sensorlm_keras.losses import contrastive_ops


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SigLIPLoss:
    """Sigmoid contrastive loss between two batches of L2-normalised embeddings.

    ``logits = exp(t') * z_s @ z_t^T + b``; labels are +1 on the diagonal and -1 elsewhere;
    the loss is ``-sum log sigmoid(labels * logits)`` divided by the batch size B
    (``normalization="paper"``, as in the SensorLM paper, big_vision and open_clip) or by the
    number of pairs B^2 (``normalization="pairs"``, the seed's formula). Everything is computed
    in float32.

    Args:
        normalization: ``"paper"`` (default) or ``"pairs"``.

    Call arguments:
        sensor_embeddings: float tensor ``(B, D)``, L2-normalised.
        text_embeddings: float tensor ``(B_text, D)``, L2-normalised; row ``i`` of the sensor
            batch is paired with row ``positive_offset + i``.
        logit_scale: scalar ``t'`` (the temperature is ``exp(t')``).
        logit_bias: scalar ``b``.
        positive_offset: int, column of the first row's positive (used under data parallelism
            where the text batch is gathered from all replicas).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.losses import SigLIPLoss

    z = np.eye(4, 8, dtype="float32")
    loss = SigLIPLoss()(z, z, logit_scale=np.log(10.0), logit_bias=-10.0)
    ```
    """

    def __init__(self, normalization="paper"):
        self.normalization = contrastive_ops.check_normalization(normalization)

    def __call__(
        self, sensor_embeddings, text_embeddings, logit_scale=math.log(10.0), logit_bias=-10.0,
        positive_offset=0,
    ):
        return contrastive_ops.sigmoid_loss(
            sensor_embeddings,
            text_embeddings,
            logit_scale,
            logit_bias,
            normalization=self.normalization,
            positive_offset=positive_offset,
        )

    def get_config(self):
        return {"normalization": self.normalization}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
