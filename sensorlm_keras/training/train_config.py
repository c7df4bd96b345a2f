"""`TrainConfig`: everything `sensorlm train` needs, from a YAML/JSON file plus overrides."""

import copy
import dataclasses
import json
import os

from sensorlm_keras.errors import ConfigError, describe
from sensorlm_keras.utils.validation import check_choice, check_float, check_positive_int


@dataclasses.dataclass
class TrainConfig:
    """Configuration of a training run. Defaults are the upstream recipe (SENSORLM_FACTS s. 4).

    Args:
        run_dir: output directory (model, tokenizer, checkpoints, backup, logs, report).
        data: TFRecord dataset directory with ``train/`` (and optionally ``validation/``,
            ``test/``) as written by ``sensorlm data synth``; None = generate the embedded
            synthetic data into ``<run_dir>/data``.
        synthetic_people, synthetic_days: size of the embedded synthetic data.
        preset: model preset name; ``model`` holds `SensorLMConfig` field overrides.
        caption_variant: caption variant trained on (upstream default ``high_summary``).
        text_length: token sequence length.
        vocabulary_size: size of the SentencePiece vocabulary trained on the train captions
            (the model's ``vocabulary_size`` follows the tokenizer).
        batch_size, steps: global batch size and number of optimizer steps.
        steps_per_checkpoint: steps between backups (Keras "epoch" length); a killed run loses
            at most this many steps.
        keep_checkpoints: number of periodic ``.keras`` checkpoints kept.
        peak_learning_rate, weight_decay, global_clipnorm, warmup_fraction, cooldown_fraction,
        timescale: the optimiser recipe (see `build_optimizer`).
        shuffle_buffer: tf.data shuffle buffer (upstream 50,000).
        seed: global seed (weights, shuffling, synthetic data, captions).
        mixed_precision: train under ``mixed_bfloat16``.
        evaluate: run the evaluation on the test split after training.
        tensorboard: write TensorBoard logs to ``<run_dir>/logs``.
        strategy: ``"none"``, ``"mirrored"``, ``"multi_worker"``, ``"tpu"`` (TensorFlow) or
            ``"data_parallel"``, ``"model_parallel"`` (JAX); see `DistributionPlan`.
        cpu_devices: split the CPU into this many devices (tests, benchmarks); None = as is.
        model_parallel_size: devices per model replica for ``"model_parallel"``.

    Example:

    ```python
    from sensorlm_keras.training import TrainConfig

    config = TrainConfig.smoke(run_dir="runs/smoke")
    config = config.with_overrides({"steps": 100, "batch_size": 16})
    ```
    """

    run_dir: str = "runs/sensorlm"
    data: object = None
    synthetic_people: int = 200
    synthetic_days: int = 7
    preset: str = "sensorlm_base"
    model: dict = dataclasses.field(default_factory=dict)
    caption_variant: str = "high_summary"
    text_length: int = 256
    vocabulary_size: int = 32000
    batch_size: int = 1024
    steps: int = 48_828
    steps_per_checkpoint: int = 1000
    keep_checkpoints: int = 3
    peak_learning_rate: float = 5e-4
    weight_decay: float = 1e-4
    global_clipnorm: float = 1.0
    warmup_fraction: float = 0.2
    cooldown_fraction: float = 0.2
    timescale: float = 10_000.0
    shuffle_buffer: int = 50_000
    seed: int = 0
    mixed_precision: bool = False
    evaluate: bool = True
    tensorboard: bool = True
    strategy: str = "none"
    cpu_devices: object = None
    model_parallel_size: int = 2

    def __post_init__(self):
        positive = ("synthetic_people", "synthetic_days", "text_length", "vocabulary_size",
                    "batch_size", "steps", "steps_per_checkpoint", "keep_checkpoints")
        for name in positive:
            check_positive_int(getattr(self, name), f"TrainConfig.{name}")
        for name in ("peak_learning_rate", "global_clipnorm", "timescale"):
            check_float(getattr(self, name), f"TrainConfig.{name}", minimum=0.0,
                        exclusive_minimum=True)
        from sensorlm_keras.distribute.distribution_plan import STRATEGIES

        check_choice(self.strategy, "TrainConfig.strategy", STRATEGIES)
        check_positive_int(self.cpu_devices, "TrainConfig.cpu_devices", allow_none=True)
        if not isinstance(self.model, dict):
            raise ConfigError(
                "TrainConfig.model: expected a mapping of SensorLMConfig overrides, received "
                f"{describe(self.model)}."
            )
        if self.steps_per_checkpoint > self.steps:
            self.steps_per_checkpoint = self.steps
        from sensorlm_keras.models.sensorlm_coca_config import COCA_PRESETS
        from sensorlm_keras.models.sensorlm_config import PRESETS

        if self.preset not in PRESETS and self.preset not in COCA_PRESETS:
            raise ConfigError(
                f"TrainConfig.preset: unknown preset {describe(self.preset)}; available: "
                f"{sorted(PRESETS) + sorted(COCA_PRESETS)}."
            )

    @classmethod
    def smoke(cls, **overrides):
        """The main job's CPU-sized run: tiny model with (10, 34) patches, 3,500 embedded
        synthetic days of 500 people, batch 32, 2,000 steps (about 5 minutes of training on
        2 cores; the measured numbers are in the README, the diagnosis in docs/learning.md).

        - Patches of 10 minutes x all 34 channels give 144 sensor tokens (``patch_size``
          ``[10, None]``: None is every channel of the dataset, so the recipe also trains on
          a dataset of fewer channels, e.g. one `sensorlm data build` wrote): every token sees a
          10-minute slice of the whole body's signals, so a 20-minute activity spans two
          tokens with all its channels, and a step is ~10x cheaper than with (30, 2) patches.
        - 500 people so that the held-out test split (10% of the people) has over 200
          labelled days, and the training split enough people for zero-shot to generalise.
        - The logit bias starts at -log(32) ~= -3.5 instead of the paper's -10: b ~= -log(B)
          balances one positive against B - 1 negatives at initialisation (SigLIP's reasoning
          behind -10 for its very large batches); with batch 32, b = -10 barely moves in a
          short run and every positive logit stays below 0.
        """
        return cls.recipe("smoke", **overrides)

    @classmethod
    def recipe(cls, name, **overrides):
        """A named recipe (`RECIPES`) with optional field overrides.

        - ``"upstream"``: the paper's recipe (the dataclass defaults: sensorlm_base, batch
          1024, 48,828 steps); for accelerators.
        - ``"smoke"``: the main job (see `smoke`), about 6 minutes on 2 CPU cores.
        - ``"long"``: the same tiny model and batch (32) with twice the people (1,000 x 7
          days) and three times the steps (6,000, rsqrt timescale 3,000: the main job's
          schedule stretched), so 3x the examples seen; about 20-30 minutes on 2 CPU cores.
          (An earlier version doubled the batch to 64 instead: retrieval doubled, zero-shot
          fell; docs/learning.md.) Measured numbers next to the main job's in the README
          ("A longer recipe").

        Args:
            name: one of `RECIPES`.
            **overrides: `TrainConfig` fields that replace the recipe's.
        """
        if name not in RECIPES:
            raise ConfigError(
                f"TrainConfig.recipe: unknown recipe {name!r}; expected one of {list(RECIPES)}."
            )
        base = copy.deepcopy(RECIPES[name])
        base.update(overrides)
        return cls(**base)

    # ------------------------------------------------------------------ files and overrides
    @classmethod
    def from_file(cls, path, smoke=False, recipe=None):
        """Read a YAML (``.yaml``/``.yml``) or JSON config file on top of a recipe.

        Args:
            path: the file.
            smoke: start from the ``"smoke"`` recipe (same as ``recipe="smoke"``).
            recipe: name of the recipe (`RECIPES`) the file's fields override; default
                ``"upstream"``.
        """
        if not os.path.isfile(path):
            raise ConfigError(f"TrainConfig: config file {path!r} does not exist.")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as error:
            raise ConfigError(f"TrainConfig: cannot read {path!r}: {error}") from None
        if path.endswith((".yaml", ".yml")):
            import yaml

            try:
                values = yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise ConfigError(f"TrainConfig: {path} is not valid YAML: {error}") from None
        else:
            try:
                values = json.loads(text)
            except json.JSONDecodeError as error:
                raise ConfigError(f"TrainConfig: {path} is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"TrainConfig: {path} must hold a mapping, received {type(values).__name__}.")
        if recipe is None:
            recipe = "smoke" if smoke else "upstream"
        return cls.recipe(recipe).with_overrides(values)

    def with_overrides(self, values):
        """A new config with ``values`` (dict; ``model.<field>`` keys update ``model``)."""
        current = dataclasses.asdict(self)
        known = set(current)
        for key, value in values.items():
            if key.startswith("model."):
                current["model"] = {**current["model"], key[len("model."):]: value}
            elif key == "model" and isinstance(value, dict):
                current["model"] = {**current["model"], **value}
            elif key in known:
                current[key] = value
            else:
                raise ConfigError(
                    f"TrainConfig: unknown field {key!r}; known fields are {sorted(known)} and "
                    "model.<SensorLMConfig field>."
                )
        return TrainConfig(**current)

    @staticmethod
    def parse_overrides(pairs):
        """``["steps=10", "model.sensor_num_layers=1"]`` -> dict (values parsed as YAML)."""
        import yaml

        out = {}
        for pair in pairs or ():
            key, sep, raw = pair.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"--set: expected KEY=VALUE, received {pair!r}.")
            try:
                out[key.strip()] = yaml.safe_load(raw)
            except yaml.YAMLError:
                out[key.strip()] = raw
        return out

    def to_dict(self):
        return dataclasses.asdict(self)


_SMOKE = dict(
    run_dir="runs/smoke",
    synthetic_people=500,
    synthetic_days=7,
    preset="sensorlm_tiny",
    model={"patch_size": [10, None], "max_text_length": 64, "logit_bias_init": -3.5},
    text_length=48,
    vocabulary_size=1024,
    batch_size=32,
    steps=2000,
    steps_per_checkpoint=500,
    peak_learning_rate=2e-3,
    shuffle_buffer=4096,
    warmup_fraction=0.1,
    timescale=1000.0,
)

RECIPES = {
    "upstream": {},
    "smoke": _SMOKE,
    "long": {
        **_SMOKE,
        "run_dir": "runs/long",
        "synthetic_people": 1000,
        "steps": 6000,
        "steps_per_checkpoint": 1000,
        "timescale": 3000.0,
    },
}
"""Named recipes of `TrainConfig.recipe` (field values over the dataclass defaults)."""
