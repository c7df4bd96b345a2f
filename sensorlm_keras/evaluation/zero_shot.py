"""`ZeroShotClassifier`: classify sensor days by their similarity to class prompts."""

import numpy as np

from sensorlm_keras.data.captions.zero_shot_prompts import (
    DEFAULT_PROMPT_TEMPLATES,
    NONE_CLASS,
    NONE_PROMPTS,
)
from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.evaluation.classification_metrics import (
    check_class_names,
    classification_metrics,
)
from sensorlm_keras.utils.validation import check_positive_int

def _normalize_rows(x, eps=1e-12):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def check_templates(templates, field="templates"):
    """Validate prompt templates: non-empty strings with exactly one ``{}`` each."""
    if isinstance(templates, str) or templates is None:
        raise InputValidationError(
            f"{field}: expected a list of template strings with one '{{}}' each, received "
            f"{describe(templates)}."
        )
    templates = list(templates)
    if not templates:
        raise InputValidationError(f"{field}: expected at least one template, received none.")
    for t in templates:
        if not isinstance(t, str) or t.count("{}") != 1 or t.replace("{}", "").count("{") or \
                t.replace("{}", "").count("}"):
            raise InputValidationError(
                f"{field}: expected strings with exactly one '{{}}' placeholder (and no other "
                f"braces), received {t!r}."
            )
    return tuple(templates)


def fill_template(template, class_name):
    """``template.format(class_name)`` with the first letter capitalised when the template
    starts with the class name (``"{} was logged."`` -> ``"Run was logged."``)."""
    text = template.format(class_name)
    if template.startswith("{}") and text:
        text = text[0].upper() + text[1:]
    return text


