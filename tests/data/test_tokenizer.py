"""SentencePiece training and SensorLMTokenizer: ids, EOS, padding, truncation, graph == eager."""

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlm_keras.errors import ConfigError, DataError
from sensorlm_keras.tokenizers import EOS_ID, PAD_ID, UNK_ID, SensorLMTokenizer, train_sentencepiece

from ._pipeline_helpers import caption_corpus, write_dataset

tf = pytest.importorskip("tensorflow")
spm = pytest.importorskip("sentencepiece")

L = 24


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok_ds")
    write_dataset(root, people=2, days=2, shards=1)
    return caption_corpus(root / "train")


@pytest.fixture(scope="module")
def model_file(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("spm") / "captions.model"
    train_sentencepiece(corpus, vocabulary_size=256, model_file=path)
    return path


@pytest.fixture(scope="module")
def tokenizer(model_file):
    return SensorLMTokenizer.from_file(model_file, text_length=L)


@pytest.fixture(scope="module")
def processor(model_file):
    return spm.SentencePieceProcessor(model_file=str(model_file))


TEXTS = [
    "Heart rate peaked at 152.3 bpm during a 45 minute RUN.",
    "The user slept 7 hours 31 minutes, from 23:10 to 06:41 across midnight.",
    "",
    "Sleep",
    "Électrodermal activity stayed stable; ümlauts and 日本 are unknown pieces.",
]


def test_trained_model_layout(processor, tokenizer):
    assert processor.pad_id() == PAD_ID == 0
    assert processor.eos_id() == EOS_ID == 1
    assert processor.unk_id() == UNK_ID == 2
    assert processor.bos_id() == -1
    assert tokenizer.vocabulary_size == processor.get_piece_size() == 256
    assert tokenizer.id_to_token(1) == "</s>"


def test_ids_equal_raw_sentencepiece(tokenizer, processor):
    out = tokenizer(TEXTS)
    assert out["token_ids"].dtype == np.int32 and out["token_ids"].shape == (len(TEXTS), L)
    assert out["padding_mask"].dtype == bool
    for text, ids, mask in zip(TEXTS, out["token_ids"], out["padding_mask"]):
        expected = processor.encode(text.lower())[: L - 1] + [EOS_ID]
        n = len(expected)
        assert ids[:n].tolist() == expected
        assert (ids[n:] == PAD_ID).all()
        assert mask.tolist() == [True] * n + [False] * (L - n)


def test_lowercasing_eos_padding_and_truncation(tokenizer):
    upper = tokenizer("SLEEP WAS LOGGED")
    lower = tokenizer("sleep was logged")
    assert upper["token_ids"].shape == (L,)
    assert np.array_equal(upper["token_ids"], lower["token_ids"])
    empty = tokenizer("")
    assert empty["token_ids"][0] == EOS_ID and empty["padding_mask"].sum() == 1
    long = tokenizer(" ".join(["heart rate"] * 100))
    assert long["padding_mask"].all()
    assert long["token_ids"][-1] == EOS_ID
    assert (long["token_ids"][:-1] != EOS_ID).all()
    short = tokenizer(["sleep"], text_length=4)
    assert short["token_ids"].shape == (1, 4)
    assert tokenizer([])["token_ids"].shape == (0, L)


def test_graph_mode_equals_eager_mode(tokenizer):
    eager = tokenizer(TEXTS)
    batched = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2).map(tokenizer)
    graph_ids = np.concatenate([b["token_ids"].numpy() for b in batched])
    graph_mask = np.concatenate([b["padding_mask"].numpy() for b in batched])
    assert np.array_equal(graph_ids, eager["token_ids"])
    assert np.array_equal(graph_mask, eager["padding_mask"])
    scalars = list(tf.data.Dataset.from_tensor_slices(TEXTS).map(tokenizer))
    assert np.array_equal(np.stack([s["token_ids"].numpy() for s in scalars]), eager["token_ids"])
    fn = tf.function(lambda x: tokenizer(x, text_length=L))
    traced = fn(tf.constant(TEXTS))
    assert np.array_equal(traced["token_ids"].numpy(), eager["token_ids"])
    as_tensor = tokenizer(tf.constant(TEXTS))
    assert isinstance(as_tensor["token_ids"], tf.Tensor)
    assert np.array_equal(as_tensor["token_ids"].numpy(), eager["token_ids"])


