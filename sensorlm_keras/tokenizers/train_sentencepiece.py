"""`train_sentencepiece`: train the caption vocabulary with the `sentencepiece` package."""

import io
import os
import re

from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.atomic_io import atomic_write_bytes
from sensorlm_keras.utils.validation import check_choice, check_float, check_int

PAD_ID = 0
EOS_ID = 1
UNK_ID = 2
_MODEL_TYPES = ("unigram", "bpe", "char", "word")


def _lowered_texts(corpus_iterable, max_sentences, counter):
    for i, text in enumerate(corpus_iterable):
        if max_sentences is not None and counter[0] >= max_sentences:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not isinstance(text, str):
            raise DataError(
                f"train_sentencepiece(corpus_iterable): item {i} is not a string; received "
                f"{describe(text)}."
            )
        text = text.strip().lower()
        if text:
            counter[0] += 1
            yield text


def train_sentencepiece(
    corpus_iterable,
    vocabulary_size,
    model_file=None,
    model_type="unigram",
    character_coverage=1.0,
    hard_vocab_limit=True,
    max_sentence_length=16384,
    max_sentences=None,
    num_threads=1,
    seed_sentencepiece_size=200000,
):
    """Train a SentencePiece model on (lower-cased) captions and write it atomically.

    The id layout is that of the T5 vocabulary the paper used: ``<pad>`` = 0, ``</s>`` (EOS) = 1,
    ``<unk>`` = 2, no BOS. Text is lower-cased before training, as `SensorLMTokenizer` does
    before encoding.

    Args:
        corpus_iterable: iterable of strings (captions or sentences). Empty strings are skipped.
        vocabulary_size: number of pieces, including the three special ones.
        model_file: path of the ``.model`` file to write (atomically: a temporary file in the
            same directory, fsync, rename). ``None`` only returns the bytes.
        model_type: ``"unigram"`` (default), ``"bpe"``, ``"char"`` or ``"word"``.
        character_coverage: fraction of characters covered by the vocabulary (1.0 for the
            English captions).
        hard_vocab_limit: when ``True`` (default) a corpus too small for ``vocabulary_size``
            raises `DataError` naming the largest possible size; when ``False`` sentencepiece
            returns a smaller vocabulary instead.
        max_sentence_length: longest accepted input in bytes (captions can be long).
        max_sentences: use at most this many texts (``None``: all).
        num_threads: trainer threads (1 keeps training deterministic).
        seed_sentencepiece_size: size of the initial unigram seed vocabulary.

    Returns:
        The serialized model proto (``bytes``).

    Example:

    ```python
    from sensorlm_keras.tokenizers import SensorLMTokenizer, train_sentencepiece

    captions = ["The heart rate peaked at 150 bpm during a 40 minute run.", ...]
    proto = train_sentencepiece(captions, vocabulary_size=500, model_file="spm/tokenizer.model")
    tokenizer = SensorLMTokenizer(proto, text_length=64)
    ```
    """
    vocabulary_size, model_file = _check_arguments(
        corpus_iterable, vocabulary_size, model_file, model_type, character_coverage
    )
    counter = [0]
    proto = _train(
        _lowered_texts(corpus_iterable, max_sentences, counter),
        counter,
        vocab_size=vocabulary_size,
        model_type=model_type,
        character_coverage=float(character_coverage),
        pad_id=PAD_ID,
        eos_id=EOS_ID,
        unk_id=UNK_ID,
        bos_id=-1,
        hard_vocab_limit=bool(hard_vocab_limit),
        max_sentence_length=int(max_sentence_length),
        num_threads=int(num_threads),
        seed_sentencepiece_size=int(seed_sentencepiece_size),
        minloglevel=2,
    )
    if model_file is not None:
        atomic_write_bytes(model_file, proto)
    return proto


def _check_arguments(corpus_iterable, vocabulary_size, model_file, model_type,
                     character_coverage):
    """``(vocabulary_size, model_file)`` after checking every argument of the trainer."""
    # At least the 3 special pieces plus one.
    vocabulary_size = check_int(vocabulary_size, "train_sentencepiece(vocabulary_size)", minimum=4)
    check_choice(model_type, "train_sentencepiece(model_type)", _MODEL_TYPES)
    check_float(character_coverage, "train_sentencepiece(character_coverage)", 0, 1,
                exclusive_minimum=True)
    if isinstance(corpus_iterable, (str, bytes)):
        raise ConfigError(
            "train_sentencepiece(corpus_iterable): expected an iterable of strings, received a "
            "single string."
        )
    if model_file is not None:
        model_file = os.fspath(model_file)
        if os.path.isdir(model_file):
            raise ConfigError(
                f"train_sentencepiece(model_file): expected a file path, received the "
                f"directory {model_file!r}."
            )
    return vocabulary_size, model_file


def _train(sentences, counter, **options):
    """Run the sentencepiece trainer in memory; its errors become `DataError` s that say what
    to change (``counter[0]`` counts the texts the trainer consumed)."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=sentences, model_writer=buffer,
                                       **options)
    except DataError:
        raise
    except RuntimeError as error:
        message = str(error)
        if counter[0] == 0:
            raise DataError(
                "train_sentencepiece(corpus_iterable): expected at least one non-empty text, "
                "received none."
            ) from None
        match = re.search(r"value <= (\d+)", message)
        if match:
            raise DataError(
                f"train_sentencepiece(vocabulary_size): the corpus ({counter[0]} texts) supports "
                f"at most {match.group(1)} pieces, received vocabulary_size="
                f"{options['vocab_size']}. Use a larger corpus, a smaller vocabulary_size, or "
                "hard_vocab_limit=False."
            ) from None
        raise DataError(f"train_sentencepiece: sentencepiece failed: {message}") from None
    proto = buffer.getvalue()
    if not proto:
        raise DataError("train_sentencepiece: sentencepiece produced an empty model.")
    return proto
