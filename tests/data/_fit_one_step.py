"""Run ONE `model.fit` step of SensorLM on a TFRecord dataset (used by test_roundtrip_backends).

Usage: KERAS_BACKEND=<backend> python _fit_one_step.py DATASET_DIR TOKENIZER_DIR TEXT_LENGTH
Prints a JSON line {"backend": ..., "loss": ...} on success.
"""

import json
import math
import sys

import keras

from sensorlm_keras import SensorLM
from sensorlm_keras.data import make_dataset
from sensorlm_keras.tokenizers import SensorLMTokenizer


def main(dataset_dir, tokenizer_dir, text_length):
    keras.utils.set_random_seed(0)
    tokenizer = SensorLMTokenizer.load(tokenizer_dir, text_length=text_length)
    dataset = make_dataset(
        dataset_dir,
        tokenizer,
        batch_size=2,
        shuffle_buffer=4,
        seed=0,
        repeat=True,
        drop_remainder=True,
    )
    model = SensorLM.from_preset(
        "sensorlm_tiny",
        sequence_length=1440,
        num_channels=34,
        vocabulary_size=tokenizer.vocabulary_size,
        max_text_length=text_length,
    )
    model.compile(optimizer="adam")
    history = model.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    loss = float(history.history["loss"][-1])
    print(json.dumps({"backend": keras.backend.backend(), "loss": loss}))
    return 0 if math.isfinite(loss) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
