"""Fuzz `SensorLMTokenizer`: any text (empty, huge, control characters, every Unicode plane,
lone surrogates, non-UTF-8 bytes, wrong types and ranks) gives ids in range with a bounded,
well-formed layout, or a named project error."""

import string

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.tokenizers import EOS_ID, PAD_ID, SensorLMTokenizer, train_sentencepiece
from tests.reliability.fuzz_counts import run_case

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # big reprs

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.generate))
L = 32
SIMPLE = string.ascii_lowercase + string.digits + " "
# Large texts (time grows linearly: a 1 MB text is tested once, outside the fuzz loop).
HUGE = ["a" * 100_000, "é" * 20_000, "\x00" * 5000, "word " * 20_000, "\U0001F600" * 5000]


@pytest.fixture(scope="module")
def tokenizer():
    rng = np.random.default_rng(0)
    words = ["heart", "rate", "sleep", "run", "minutes", "steps", "the", "user", "walked",
             "from", "to", "at", "bpm", "was", "and", "stable"]
    corpus = [" ".join(rng.choice(words, size=12)) + f" {i} {i * 7 % 101}" for i in range(300)]
    corpus.append(" ".join(SIMPLE))  # every simple character is a piece
    return SensorLMTokenizer(train_sentencepiece(corpus, vocabulary_size=160,
                                                 hard_vocab_limit=False), text_length=L)


lone_surrogates = st.sampled_from(["\ud800", "abc\udfff", "\udc80\udc81"])
one_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=SIMPLE, max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(HUGE),
    lone_surrogates,
    st.binary(max_size=60),
)
texts = st.one_of(
    one_text,
    st.lists(one_text, max_size=6),
    st.lists(st.text(alphabet=SIMPLE, max_size=100), min_size=1, max_size=8),
    st.lists(st.one_of(one_text, st.integers(), st.none()), max_size=4),
    st.sampled_from([None, 5, 2.5, {"text": "x"}, np.array([["a", "b"]]), np.array(["a", "b"]),
                     np.array([1, 2])]),
)
# A few lengths only: each new length traces a new TensorFlow function (slow, not interesting).
lengths = st.one_of(st.none(), st.none(), st.sampled_from([1, 2, 5, 300]),
                    st.sampled_from([0, -1, 10**9, True, 2.5, "8"]))


def _check_layout(out, n, length, vocabulary_size):
    ids, mask = np.asarray(out["token_ids"]), np.asarray(out["padding_mask"])
    assert ids.shape == (n, length) and mask.shape == (n, length)
    assert ids.dtype == np.int32 and mask.dtype == bool
    assert ids.min(initial=0) >= 0 and ids.max(initial=0) < vocabulary_size
    real = mask.sum(axis=1)
    assert (real >= 1).all() and (real <= length).all()
    positions = np.arange(length)[None, :]
    assert np.array_equal(mask, positions < real[:, None])  # real tokens form a prefix
    assert (ids[np.arange(n), real - 1] == EOS_ID).all()  # EOS is the last real token
    assert (ids[~mask] == PAD_ID).all()
    body = np.where(positions < (real - 1)[:, None], ids, 2)
    assert not np.isin(body, (PAD_ID, EOS_ID)).any()
    return ids, real


@settings(max_examples=300, **SETTINGS)
@given(texts, lengths)
def test_fuzz_tokenize(tokenizer, text, text_length):
    single = isinstance(text, (str, bytes))
    items = [text] if single else text
    length = L if text_length is None else text_length

    def check(out):
        if single:
            out = {k: np.asarray(v)[None] for k, v in out.items()}
        ids, real = _check_layout(out, len(items), length, tokenizer.vocabulary_size)
        decoded = tokenizer.detokenize(ids)
        assert isinstance(decoded, list) and all(isinstance(d, str) for d in decoded)
        for item, row_real, back in zip(items, real, decoded):
            simple = isinstance(item, str) and set(item) <= set(SIMPLE)
            if simple and row_real < length:  # not truncated: the text comes back
                assert back == " ".join(item.split()), (item, back)

    run_case("fuzz SensorLMTokenizer (texts)",
             lambda: tokenizer(text, text_length=text_length),
             (DataError, ConfigError), check, fields=("texts", "text_length", "item"))


@settings(max_examples=60, **SETTINGS)
@given(st.lists(one_text.filter(lambda t: isinstance(t, str)), max_size=5),
       st.sampled_from([0, 1, 2]))
def test_fuzz_tokenize_tf_string_tensors(tokenizer, items, rank):
    def call():
        try:
            tensor = tf.constant(items, dtype=tf.string)
        except (UnicodeEncodeError, ValueError):  # lone surrogates cannot become tf.string
            tensor = tf.constant([i.encode("utf-8", "replace") for i in items], dtype=tf.string)
        if rank == 0:
            tensor = tensor[0] if items else tf.constant("x")
        elif rank == 2:
            tensor = tf.reshape(tensor, [1, -1])
        return tokenizer(tensor), tensor

    def check(result):
        out, tensor = result
        n = 1 if rank == 0 else int(tensor.shape[0])
        out = {k: np.asarray(v).reshape(n, L) for k, v in out.items()}
        _check_layout(out, n, L, tokenizer.vocabulary_size)

    run_case("fuzz SensorLMTokenizer (tf.string tensors)", call, (DataError,), check,
             fields=("texts",))


@settings(max_examples=100, **SETTINGS)
@given(st.one_of(
    st.lists(st.lists(st.integers(-5, 300), max_size=40), min_size=1, max_size=4),
    st.lists(st.integers(-(2**40), 2**40), max_size=40),
    st.sampled_from([np.zeros((2, 3, 4), np.int32), np.array([0.5, 1.5]), np.array([], float),
                     np.zeros((0, 5), np.int64)]),
))
def test_fuzz_detokenize(tokenizer, ids):
    def call():
        return tokenizer.detokenize(ids)  # ragged lists included

    def check(out):
        assert isinstance(out, (str, list))
        for text in [out] if isinstance(out, str) else out:
            assert isinstance(text, str)
            text.encode("utf-8")

    run_case("fuzz SensorLMTokenizer.detokenize (ids)", call, (DataError,), check,
             fields=("token_ids", "ids"))


def test_megabyte_text_gives_a_bounded_sequence(tokenizer):
    out = tokenizer(["a" * 10**6, "word " * 200_000])
    ids, real = _check_layout(out, 2, L, tokenizer.vocabulary_size)
    assert (real == L).all()  # truncated to L - 1 pieces + EOS
