"""`supervised_baseline`: a supervised classifier on the raw days, the reference that bounds
what zero-shot recognition can reach on the same classes.

The features do not depend on when in the day an activity happened: each channel is averaged
over 10-minute blocks and its `TOP_BLOCKS` highest blocks are kept in descending order (the
busiest hour of every channel). A standardised multinomial logistic regression
(scikit-learn) is trained on them. If this classifier cannot tell two classes apart, neither
can a sensor encoder that sees the same minutes, so the test suite uses it to check that the
simulator's activity classes are separable, and `evaluate_run` reports it next to zero-shot.
"""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.evaluation.classification_metrics import classification_metrics

BLOCK_MINUTES = 10
TOP_BLOCKS = 6


def day_features(sensor):
    """Time-shift-invariant features of preprocessed days.

    Args:
        sensor: float array ``(N, T, C)`` of z-scored, imputed days; ``T`` a multiple of 10.

    Returns:
        float32 ``(N, TOP_BLOCKS * C)``: per channel, its highest 10-minute block means in
        descending order.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.evaluation.supervised_baseline import day_features

    day_features(np.zeros((2, 1440, 34))).shape   # (2, 204)
    ```
    """
    x = np.asarray(sensor, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] % BLOCK_MINUTES or x.shape[1] < BLOCK_MINUTES * TOP_BLOCKS:
        raise InputValidationError(
            f"sensor: expected days (N, T, C) with T a multiple of {BLOCK_MINUTES} and at least "
            f"{BLOCK_MINUTES * TOP_BLOCKS} minutes, received {describe(sensor)}."
        )
    n, t, c = x.shape
    blocks = x.reshape(n, t // BLOCK_MINUTES, BLOCK_MINUTES, c).mean(axis=2)
    top = -np.sort(-blocks, axis=1)[:, :TOP_BLOCKS]
    return np.ascontiguousarray(top.transpose(0, 2, 1)).reshape(n, -1)


def supervised_baseline(train_sensor, train_labels, test_sensor, test_labels, classes=None,
                        regularization=0.1, seed=0):
    """Train a logistic regression on `day_features` of labelled days and score it.

    Args:
        train_sensor, test_sensor: preprocessed days ``(N, T, C)``.
        train_labels, test_labels: one class name per day.
        classes: class order of the metrics (default: sorted labels of both sets).
        regularization: inverse L2 strength ``C`` of scikit-learn's `LogisticRegression`.
        seed: random state of the solver.

    Returns:
        the dict of `classification_metrics` (``accuracy``, ``macro_f1``, ``f1_per_class``,
        ``confusion_matrix``, ``classes``, ...) with ``num_train``, ``num_test`` and ``model``.

    Example:

    ```python
    from sensorlm_keras.evaluation.supervised_baseline import supervised_baseline

    result = supervised_baseline(train.sensor, train.labels, test.sensor, test.labels)
    result["accuracy"]
    ```
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels = [str(y) for y in train_labels]
    test_labels = [str(y) for y in test_labels]
    if len(train_labels) != len(train_sensor) or len(test_labels) != len(test_sensor):
        raise InputValidationError(
            f"labels: expected one label per day, received {len(train_labels)} for "
            f"{len(train_sensor)} training days and {len(test_labels)} for {len(test_sensor)} "
            "test days."
        )
    if len(set(train_labels)) < 2:
        raise InputValidationError(
            f"train_labels: expected at least 2 classes, received {sorted(set(train_labels))}."
        )
    classes = list(classes) if classes is not None else sorted(set(train_labels + test_labels))
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=regularization, max_iter=2000, random_state=seed),
    )
    model.fit(day_features(train_sensor), train_labels)
    predicted = model.predict(day_features(test_sensor))
    result = classification_metrics(test_labels, [str(y) for y in predicted], classes)
    result.update(num_train=len(train_labels), num_test=len(test_labels),
                  model="logistic regression on the top-6 10-minute block means per channel")
    return result
