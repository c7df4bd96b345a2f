"""`SensorLMConfig`: every hyper-parameter of a SensorLM model, and the named presets."""

import dataclasses
import math

from sensorlm_keras.errors import ConfigError
from sensorlm_keras.models.sensor_encoder import POSITION_INITIALIZERS
from sensorlm_keras.utils.validation import (
    check_bool,
    check_choice,
    check_float,
    check_positive_int,
)

_INT_FIELDS = (
    "sequence_length",
    "num_channels",
    "sensor_hidden_dim",
    "sensor_num_layers",
    "sensor_num_heads",
    "sensor_mlp_dim",
    "vocabulary_size",
    "max_text_length",
    "text_hidden_dim",
    "text_num_layers",
    "text_num_heads",
    "text_mlp_dim",
    "embed_dim",
)

# The one place where config fields meet the models' constructor arguments: for each part of
# the model, {config field: argument of that part's constructor (and key of its get_config)}.
# Building a model reads the table one way, `SensorLM.config` the other.
_SHARED_TOWER_ARGUMENTS = {
    "embed_dim": "embed_dim",
    "dropout": "dropout",
    "layer_norm_epsilon": "layer_norm_epsilon",
    "flash_attention": "flash_attention",
}
SENSOR_ENCODER_ARGUMENTS = {
    "sequence_length": "sequence_length",
    "num_channels": "num_channels",
    "patch_size": "patch_size",
    "sensor_hidden_dim": "hidden_dim",
    "sensor_num_layers": "num_layers",
    "sensor_num_heads": "num_heads",
    "sensor_mlp_dim": "mlp_dim",
    "sensor_projection": "projection",
    "attention_chunk_size": "attention_chunk_size",
    "remat": "remat",
    "sensor_position_initializer": "position_initializer",
    **_SHARED_TOWER_ARGUMENTS,
}
TEXT_ENCODER_ARGUMENTS = {
    "vocabulary_size": "vocabulary_size",
    "max_text_length": "max_text_length",
    "text_hidden_dim": "hidden_dim",
    "text_num_layers": "num_layers",
    "text_num_heads": "num_heads",
    "text_mlp_dim": "mlp_dim",
    "text_pooling": "pooling",
    **_SHARED_TOWER_ARGUMENTS,
}
MODEL_ARGUMENTS = {
    "loss": "loss_type",
    "loss_normalization": "loss_normalization",
    "logit_scale_init": "logit_scale_init",
    "logit_bias_init": "logit_bias_init",
    "loss_chunk_size": "loss_chunk_size",
}