def test_detokenize_round_trip(tokenizer):
    text = "the user slept 7 hours"
    ids = tokenizer(text)["token_ids"]
    assert tokenizer.detokenize(ids) == text
    assert tokenizer.detokenize(tokenizer([text, "sleep"])["token_ids"]) == [text, "sleep"]
    with pytest.raises(DataError, match="token_ids"):
        tokenizer.detokenize(np.zeros((1, 2, 3), np.int32))


def test_save_and_load(tokenizer, tmp_path):
    tokenizer.save(tmp_path / "tok")
    assert sorted(os.listdir(tmp_path / "tok")) == ["tokenizer.json", "tokenizer.model"]
    config = json.loads((tmp_path / "tok" / "tokenizer.json").read_text())
    assert config["text_length"] == L and config["vocabulary_size"] == 256
    loaded = SensorLMTokenizer.load(tmp_path / "tok")
    assert loaded.text_length == L and loaded.vocabulary_size == tokenizer.vocabulary_size
    assert np.array_equal(loaded(TEXTS)["token_ids"], tokenizer(TEXTS)["token_ids"])
    longer = SensorLMTokenizer.load(tmp_path / "tok", text_length=40)
    assert longer(TEXTS)["token_ids"].shape == (len(TEXTS), 40)
    assert tokenizer.keras_hub_tokenizer.vocabulary_size() == 256


def test_errors(corpus, tmp_path):
    with pytest.raises(DataError, match="at most"):
        train_sentencepiece(corpus[:3], vocabulary_size=5000)
    proto = train_sentencepiece(corpus[:3], vocabulary_size=5000, hard_vocab_limit=False)
    assert 3 < SensorLMTokenizer(proto).vocabulary_size < 5000
    with pytest.raises(DataError, match="non-empty"):
        train_sentencepiece(["", "  "], vocabulary_size=50)
    with pytest.raises(DataError, match="item 1"):
        train_sentencepiece(["ok", 3], vocabulary_size=50)
    with pytest.raises(ConfigError, match="vocabulary_size"):
        train_sentencepiece(corpus, vocabulary_size=2)
    with pytest.raises(ConfigError, match="single string"):
        train_sentencepiece("not a list", vocabulary_size=50)
    with pytest.raises(ConfigError, match="valid SentencePiece"):
        SensorLMTokenizer(b"not a model")
    with pytest.raises(ConfigError, match="does not exist"):
        SensorLMTokenizer(str(tmp_path / "missing.model"))
    with pytest.raises(ConfigError, match="text_length"):
        SensorLMTokenizer(proto, text_length=0)
    with pytest.raises(ConfigError, match="tokenizer.json"):
        SensorLMTokenizer.load(tmp_path)
    tok = SensorLMTokenizer(proto, text_length=8)
    with pytest.raises(DataError, match="item 1"):
        tok(["fine", 7])
    with pytest.raises(DataError, match="tf.string"):
        tok(tf.constant([1, 2]))


def test_model_file_write_is_atomic(corpus, tmp_path, monkeypatch):
    target = tmp_path / "spm.model"

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        train_sentencepiece(corpus, vocabulary_size=128, model_file=target)
    assert os.listdir(tmp_path) == []  # neither the final name nor a temporary file


@settings(max_examples=25, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_gives_a_well_formed_sequence(tokenizer, text):
    out = tokenizer(text)
    ids, mask = out["token_ids"], out["padding_mask"]
    n = int(mask.sum())
    assert 1 <= n <= L
    assert mask[:n].all() and not mask[n:].any()
    assert ids[n - 1] == EOS_ID and (ids[: n - 1] != EOS_ID).all()
    assert (ids[n:] == PAD_ID).all() and (ids[:n] != PAD_ID).all()
    assert ids.max() < tokenizer.vocabulary_size
