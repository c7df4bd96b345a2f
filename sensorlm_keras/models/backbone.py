"""`Backbone`: the Keras plumbing every SensorLM model shares (config and dtype policy)."""

import keras
from keras import ops


class Backbone(keras.Model):
    """Base class of the towers, the caption decoder and the SensorLM models.

    It holds what would otherwise be restated by each model: the config keys Keras itself
    needs (``name``, ``trainable``, ``dtype`` policy) and their inverse in `from_config`, and
    the end of an embedding tower (optional projection, then L2 normalisation in float32).
    Subclasses add their own arguments to `get_config` and keep `from_config` unless a field
    holds a nested layer.

    Example:

    ```python
    class MyTower(Backbone):
        def __init__(self, width=8, **kwargs):
            super().__init__(**kwargs)
            self.width = width

        def get_config(self):
            return {**super().get_config(), "width": self.width}
    ```
    """

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    def _embedding(self, pooled):
        """``projection`` (when the tower has one), then unit norm (``normalize``) or a cast,
        always float32: the embeddings that enter the contrastive logits."""
        if self.projection is not None:
            pooled = self.projection(pooled)
        if self.normalize:
            return self.l2_normalization(pooled)
        return ops.cast(pooled, "float32")
