"""Multi-class classification metrics (scikit-learn's ``sklearn.metrics``): accuracy, macro-F1,
one-vs-rest AUROC and the confusion matrix, with class-name labels and the skipped-class
bookkeeping a report needs.

Conventions (the same for zero-shot classification and the linear probe):

- Labels are class-name strings; ``class_names`` fixes the order of the confusion matrix and of
  the score columns.
- Macro-F1 is ``f1_score(average="macro")``: the mean per-class F1 ``2 TP / (2 TP + FP + FN)``
  over the classes that occur in ``y_true`` or in ``y_pred`` (classes never seen nor predicted
  are left out, scikit-learn's ``labels=None``).
- One-vs-rest AUROC of class ``c`` is ``roc_auc_score`` of column ``c`` (true ``c`` versus every
  other example; tied scores count one half, the Mann-Whitney statistic). It is undefined when
  ``c`` is absent from ``y_true`` (or is the only class present): such classes are skipped,
  listed in ``auroc_skipped`` and excluded from the macro average (scikit-learn would raise).
"""

import numpy as np
from sklearn import metrics

from sensorlm_keras.errors import InputValidationError, describe


def check_class_names(class_names, field="class_names"):
    """Validate a list of unique, non-empty class-name strings; returns a tuple."""
    if isinstance(class_names, (str, bytes)) or class_names is None:
        raise InputValidationError(
            f"{field}: expected a list of class-name strings, received {describe(class_names)}."
        )
    try:
        names = list(class_names)
    except TypeError:
        raise InputValidationError(
            f"{field}: expected a list of class-name strings, received {describe(class_names)}."
        ) from None
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    if bad:
        raise InputValidationError(f"{field}: expected non-empty strings, received {bad[:3]!r}.")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputValidationError(f"{field}: class names must be unique; duplicated {dupes}.")
    if not names:
        raise InputValidationError(f"{field}: expected at least one class, received none.")
    return tuple(names)


def encode_labels(labels, class_names, field="labels"):
    """Class-name labels -> int indices into ``class_names`` (unknown names raise)."""
    if isinstance(labels, (str, bytes)):
        raise InputValidationError(
            f"{field}: expected a sequence of class names, received a single string {labels!r}."
        )
    labels = [str(v) for v in np.asarray(labels, dtype=object).reshape(-1)]
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({v for v in labels if v not in index})
    if unknown:
        raise InputValidationError(
            f"{field}: labels {unknown[:5]} are not among the classes {list(class_names)}."
        )
    return np.array([index[v] for v in labels], dtype=np.int64)


def confusion_matrix(y_true, y_pred, num_classes):
    """``(K, K)`` int64 counts: rows are true classes, columns predicted classes."""
    return metrics.confusion_matrix(y_true, y_pred, labels=np.arange(num_classes)).astype(np.int64)


def binary_auroc(is_positive, scores):
    """AUROC of one binary problem (``roc_auc_score``; tied scores count 1/2).

    Returns ``None`` when there is no positive or no negative example.
    """
    is_positive = np.asarray(is_positive, bool)
    if is_positive.all() or not is_positive.any():
        return None
    return float(metrics.roc_auc_score(is_positive, np.asarray(scores, np.float64)))


def classification_metrics(y_true, y_pred, class_names, scores=None):
    """Accuracy, macro-F1, one-vs-rest AUROC and the confusion matrix of a prediction.

    Args:
        y_true: ``N`` true class names (each one of ``class_names``).
        y_pred: ``N`` predicted class names.
        class_names: the ``K`` classes, in the order of the confusion matrix and score columns.
        scores: optional ``(N, K)`` float scores (logits or probabilities) for AUROC; higher
            means more likely.

    Returns:
        dict with ``num_examples``, ``classes``, ``accuracy``, ``macro_f1``, ``f1_per_class``
        (class -> F1, classes in the macro average only), ``confusion_matrix`` (list of ``K``
        rows, true x predicted), ``support`` (class -> count in ``y_true``) and, with scores,
        ``auroc_macro`` (``None`` if no class qualifies), ``auroc_per_class`` (class -> value or
        ``None``), ``auroc_skipped`` and ``auroc_note``.

    Example:

    ```python
    from sensorlm_keras.evaluation import classification_metrics

    m = classification_metrics(["run", "walk"], ["run", "run"], ["run", "walk", "swim"])
    m["accuracy"], m["macro_f1"]     # 0.5, 0.333...
    ```
    """
    class_names = check_class_names(class_names)
    true_idx = encode_labels(y_true, class_names, "y_true")
    pred_idx = encode_labels(y_pred, class_names, "y_pred")
    if true_idx.size != pred_idx.size:
        raise InputValidationError(
            f"y_pred: expected {true_idx.size} predictions (one per label), received "
            f"{pred_idx.size}."
        )
    if true_idx.size == 0:
        raise InputValidationError("y_true: expected at least one labelled example, received 0.")
    k = len(class_names)
    matrix = confusion_matrix(true_idx, pred_idx, k)
    # the classes seen or predicted: scikit-learn's default label set of f1_score
    present = np.flatnonzero((matrix.sum(axis=0) + matrix.sum(axis=1)) > 0)
    f1 = metrics.f1_score(true_idx, pred_idx, labels=present, average=None, zero_division=0.0)
    result = {
        "num_examples": int(true_idx.size),
        "classes": list(class_names),
        "accuracy": float(metrics.accuracy_score(true_idx, pred_idx)),
        "macro_f1": float(metrics.f1_score(true_idx, pred_idx, average="macro",
                                           zero_division=0.0)),
        "f1_per_class": {class_names[i]: float(v) for i, v in zip(present, f1)},
        "support": {class_names[i]: int(matrix[i].sum()) for i in range(k)},
        "confusion_matrix": matrix.tolist(),
    }
    if scores is not None:
        result.update(one_vs_rest_auroc(true_idx, scores, class_names))
    return result


def one_vs_rest_auroc(true_idx, scores, class_names):
    """``auroc_macro``, ``auroc_per_class``, ``auroc_skipped`` and ``auroc_note`` of ``(N, K)``
    scores against int labels ``true_idx`` (classes without both positive and negative examples
    are skipped and named)."""
    k = len(class_names)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (true_idx.size, k):
        raise InputValidationError(
            f"scores: expected shape ({true_idx.size}, {k}) (examples x classes), received "
            f"{describe(scores)}."
        )
    if not np.isfinite(scores).all():
        raise InputValidationError("scores: contains NaN or Inf values.")
    per_class = {name: binary_auroc(true_idx == i, scores[:, i])
                 for i, name in enumerate(class_names)}
    skipped = [name for name, value in per_class.items() if value is None]
    values = [v for v in per_class.values() if v is not None]
    if skipped:
        note = (
            f"one-vs-rest AUROC is undefined for {len(skipped)} class(es) without both "
            f"positive and negative examples in y_true ({', '.join(skipped)}); the macro "
            f"average is over the other {len(values)} class(es)."
        )
    else:
        note = f"macro average over all {k} classes."
    return {
        "auroc_macro": float(np.mean(values)) if values else None,
        "auroc_per_class": per_class,
        "auroc_skipped": skipped,
        "auroc_note": note,
    }