@dataclasses.dataclass(frozen=True)
class SensorLMConfig:
    """Hyper-parameters of a two-tower SensorLM (defaults: the seed's ViT-B/10/2 on 1440 x 34).

    Args:
        sequence_length: minutes per example (time axis), default 1440.
        num_channels: channels per minute, default 34.
        patch_size: ``(time, channels)`` patch, default ``(10, 2)``.
        sensor_hidden_dim, sensor_num_layers, sensor_num_heads, sensor_mlp_dim: sensor ViT size.
        vocabulary_size: text vocabulary size (the tokenizer's).
        max_text_length: number of learned text positions (longest token sequence).
        text_hidden_dim, text_num_layers, text_num_heads, text_mlp_dim: text tower size.
        text_pooling: ``"mean"`` (masked mean, seed default) or ``"last"`` (last real token,
            the paper's EOS pooling).
        embed_dim: width of the shared embedding space.
        sensor_projection: None (project the sensor tower only when its width differs from
            ``embed_dim``), True or False.
        dropout: dropout rate in both towers.
        layer_norm_epsilon: LayerNorm epsilon (1e-6).
        flash_attention: None lets each backend decide; never force True on CPU.
        attention_chunk_size: ``"auto"`` (default; every choice is exact). With JAX on a
            CPU-only machine, sensor attention over more than 1024 tokens runs in blocks of
            at most 1280 queries with a hand-written backward pass
            (`sensorlm_keras.backend.jax.blockwise_attention`: linear memory, 1.8x faster than
            einsum attention);
            with TensorFlow on a CPU-only machine, unmasked attention has a closed-form
            gradient (`sensorlm_keras.backend.tensorflow.closed_form_attention`: 1.2x faster);
            elsewhere the backend's kernel
            (PyTorch's CPU kernel and GPU/TPU flash kernels are memory-efficient already).
            None: always `keras.ops.dot_product_attention`. A positive int: rematerialised
            blocks of that many queries, linear memory on every backend.
        remat: bool, rematerialise each sensor transformer block (less memory, ~1/3 more
            compute).
        sensor_position_initializer: ``"normal"`` (default, ViT's learned embedding) or
            ``"sincos"``: the learned sensor position embedding starts from sine/cosine codes
            (`SinusoidalInitializer`; the CoCa tiny preset's choice, docs/learning.md).
        loss: ``"sigmoid"`` (SigLIP, default) or ``"softmax"`` (CLIP).
        loss_normalization: ``"paper"`` (sum over pairs / B, default) or ``"pairs"`` (mean over
            B^2, the seed's formula).
        logit_scale_init: initial ``t'``; the temperature is ``exp(t')`` (default log 10).
        logit_bias_init: initial ``b`` (default -10).
        loss_chunk_size: None or an int: blockwise sigmoid loss over this many texts at a time
            (large global batches; same value as the plain loss).

    Example:

    ```python
    from sensorlm_keras import SensorLMConfig

    config = SensorLMConfig.from_preset("sensorlm_tiny", sequence_length=120, num_channels=8)
    ```
    """

    sequence_length: int = 1440
    num_channels: int = 34
    patch_size: tuple = (10, 2)
    sensor_hidden_dim: int = 768
    sensor_num_layers: int = 12
    sensor_num_heads: int = 12
    sensor_mlp_dim: int = 3072
    vocabulary_size: int = 32000
    max_text_length: int = 1024
    text_hidden_dim: int = 768
    text_num_layers: int = 12
    text_num_heads: int = 12
    text_mlp_dim: int = 3072
    text_pooling: str = "mean"
    embed_dim: int = 768
    sensor_projection: object = None
    dropout: float = 0.0
    layer_norm_epsilon: float = 1e-6
    flash_attention: object = None
    attention_chunk_size: object = "auto"
    remat: bool = False
    sensor_position_initializer: str = "normal"
    loss: str = "sigmoid"
    loss_normalization: str = "paper"
    logit_scale_init: float = math.log(10.0)
    logit_bias_init: float = -10.0
    loss_chunk_size: object = None

    # {part: {field: constructor argument}}; see `arguments` and `from_part_configs`.
    PARTS = {
        "sensor_encoder": SENSOR_ENCODER_ARGUMENTS,
        "text_encoder": TEXT_ENCODER_ARGUMENTS,
        "model": MODEL_ARGUMENTS,
    }

    def __post_init__(self):
        name = type(self).__name__
        for field in _INT_FIELDS:
            check_positive_int(getattr(self, field), f"{name}.{field}")
        patch = tuple(self.patch_size) if isinstance(self.patch_size, (list, tuple)) else ()
        if len(patch) != 2:
            raise ConfigError(
                f"{name}.patch_size: expected two positive ints (time, channels), received "
                f"{self.patch_size!r}."
            )
        for p in patch:
            check_positive_int(p, f"{name}.patch_size")
        object.__setattr__(self, "patch_size", patch)
        for index, field in enumerate(("sequence_length", "num_channels")):
            if getattr(self, field) % patch[index]:
                raise ConfigError(
                    f"{name}: {field} {getattr(self, field)} is not divisible by "
                    f"patch_size[{index}] = {patch[index]}."
                )
        for width, heads, tower in (
            (self.sensor_hidden_dim, self.sensor_num_heads, "sensor"),
            (self.text_hidden_dim, self.text_num_heads, "text"),
        ):
            if width % heads:
                raise ConfigError(
                    f"{name}.{tower}_hidden_dim ({width}) must be divisible by "
                    f"{tower}_num_heads ({heads})."
                )
        self._check_choices(name)

    def _check_choices(self, name):
        check_choice(self.sensor_position_initializer, f"{name}.sensor_position_initializer",
                     POSITION_INITIALIZERS)
        check_choice(self.text_pooling, f"{name}.text_pooling", ("mean", "last"))
        check_choice(self.loss, f"{name}.loss", ("sigmoid", "softmax"))
        check_choice(self.loss_normalization, f"{name}.loss_normalization", ("paper", "pairs"))
        check_choice(self.sensor_projection, f"{name}.sensor_projection", (None, True, False))
        if self.attention_chunk_size != "auto":
            check_positive_int(self.attention_chunk_size, f"{name}.attention_chunk_size",
                               allow_none=True)
        check_bool(self.remat, f"{name}.remat")
        check_positive_int(self.loss_chunk_size, f"{name}.loss_chunk_size", allow_none=True)
        check_float(self.dropout, f"{name}.dropout", 0.0, 1.0, exclusive_maximum=True)
        for field in ("logit_scale_init", "logit_bias_init", "layer_norm_epsilon"):
            check_float(getattr(self, field), f"{name}.{field}")

    # ------------------------------------------------------------------ derived values
    @property
    def num_sensor_tokens(self):
        return (self.sequence_length // self.patch_size[0]) * (
            self.num_channels // self.patch_size[1]
        )

    @property
    def uses_sensor_projection(self):
        """Whether the sensor tower projects its pooled vector to ``embed_dim``."""
        if self.sensor_projection is None:
            return self.sensor_hidden_dim != self.embed_dim
        return bool(self.sensor_projection)

    @classmethod
    def from_fields_of(cls, config):
        """This class's config from the fields it knows of ``config`` (another config class
        of the family: a `SensorLMCoCaConfig` gives its two-tower part)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls.from_dict({k: v for k, v in config.to_dict().items() if k in known})

    def base_config(self):
        """The `SensorLMConfig` of the two-tower part (the fields of a subclass dropped)."""
        return SensorLMConfig.from_fields_of(self)

    def arguments(self, part):
        """Constructor arguments of one part of the model (``"sensor_encoder"``,
        ``"text_encoder"``, ``"model"``; ``"caption_decoder"`` for CoCa) from this config."""
        return {argument: getattr(self, field) for field, argument in self.PARTS[part].items()}

    @classmethod
    def from_part_configs(cls, **part_configs):
        """The config of a built model from its parts' ``get_config()`` dicts (keyword per
        part, as in `PARTS`); a field two parts share is read from the first part given."""
        values = {}
        for part, config in part_configs.items():
            for field, argument in cls.PARTS[part].items():
                values.setdefault(field, config[argument])
        return cls.from_dict(values)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self):
        d = dataclasses.asdict(self)
        d["patch_size"] = list(self.patch_size)
        return d

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                f"SensorLMConfig: unknown fields {unknown}; known fields are {sorted(known)}."
            )
        return cls(**d)

    def replace(self, **overrides):
        return type(self).from_dict({**self.to_dict(), **overrides})

    @classmethod
    def from_preset(cls, name, **overrides):
        """The named preset's config with optional field overrides."""
        if name not in PRESETS:
            raise ConfigError(
                f"SensorLMConfig.from_preset: unknown preset {name!r}; available presets are "
                f"{sorted(PRESETS)}."
            )
        return cls.from_dict({**PRESETS[name]["config"], **overrides})