class ZeroShotClassifier:
    """Zero-shot classifier of sensor days from class names and prompt templates.

    Every class is described by several prompts (each template filled with the class name, or
    the explicit prompts of ``class_prompts``). The text embeddings of a class's prompts are
    L2-normalised, averaged and renormalised (prompt ensembling) into one class embedding.
    Scores are ``model.similarity(sensor_embeddings, class_embeddings)`` (the model's logits,
    ``exp(t') s . c + b``); the prediction is the arg-max (ties: first class).
    `predict_proba` is the softmax of the scores over the classes (the sigmoid outputs of a
    SigLIP model are per-pair and do not sum to one).

    Only the model's public methods are used (``encode_sensor``, ``encode_text``,
    ``similarity``), so it works on every Keras backend (and with any object that provides
    them).

    Args:
        model: a `SensorLM` (or an object with the same three methods).
        tokenizer: callable ``tokenizer(list_of_str) -> {"token_ids", "padding_mask"}``
            (e.g. `SensorLMTokenizer`).
        class_names: the ``K`` class names, e.g. ``["run", "walk", "swim"]``.
        templates: prompt templates with one ``{}`` (default `DEFAULT_PROMPT_TEMPLATES`).
        class_prompts: optional dict class name -> list of full prompts that replaces the
            templates for that class. By default the class ``"none"`` (if listed) uses
            `NONE_PROMPTS`.
        batch_size: batch size of the encoders.

    Example:

    ```python
    from sensorlm_keras.evaluation import ZeroShotClassifier
    from sensorlm_keras.runs import load_run

    run = load_run("runs/tiny")
    classifier = ZeroShotClassifier(run.model, run.tokenizer, ["run", "walk", "yoga"])
    predicted = classifier.predict(days_sensor)         # (N,) class names
    probabilities = classifier.predict_proba(days_sensor)  # (N, 3), rows sum to 1
    metrics = classifier.evaluate(days_sensor, labels)  # accuracy, macro-F1, AUROC, confusion
    ```
    """

    def __init__(self, model, tokenizer, class_names, templates=None, class_prompts=None,
                 batch_size=64):
        for method in ("encode_sensor", "encode_text", "similarity"):
            if not callable(getattr(model, method, None)):
                raise InputValidationError(
                    f"ZeroShotClassifier.model: expected a SensorLM (with {method}()), received "
                    f"{describe(model)}."
                )
        if not callable(tokenizer):
            raise InputValidationError(
                f"ZeroShotClassifier.tokenizer: expected a callable tokenizer, received "
                f"{describe(tokenizer)}."
            )
        self.batch_size = check_positive_int(batch_size, "ZeroShotClassifier.batch_size",
                                             error=InputValidationError)
        self.model = model
        self.tokenizer = tokenizer
        self.class_names = check_class_names(class_names)
        self.templates = check_templates(
            DEFAULT_PROMPT_TEMPLATES if templates is None else templates
        )
        prompts = {NONE_CLASS: NONE_PROMPTS} if NONE_CLASS in self.class_names else {}
        if class_prompts is not None:
            if not isinstance(class_prompts, dict):
                raise InputValidationError(
                    f"ZeroShotClassifier.class_prompts: expected a dict class -> prompts, "
                    f"received {describe(class_prompts)}."
                )
            for name, texts in class_prompts.items():
                if name not in self.class_names:
                    raise InputValidationError(
                        f"ZeroShotClassifier.class_prompts: {name!r} is not one of the classes "
                        f"{list(self.class_names)}."
                    )
                texts = [texts] if isinstance(texts, str) else list(texts)
                if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                    raise InputValidationError(
                        f"ZeroShotClassifier.class_prompts[{name!r}]: expected non-empty "
                        f"strings, received {texts!r}."
                    )
                prompts[name] = tuple(texts)
        self.class_prompts = prompts
        self._class_embeddings = None

    # ------------------------------------------------------------------ prompts
    def prompts(self):
        """dict class name -> tuple of the prompts that describe it."""
        return {
            name: self.class_prompts.get(
                name, tuple(fill_template(t, name) for t in self.templates)
            )
            for name in self.class_names
        }

    @property
    def class_embeddings(self):
        """``(K, D)`` float32 ensembled class embeddings (computed once, then cached)."""
        if self._class_embeddings is None:
            prompts = self.prompts()
            texts = [p for name in self.class_names for p in prompts[name]]
            tokens = self.tokenizer(texts)
            embeddings = self.model.encode_text(
                np.asarray(tokens["token_ids"]),
                np.asarray(tokens["padding_mask"]),
                batch_size=self.batch_size,
            )
            embeddings = _normalize_rows(embeddings)
            out, start = [], 0
            for name in self.class_names:
                count = len(prompts[name])
                out.append(embeddings[start : start + count].mean(axis=0))
                start += count
            self._class_embeddings = _normalize_rows(np.stack(out)).astype(np.float32)
        return self._class_embeddings

    # ------------------------------------------------------------------ scoring
    def sensor_embeddings(self, sensor_or_embeddings):
        """``(N, T, C)`` sensor days -> ``(N, D)`` embeddings; 2-D input is returned as is."""
        array = np.asarray(sensor_or_embeddings)
        if array.ndim == 3:
            return self.model.encode_sensor(array, batch_size=self.batch_size)
        if array.ndim == 2:
            return array.astype(np.float32, copy=False)
        raise InputValidationError(
            "ZeroShotClassifier: expected sensor days (N, T, C) or sensor embeddings (N, D), "
            f"received {describe(sensor_or_embeddings)}."
        )

    def scores(self, sensor_or_embeddings):
        """``(N, K)`` similarity logits of every day with every class."""
        return np.asarray(
            self.model.similarity(self.sensor_embeddings(sensor_or_embeddings),
                                  self.class_embeddings),
            dtype=np.float64,
        )

    def predict_proba(self, sensor_or_embeddings):
        """``(N, K)`` softmax over the classes of the similarity logits."""
        from scipy.special import softmax

        return softmax(self.scores(sensor_or_embeddings), axis=1)

    def predict(self, sensor_or_embeddings):
        """``(N,)`` array of predicted class names."""
        scores = self.scores(sensor_or_embeddings)
        return np.array(self.class_names, dtype=object)[np.argmax(scores, axis=1)]

    def evaluate(self, sensor_or_embeddings, labels):
        """`classification_metrics` of the predictions against ``labels`` (class names),
        with the similarity logits as AUROC scores, plus ``predictions``."""
        labels = [str(v) for v in np.asarray(labels, dtype=object).reshape(-1)]
        scores = self.scores(sensor_or_embeddings)
        if scores.shape[0] != len(labels):
            raise InputValidationError(
                f"labels: expected {scores.shape[0]} labels (one per day), received "
                f"{len(labels)}."
            )
        predictions = np.array(self.class_names, dtype=object)[np.argmax(scores, axis=1)]
        result = classification_metrics(labels, list(predictions), self.class_names, scores)
        result["predictions"] = [str(p) for p in predictions]
        result["num_prompts_per_class"] = {k: len(v) for k, v in self.prompts().items()}
        return result
