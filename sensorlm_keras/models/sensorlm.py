"""`SensorLM`: the two-tower sensor-language model trained with the sigmoid (SigLIP) loss."""

import math

import keras
import numpy as np
from keras import ops

from sensorlm_keras import backend
from sensorlm_keras.errors import ConfigError, InputValidationError, describe
from sensorlm_keras.losses import CLIPLoss, SigLIPLoss, contrastive_logits
from sensorlm_keras.models.backbone import Backbone
from sensorlm_keras.models.sensor_encoder import SensorEncoder
from sensorlm_keras.models.sensorlm_config import PRESETS, SensorLMConfig
from sensorlm_keras.models.text_encoder import TextEncoder
from sensorlm_keras.utils import validation
from sensorlm_keras.utils.tf_data import is_tf_dataset, masks_to_int32

LOSSES = {"sigmoid": SigLIPLoss, "softmax": CLIPLoss}


@keras.saving.register_keras_serializable(package="sensorlm_keras")
class SensorLM(backend.train_step_class(), Backbone):
    """Two-tower SensorLM: a sensor ViT and a text transformer aligned by a contrastive loss.

    ``model(inputs)`` returns ``{"sensor_embeddings": (B, D), "text_embeddings": (B, D)}``, both
    L2-normalised float32. Training with ``model.fit`` computes the loss in `compute_loss` from
    those embeddings (one forward pass per step) with the contrastive loss given to
    ``compile(loss=...)``, a `SigLIPLoss` (``loss_type="sigmoid"``) or `CLIPLoss`
    (``"softmax"``); without one, the model's default built from ``loss_normalization`` and
    ``loss_chunk_size``: the sigmoid loss ``-sum log sigmoid(y_ij (exp(t') s_i . t_j + b))``
    normalised by B (``"paper"``) or by B^2 (``"pairs"``). ``t'`` and ``b`` are learnable
    scalars (float32).

    Logged metrics: ``loss``, ``temperature`` (exp t'), ``bias``, ``positive_logit`` and
    ``negative_logit`` (mean logits of matching / non-matching pairs),
    ``sensor_to_text_top1`` and ``text_to_sensor_top1`` (in-batch retrieval accuracy) and
    ``grad_norm`` (global gradient norm of the step, training only).

    Args:
        sensor_encoder: a `SensorEncoder`.
        text_encoder: a `TextEncoder` with the same output width.
        loss_type: ``"sigmoid"`` (default) or ``"softmax"``.
        loss_normalization: ``"paper"`` (default) or ``"pairs"``.
        loss_chunk_size: None (default) or an int: the default sigmoid loss computes its logits
            in blocks of this many texts, so the full global B x B logits never exist at once
            (same value).
        global_negatives: under `tf.distribute`, score local rows against the text
            embeddings of all replicas (default True). False keeps local negatives only,
            which changes the loss (kept for comparison; not recommended).
        logit_scale_init: initial ``t'`` (default ``log(10)``).
        logit_bias_init: initial ``b`` (default ``-10``).
        **kwargs: standard model arguments.

    Call arguments:
        inputs: dict with ``"sensor"`` float ``(B, T, C)``, ``"token_ids"`` int ``(B, L)``,
            optional ``"padding_mask"`` bool/int ``(B, L)`` (True/1 = real token; absent means
            every token is real) and optional ``"sensor_mask"`` ``(B, T, C)`` of missing values
            (accepted and ignored by the model for now).
        training: bool.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras import SensorLM

    model = SensorLM.from_preset("sensorlm_tiny", sequence_length=120, num_channels=8,
                                 vocabulary_size=100, max_text_length=16)
    batch = {
        "sensor": np.random.randn(8, 120, 8).astype("float32"),
        "token_ids": np.random.randint(3, 100, size=(8, 16)),
        "padding_mask": np.ones((8, 16), bool),
    }
    model.compile(optimizer="adam")   # or loss=SigLIPLoss(normalization="pairs")
    model.fit(batch, batch_size=8, epochs=1)
    sensor_z = model.encode_sensor(batch["sensor"])
    text_z = model.encode_text(batch["token_ids"], batch["padding_mask"])
    probabilities = model.similarity(sensor_z, text_z, probabilities=True)
    ```
    """

    PARTS = {"sensor_encoder": SensorEncoder, "text_encoder": TextEncoder}  # argument order
    NESTED_LAYERS = tuple(PARTS)
    CONFIG_CLASS = SensorLMConfig
    DEFAULT_NAME = "sensorlm"
    presets = {name: spec["description"] for name, spec in PRESETS.items()}

    def __init__(
        self,
        sensor_encoder,
        text_encoder,
        loss_type="sigmoid",
        loss_normalization="paper",
        logit_scale_init=math.log(10.0),
        logit_bias_init=-10.0,
        loss_chunk_size=None,
        global_negatives=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for field, value, cls in (("sensor_encoder", sensor_encoder, SensorEncoder),
                                  ("text_encoder", text_encoder, TextEncoder)):
            if not isinstance(value, cls):
                raise ConfigError(
                    f"SensorLM.{field}: expected a {cls.__name__}, received "
                    f"{type(value).__name__}."
                )
        if sensor_encoder.embed_dim != text_encoder.embed_dim:
            raise ConfigError(
                "SensorLM: the towers' output widths differ: sensor encoder gives "
                f"{sensor_encoder.embed_dim}, text encoder gives {text_encoder.embed_dim}."
            )
        self.sensor_encoder = sensor_encoder
        self.text_encoder = text_encoder
        self.loss_type = validation.check_choice(loss_type, "SensorLM.loss_type", tuple(LOSSES))
        self.loss_normalization = loss_normalization
        self.logit_scale_init = float(logit_scale_init)
        self.logit_bias_init = float(logit_bias_init)
        self.loss_chunk_size = validation.check_positive_int(
            loss_chunk_size, "SensorLM.loss_chunk_size", allow_none=True
        )
        self.global_negatives = bool(global_negatives)
        self._default_loss = self._make_default_loss()
        self.logit_scale = self.add_weight(
            name="logit_scale",
            shape=(),
            initializer=keras.initializers.Constant(self.logit_scale_init),
            dtype="float32",
        )
        self.logit_bias = self.add_weight(
            name="logit_bias",
            shape=(),
            initializer=keras.initializers.Constant(self.logit_bias_init),
            dtype="float32",
            trainable=loss_type == "sigmoid",
        )
        self.temperature_tracker = keras.metrics.Mean(name="temperature")
        self.bias_tracker = keras.metrics.Mean(name="bias")
        self.positive_logit_tracker = keras.metrics.Mean(name="positive_logit")
        self.negative_logit_tracker = keras.metrics.Mean(name="negative_logit")
        self.sensor_to_text_tracker = keras.metrics.Mean(name="sensor_to_text_top1")
        self.text_to_sensor_tracker = keras.metrics.Mean(name="text_to_sensor_top1")
        self.built = True

    def _make_default_loss(self):
        if self.loss_type == "sigmoid":
            return SigLIPLoss(self.loss_normalization, chunk_size=self.loss_chunk_size)
        from sensorlm_keras.losses.contrastive_ops import check_normalization

        check_normalization(self.loss_normalization)
        return CLIPLoss()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_sensorlm_config(cls, config, dtype=None, name=None):
        """Build fresh weights for a config of ``CONFIG_CLASS`` (`SensorLMConfig`; a
        `SensorLMCoCaConfig` gives its two-tower part)."""
        if not isinstance(config, cls.CONFIG_CLASS):
            raise ConfigError(
                f"{cls.__name__}.from_sensorlm_config: expected a {cls.CONFIG_CLASS.__name__}, "
                f"received {type(config).__name__}."
            )
        config = cls.CONFIG_CLASS.from_fields_of(config)
        parts = [part_class(**config.arguments(part), dtype=dtype, name=part)
                 for part, part_class in cls.PARTS.items()]
        return cls(*parts, **config.arguments("model"), dtype=dtype,
                   name=name or cls.DEFAULT_NAME)

    @classmethod
    def from_preset(cls, preset, dtype=None, **overrides):
        """A fresh model of a named preset (``presets`` lists them), with optional config field
        overrides. Presets carry no downloaded weights."""
        return cls.from_sensorlm_config(
            cls.CONFIG_CLASS.from_preset(preset, **overrides), dtype=dtype
        )

    @property
    def config(self):
        """The ``CONFIG_CLASS`` config equivalent to this model's architecture."""
        return self.CONFIG_CLASS.from_part_configs(**{
            part: (self if part == "model" else getattr(self, part)).get_config()
            for part in self.CONFIG_CLASS.PARTS
        })

    # ------------------------------------------------------------------ forward
    def _unpack_inputs(self, inputs):
        """``(sensor, token_ids, padding_mask or None)`` of an input dict, checked."""
        if not isinstance(inputs, dict):
            raise InputValidationError(
                f"{type(self).__name__} inputs: expected a dict with 'sensor', 'token_ids' and "
                f"optionally 'padding_mask', 'sensor_mask'; received {type(inputs).__name__}."
            )
        for key in ("sensor", "token_ids"):
            if key not in inputs:
                raise InputValidationError(
                    f"{type(self).__name__} inputs: missing required key {key!r}."
                )
        sensor, token_ids = inputs["sensor"], inputs["token_ids"]
        b_sensor, b_text = sensor.shape[0], token_ids.shape[0]
        if b_sensor is not None and b_text is not None and b_sensor != b_text:
            raise InputValidationError(
                f"{type(self).__name__} inputs: batch sizes differ between towers: sensor has "
                f"{b_sensor} examples, token_ids has {b_text}."
            )
        return sensor, token_ids, inputs.get("padding_mask")

    def call(self, inputs, training=None):
        sensor, token_ids, padding_mask = self._unpack_inputs(inputs)
        return {
            "sensor_embeddings": self.sensor_encoder(sensor, training=training),
            "text_embeddings": self.text_encoder(
                token_ids, padding_mask=padding_mask, training=training
            ),
        }

    # ------------------------------------------------------------------ loss
    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        """`keras.Model.compile`; ``loss`` is None/``"auto"`` (the model's default contrastive
        loss) or a `SigLIPLoss` (``loss_type="sigmoid"``) / `CLIPLoss` (``"softmax"``)."""
        if isinstance(loss, str) and loss == "auto":
            loss = None
        expected = LOSSES[self.loss_type]
        if loss is not None and not isinstance(loss, expected):
            raise ConfigError(
                f"compile(loss): this model (loss_type={self.loss_type!r}) trains with a "
                f"{expected.__name__}, received {describe(loss)}."
            )
        super().compile(optimizer=optimizer, loss=loss, **kwargs)
        # The loss is computed by `compute_loss` from the one forward pass, not by Keras'
        # CompileLoss (which would map it onto the output dict); `self.loss` keeps it, and
        # the compile config saves it.
        self._compile_loss = None

    def compile_from_config(self, config):
        """Compile from a saved compile config (Keras skips a custom `compile` otherwise)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def contrastive_loss(self):
        """The loss `compute_loss` uses: the compiled one, else the model's default."""
        return self.loss if self.loss is not None else self._default_loss

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Contrastive loss from the embeddings of the forward pass (``y`` is not used).

        Under data parallelism each replica scores its local rows against the text embeddings
        of the whole global batch and divides by the global normaliser, so the replicas' summed
        gradients equal the single-device gradients of the same global batch.
        """
        s = ops.cast(y_pred["sensor_embeddings"], "float32")
        t = ops.cast(y_pred["text_embeddings"], "float32")
        g = self._gather_for_loss(s, t)
        rows_global = ops.cast(ops.shape(g["sensor_local"])[0], "float32") * float(g["replicas"])
        loss = self.contrastive_loss.embedding_loss(
            g["sensor_local"], g["text_local"], self.logit_scale, self.logit_bias,
            all_sensor_embeddings=g["sensor_all"], all_text_embeddings=g["text_all"],
            positive_offset=g["offset"], num_rows_total=rows_global,
        )
        self._update_logit_statistics(g["sensor_local"], g["text_local"])
        if self.losses:
            loss = loss + ops.cast(ops.sum(ops.stack(self.losses)), "float32")
        return loss

    def _update_logit_statistics(self, sensor_local, text_local):
        """Logit and in-batch retrieval statistics on this replica's own (B x B) block."""
        s = ops.stop_gradient(sensor_local)
        t = ops.stop_gradient(text_local)
        bias = self.logit_bias if self.loss_type == "sigmoid" else None
        logits = contrastive_logits(s, t, self.logit_scale, bias)
        rows = ops.shape(logits)[0]
        is_pos = ops.eye(rows, dtype="float32")
        is_neg = 1.0 - is_pos
        pos_mean = ops.sum(logits * is_pos) / ops.maximum(ops.sum(is_pos), 1.0)
        neg_mean = ops.sum(logits * is_neg) / ops.maximum(ops.sum(is_neg), 1.0)
        targets = ops.arange(rows)
        s2t = ops.mean(ops.cast(ops.equal(ops.argmax(logits, axis=1), targets), "float32"))
        t2s = ops.mean(ops.cast(ops.equal(ops.argmax(logits, axis=0), targets), "float32"))
        self.temperature_tracker.update_state(ops.exp(ops.stop_gradient(self.logit_scale)))
        self.bias_tracker.update_state(ops.stop_gradient(self.logit_bias))
        self.positive_logit_tracker.update_state(pos_mean)
        self.negative_logit_tracker.update_state(neg_mean)
        self.sensor_to_text_tracker.update_state(s2t)
        self.text_to_sensor_tracker.update_state(t2s)

    # ------------------------------------------------------------------ validated entry points
    def _validate(self, x, require_text=True):
        """Validate in-memory inputs and convert boolean masks to int32.

        Masks are accepted as bool or 0/1 ints. They enter the model as int32 because
        `tf.distribute` cannot aggregate bool tensors (Keras' MirroredStrategy path reduces a
        sample batch, and TensorFlow has no AddN over bool); the model treats both the same.
        A `tf.data.Dataset` is mapped the same way.
        """
        if isinstance(x, dict) and all(validation.is_concrete(v) for v in x.values()):
            x = validation.check_model_inputs(x, self.config, require_text=require_text)
            return {
                k: (v.astype("int32") if k in ("padding_mask", "sensor_mask") else v)
                for k, v in x.items()
            }
        if is_tf_dataset(x):
            return masks_to_int32(x)
        if isinstance(x, (list, tuple, np.ndarray)):
            raise InputValidationError(
                "inputs: expected a dict with keys 'sensor', 'token_ids' and optionally "
                f"'padding_mask' and 'sensor_mask' (or a dataset of such dicts), received "
                f"{describe(x)}."
            )
        return x

    def fit(self, x=None, y=None, *args, **kwargs):
        x = self._validate(x)
        validation_data = kwargs.get("validation_data")
        if isinstance(validation_data, dict):
            kwargs["validation_data"] = (self._validate(validation_data),)
        elif validation_data is not None and hasattr(validation_data, "element_spec"):
            kwargs["validation_data"] = self._validate(validation_data)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._validate(x), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._validate(x), *args, **kwargs)

    def encode_sensor(self, sensor, batch_size=64):
        """L2-normalised sensor embeddings ``(N, D)`` as a float32 NumPy array."""
        s = self.sensor_encoder
        array = validation.check_sensor(sensor, s.sequence_length, s.num_channels)
        out = self._batched(lambda a: s(a, training=False), [array], batch_size)
        bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
        if bad.size:  # e.g. |values| near float32's maximum overflow inside the encoder
            raise InputValidationError(
                f"sensor: the model produced non-finite embeddings for {bad.size} example(s) "
                f"(first: {int(bad[0])}, largest |value| {float(np.abs(array[bad[0]]).max()):.3g}"
                "); expected z-scores (preprocess_days clips them at 5)."
            )
        return out

    def encode_text(self, token_ids, padding_mask=None, batch_size=64):
        """L2-normalised text embeddings ``(N, D)`` as a float32 NumPy array."""
        t = self.text_encoder
        ids = validation.check_token_ids(token_ids, t.vocabulary_size, t.max_text_length)
        if padding_mask is None:
            return self._batched(lambda i: t(i, training=False), [ids], batch_size)
        mask = validation.check_padding_mask(padding_mask, ids.shape)
        return self._batched(lambda i, m: t(i, padding_mask=m, training=False), [ids, mask], batch_size)

    def _batched(self, fn, arrays, batch_size):
        batch_size = validation.check_positive_int(batch_size, "batch_size",
                                                   error=InputValidationError)
        n = arrays[0].shape[0]
        with backend.no_grad():  # PyTorch would keep every activation for a backward pass
            outputs = [
                np.asarray(ops.convert_to_numpy(fn(*(a[i : i + batch_size] for a in arrays))))
                for i in range(0, n, batch_size)
            ]
        if not outputs:  # an empty batch: (0, D), the documented shape
            return np.zeros((0, self.text_encoder.embed_dim), np.float32)
        return np.concatenate(outputs, axis=0).astype(np.float32)

    def similarity(self, sensor_embeddings, text_embeddings, probabilities=False):
        """Logits ``exp(t') S T^T + b`` (N_sensor, N_text), or sigmoid probabilities.

        For a softmax (CLIP) model, ``probabilities=True`` returns the softmax over texts.
        """
        s = validation.to_numpy(sensor_embeddings)
        t = validation.to_numpy(text_embeddings)
        for name, a in (("sensor_embeddings", s), ("text_embeddings", t)):
            if a is None or a.ndim != 2:
                raise InputValidationError(
                    f"{name}: expected a 2-D array (N, D), received "
                    f"{None if a is None else a.shape}."
                )
        if s.shape[1] != t.shape[1]:
            raise InputValidationError(
                f"similarity: embedding widths differ: sensor {s.shape[1]}, text {t.shape[1]}."
            )
        bias = self.logit_bias if self.loss_type == "sigmoid" else None
        logits = contrastive_logits(s, t, self.logit_scale, bias)
        if probabilities:
            logits = (
                ops.sigmoid(logits) if self.loss_type == "sigmoid" else ops.softmax(logits, axis=-1)
            )
        return np.asarray(ops.convert_to_numpy(logits))

    @property
    def temperature(self):
        return float(np.exp(ops.convert_to_numpy(self.logit_scale)))

    # ------------------------------------------------------------------ serialisation
    def get_config(self):
        config = super().get_config()
        config.update({
            "sensor_encoder": keras.layers.serialize(self.sensor_encoder),
            "text_encoder": keras.layers.serialize(self.text_encoder),
            "loss_type": self.loss_type,
            "loss_normalization": self.loss_normalization,
            "logit_scale_init": self.logit_scale_init,
            "logit_bias_init": self.logit_bias_init,
            "loss_chunk_size": self.loss_chunk_size,
            "global_negatives": self.global_negatives,
        })
        return config
