"""Classification metrics against scikit-learn, and zero-shot classification on planted
embeddings (a stub model whose text and sensor embeddings are known)."""

import numpy as np
import pytest
from sklearn import metrics as skm

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation import (
    DEFAULT_PROMPT_TEMPLATES,
    NONE_PROMPTS,
    ZeroShotClassifier,
    binary_auroc,
    classification_metrics,
)

CLASSES = ["run", "walk", "swim", "yoga"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = list(rng.choice(CLASSES, size=60))
    y_pred = list(rng.choice(CLASSES, size=60))
    scores = rng.normal(size=(60, 4))
    scores[:, 0] = np.round(scores[:, 0])  # ties inside a column
    m = classification_metrics(y_true, y_pred, CLASSES, scores)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    np.testing.assert_array_equal(
        m["confusion_matrix"], skm.confusion_matrix(y_true, y_pred, labels=CLASSES))
    for i, name in enumerate(CLASSES):
        ref = skm.roc_auc_score(np.array(y_true) == name, scores[:, i])
        assert m["auroc_per_class"][name] == pytest.approx(ref)
    refs = [skm.roc_auc_score(np.array(y_true) == c, scores[:, i]) for i, c in enumerate(CLASSES)]
    assert m["auroc_macro"] == pytest.approx(np.mean(refs))
    assert m["auroc_skipped"] == []


def test_auroc_skips_classes_absent_from_y_true_and_says_so():
    rng = np.random.default_rng(5)
    y_true = list(rng.choice(["run", "walk"], size=30))
    y_pred = list(rng.choice(CLASSES, size=30))
    scores = rng.normal(size=(30, 4))
    m = classification_metrics(y_true, y_pred, CLASSES, scores)
    assert m["auroc_skipped"] == ["swim", "yoga"]
    assert m["auroc_per_class"]["swim"] is None
    assert "swim" in m["auroc_note"] and "yoga" in m["auroc_note"]
    ref = np.mean([skm.roc_auc_score(np.array(y_true) == c, scores[:, i])
                   for i, c in enumerate(CLASSES[:2])])
    assert m["auroc_macro"] == pytest.approx(ref)
    # macro-F1 over classes seen or predicted, like sklearn's default
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert binary_auroc([True, True], [0.1, 0.2]) is None


@pytest.mark.parametrize(
    "args, match",
    [
        ((["run"], ["run", "walk"], CLASSES), "expected 1 predictions"),
        ((["jog"], ["run"], CLASSES), "not among the classes"),
        (([], [], CLASSES), "at least one"),
        ((["run"], ["run"], ["run", "run"]), "unique"),
        ((["run"], ["run"], "run"), "list of class-name"),
        ((["run", "walk"], ["run", "walk"], CLASSES, np.zeros((2, 3))), "scores"),
        ((["run", "walk"], ["run", "walk"], CLASSES, np.full((2, 4), np.nan)), "NaN"),
    ],
)
def test_metrics_bad_inputs(args, match):
    with pytest.raises(InputValidationError, match=match):
        classification_metrics(*args)


class PlantedTokenizer:
    """Maps every text to a unique id (one token) and remembers the texts."""

    def __init__(self):
        self.texts = []

    def __call__(self, texts):
        ids = []
        for t in texts:
            self.texts.append(t)
            ids.append([len(self.texts) - 1])
        ids = np.array(ids, dtype=np.int32)
        return {"token_ids": ids, "padding_mask": np.ones_like(ids, dtype=bool)}


class PlantedModel:
    """Duck-typed SensorLM: text embeddings from a function of the text, sensor 'days' of
    shape (N, 1, D) whose single row is the embedding, similarity = 10 cos - 10."""

    def __init__(self, tokenizer, text_vector):
        self.tokenizer = tokenizer
        self.text_vector = text_vector

    def encode_text(self, token_ids, padding_mask=None, batch_size=64):
        return np.stack([self.text_vector(self.tokenizer.texts[int(i)]) for i in token_ids[:, 0]])

    def encode_sensor(self, sensor, batch_size=64):
        z = np.asarray(sensor, np.float64)[:, 0, :]
        return z / np.linalg.norm(z, axis=1, keepdims=True)

    def similarity(self, s, t, probabilities=False):
        return 10.0 * np.asarray(s) @ np.asarray(t).T - 10.0


def _class_of(text, classes):
    return next(i for i, c in enumerate(classes) if c in text.lower())


def test_zero_shot_identity_embeddings_give_accuracy_one():
    tokenizer = PlantedTokenizer()
    rng = np.random.default_rng(0)
    d = 8
    eye = np.eye(d)

    def text_vector(text):  # prompt of class c -> e_c plus a little template noise
        return eye[_class_of(text, CLASSES)] + 0.05 * rng.normal(size=d)

    model = PlantedModel(tokenizer, text_vector)
    labels = list(rng.choice(CLASSES, size=20))
    sensor = np.stack([eye[CLASSES.index(y)] for y in labels])[:, None, :]
    classifier = ZeroShotClassifier(model, tokenizer, CLASSES)
    result = classifier.evaluate(sensor, labels)
    assert result["accuracy"] == 1.0
    assert result["macro_f1"] == 1.0
    assert result["auroc_macro"] == 1.0
    assert list(classifier.predict(sensor)) == labels
    proba = classifier.predict_proba(sensor)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.argmax(proba, axis=1) == [CLASSES.index(y) for y in labels])
    # embeddings can be passed instead of days
    z = model.encode_sensor(sensor)
    assert list(classifier.predict(z)) == labels
    assert result["num_prompts_per_class"] == {c: len(DEFAULT_PROMPT_TEMPLATES) for c in CLASSES}


