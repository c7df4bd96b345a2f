"""`Backbone`: the Keras plumbing every SensorLM model shares (config and dtype policy)."""

import keras


class Backbone(keras.Model):
    """Base class of the towers, the caption decoder and the SensorLM models.

    It holds what would otherwise be restated by each model: the config keys Keras itself
    needs (``name``, ``trainable``, ``dtype`` policy) and their inverse in `from_config`, which
    also deserialises the fields listed in ``NESTED_LAYERS`` and renames the old argument names
    listed in ``RENAMED_ARGUMENTS`` (so files saved before a rename still load). Subclasses add
    their own arguments to `get_config`.

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

    NESTED_LAYERS = ()
    RENAMED_ARGUMENTS = {}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for old, new in cls.RENAMED_ARGUMENTS.items():
            if old in config:
                config[new] = config.pop(old)
        for field in cls.NESTED_LAYERS:
            config[field] = keras.layers.deserialize(config[field])
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