def _tower(width, layers, heads, prefix):
    return {
        f"{prefix}_hidden_dim": width,
        f"{prefix}_num_layers": layers,
        f"{prefix}_num_heads": heads,
        f"{prefix}_mlp_dim": 4 * width,
    }


PRESETS = {
    "sensorlm_tiny": {
        "description": "CPU-test sized two-tower model (width 64, 2 layers each, vocab 4096).",
        "config": {
            **_tower(64, 2, 2, "sensor"),
            **_tower(64, 2, 2, "text"),
            "vocabulary_size": 4096,
            "max_text_length": 256,
            "embed_dim": 64,
        },
    },
    "sensorlm_small": {
        "description": "ViT-S/10/2 sensor tower (384 wide, 12 layers) and a 384-wide text tower.",
        "config": {
            **_tower(384, 12, 6, "sensor"),
            **_tower(384, 12, 6, "text"),
            "embed_dim": 384,
        },
    },
    "sensorlm_base": {
        "description": "The seed: ViT-B/10/2 on 1440x34 (2448 tokens), 12-layer 768-wide text "
        "tower, vocab 32,000, masked-mean text pooling.",
        "config": {},
    },
    "sensorlm_base_paper": {
        "description": "The paper's configuration: ViT-B/10/2 on 1440x26 (1872 tokens), "
        "last-token (EOS) text pooling.",
        "config": {"num_channels": 26, "text_pooling": "last"},
    },
    "sensorlm_large": {
        "description": "ViT-L/10/2 sensor tower (1024 wide, 24 layers, 16 heads), B text tower.",
        "config": {**_tower(1024, 24, 16, "sensor"), "embed_dim": 768},
    },
}
