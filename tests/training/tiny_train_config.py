"""A tiny `sensorlm train` configuration shared by the CLI-level training tests."""

TINY_TRAIN_CONFIG = {
    "synthetic_people": 6,
    "synthetic_days": 2,
    "preset": "sensorlm_tiny",
    "model": {"patch_size": [60, 2], "sensor_num_layers": 1, "text_num_layers": 1,
              "max_text_length": 32},
    "text_length": 24,
    "vocabulary_size": 200,
    "batch_size": 4,
    "steps": 12,
    "steps_per_checkpoint": 3,
    "shuffle_buffer": 16,
    "evaluate": False,
    "tensorboard": False,
}
