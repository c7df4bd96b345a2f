"""Caption tokenizers: SentencePiece training and the `SensorLMTokenizer` wrapper.

Importing this package needs only NumPy; `sentencepiece`, TensorFlow, tensorflow-text and
keras-hub are imported when a tokenizer is trained, built or called.
"""

from sensorlm_keras.tokenizers.sensorlm_tokenizer import SensorLMTokenizer
from sensorlm_keras.tokenizers.train_sentencepiece import (
    EOS_ID,
    PAD_ID,
    UNK_ID,
    train_sentencepiece,
)

__all__ = [
    "EOS_ID",
    "PAD_ID",
    "UNK_ID",
    "SensorLMTokenizer",
    "train_sentencepiece",
]