def test_prompt_ensembling_is_mean_of_normalised_embeddings_renormalised():
    tokenizer = PlantedTokenizer()
    rng = np.random.default_rng(1)
    vectors = {}

    def text_vector(text):
        return vectors.setdefault(text, rng.normal(size=6) * rng.uniform(0.1, 10))

    model = PlantedModel(tokenizer, text_vector)
    templates = ["a {} day", "{} was logged.", "Logged activity: {}."]
    classifier = ZeroShotClassifier(model, tokenizer, ["run", "walk"], templates=templates)
    got = classifier.class_embeddings
    prompts = classifier.prompts()
    assert prompts["walk"] == ("a walk day", "Walk was logged.", "Logged activity: walk.")
    for i, name in enumerate(["run", "walk"]):
        unit = [vectors[p] / np.linalg.norm(vectors[p]) for p in prompts[name]]
        mean = np.mean(unit, axis=0)
        np.testing.assert_allclose(got[i], mean / np.linalg.norm(mean), rtol=1e-5)


def test_none_class_uses_its_own_prompts():
    tokenizer = PlantedTokenizer()
    model = PlantedModel(tokenizer, lambda text: np.ones(4))
    classifier = ZeroShotClassifier(model, tokenizer, ["run", "none"])
    assert classifier.prompts()["none"] == NONE_PROMPTS
    assert len(DEFAULT_PROMPT_TEMPLATES) >= 8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"class_names": []}, "at least one"),
        ({"class_names": ["run", "run"]}, "unique"),
        ({"templates": ["no placeholder"]}, "placeholder"),
        ({"templates": ["{} and {}"]}, "placeholder"),
        ({"templates": []}, "at least one template"),
        ({"class_prompts": {"jog": ["x"]}}, "not one of the classes"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_zero_shot_bad_inputs(kwargs, match):
    tokenizer = PlantedTokenizer()
    model = PlantedModel(tokenizer, lambda text: np.ones(4))
    args = {"class_names": ["run", "walk"], **kwargs}
    with pytest.raises(InputValidationError, match=match):
        ZeroShotClassifier(model, tokenizer, **args)


def test_zero_shot_rejects_non_model_and_bad_arrays():
    tokenizer = PlantedTokenizer()
    with pytest.raises(InputValidationError, match="SensorLM"):
        ZeroShotClassifier(object(), tokenizer, ["run", "walk"])
    model = PlantedModel(tokenizer, lambda text: np.ones(4))
    classifier = ZeroShotClassifier(model, tokenizer, ["run", "walk"])
    with pytest.raises(InputValidationError, match=r"\(N, T, C\)"):
        classifier.predict(np.ones(4))
    with pytest.raises(InputValidationError, match="expected 2 labels"):
        classifier.evaluate(np.ones((2, 1, 4)), ["run"])
