"""`OneForwardSigLIPBackbone`: keras-hub's `SigLIPBackbone` with a one-forward `compute_loss`.

keras-hub 0.32's ``SigLIPBackbone.compute_loss`` ignores the ``y_pred`` that Keras' train step
passes in and calls ``self(x)`` again, so every training step runs the model forward twice
(under eager PyTorch both forward graphs are kept until the backward pass). This peer scores
``y_pred`` instead: the same sigmoid loss (the compiled ``SigLIPLoss``, targets +1 on the
diagonal and -1 elsewhere, averaged over the batch) from one forward pass, which is what a
fair speed comparison with `SensorLM` (one forward per step) needs.

Import it only after the Keras backend is chosen (it imports keras_hub).
"""

import keras_hub
from keras import ops


class OneForwardSigLIPBackbone(keras_hub.models.SigLIPBackbone):
    """`SigLIPBackbone` whose loss uses the forward pass the train step already ran.

    Example:

    ```python
    model = OneForwardSigLIPBackbone(vision_encoder, text_encoder)
    model.compile(optimizer="adamw")
    model.train_on_batch({"images": images, "token_ids": token_ids})
    ```
    """

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:  # called outside a train step: run the forward pass here
            y_pred = self(x, training=training)
        text_logits = y_pred["text_logits"]
        rows = ops.shape(text_logits)[0]
        # Matching (text i, image i) pairs are positives (+1), all other pairs negatives (-1).
        signs = 2.0 * ops.eye(rows, dtype=text_logits.dtype) - 1.0
        # Skip SigLIPBackbone.compute_loss (the second forward); keras.Model's applies the
        # compiled SigLIPLoss exactly as keras-hub's does after its own forward pass.
        return super(keras_hub.models.SigLIPBackbone, self).compute_loss(
            x=x, y=signs, y_pred=text_logits, sample_weight=sample_weight, training=training
        )


def shipped_and_one_forward_loss(model, batch):
    """(keras-hub's shipped loss, this peer's loss) of ``model`` on ``batch``, as floats.

    Both are computed with the same weights; the shipped one runs its own forward pass, the
    peer's scores ``model(batch)``. Inference-only (no autograd graph kept on PyTorch).
    """
    from sensorlm_keras.backend import no_grad

    with no_grad():
        shipped = keras_hub.models.SigLIPBackbone.compute_loss(model, x=batch)
        one_forward = model.compute_loss(x=batch, y_pred=model(batch))
    return float(ops.convert_to_numpy(shipped)), float(ops.convert_to_numpy(one_forward))

