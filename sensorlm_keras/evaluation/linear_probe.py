"""Few-shot linear probe on frozen sensor embeddings, and a random-init encoder baseline.

For every ``k`` of ``k_shots`` and every seed, `sample_k_shot` draws ``k`` training examples
per class (all of them for ``"all"``; every example of a class with fewer than ``k``), a
scikit-learn ``LogisticRegression`` (after ``StandardScaler``) is fitted on their embeddings and
evaluated on the fixed test set. Accuracy and macro-F1 are reported as mean and standard
deviation (population, ddof 0) over the seeds. ``"all"`` uses every training example, so it is
fitted once (its std is 0).
"""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.utils.array_checks import check_embeddings
from sensorlm_keras.evaluation.classification_metrics import classification_metrics
from sensorlm_keras.utils.validation import check_float, check_positive_int, check_seed

DEFAULT_K_SHOTS = (1, 5, 10, "all")


def _k_value(k):
    """One ``k_shots`` entry: ``"all"`` or a positive int (digit strings are read as ints)."""
    received = k
    if isinstance(k, str):
        if k.strip().lower() == "all":
            return "all"
        k = int(k) if k.strip().isdigit() else k
    try:
        return check_positive_int(k, "k_shots", error=InputValidationError)
    except InputValidationError:
        raise InputValidationError(
            f"k_shots: expected positive integers and/or 'all', received {received!r}."
        ) from None


def check_k_shots(k_shots):
    """Validate ``k_shots``: positive ints and/or ``"all"``; returns a tuple without repeats."""
    if isinstance(k_shots, (int, np.integer, str)):  # one value (a bool is refused below)
        k_shots = (k_shots,)
    try:
        values = list(k_shots)
    except TypeError:
        raise InputValidationError(
            f"k_shots: expected positive integers and/or 'all', received {describe(k_shots)}."
        ) from None
    out = list(dict.fromkeys(_k_value(k) for k in values))
    if not out:
        raise InputValidationError("k_shots: expected at least one value, received none.")
    return tuple(out)


def _labels(labels, field):
    if isinstance(labels, (str, bytes)):
        raise InputValidationError(f"{field}: expected a sequence of labels, received {labels!r}.")
    return np.array([str(v) for v in np.asarray(labels, dtype=object).reshape(-1)], dtype=object)


def sample_k_shot(labels, k, seed=0):
    """Indices of ``k`` examples per class, drawn without replacement.

    Classes with fewer than ``k`` examples contribute all of theirs. The draw depends only on
    ``labels``, ``k`` and ``seed`` (one generator, classes visited in sorted order).

    Args:
        labels: ``N`` class labels.
        k: examples per class (positive int) or ``"all"``.
        seed: non-negative int.

    Returns:
        sorted int64 array of indices into ``labels``.

    Example:

    ```python
    from sensorlm_keras.evaluation import sample_k_shot

    sample_k_shot(["a", "a", "b", "b", "b"], k=1, seed=0)   # e.g. array([1, 3])
    ```
    """
    labels = _labels(labels, "labels")
    (k,) = check_k_shots((k,))
    seed = check_seed(seed, error=InputValidationError)
    if k == "all":
        return np.arange(labels.size, dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = []
    for name in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == name)
        take = min(k, members.size)
        chosen.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.zeros(0, np.int64)


def _fit(x, y, c, max_iter):
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(set(y.tolist())) < 2:  # one class drawn: predict it (no regression to fit)
        return DummyClassifier(strategy="most_frequent").fit(x, y)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    classifier.fit(x, y)
    return classifier


def few_shot_linear_probe(train_embeddings, train_labels, test_embeddings, test_labels,
                          k_shots=DEFAULT_K_SHOTS, seeds=5, c=1.0, max_iter=1000,
                          progress=False, description="linear probe"):
    """Logistic-regression probe trained on ``k`` examples per class, repeated over seeds.

    Args:
        train_embeddings: ``(N_train, D)`` frozen embeddings to sample training examples from.
        train_labels: ``N_train`` class labels.
        test_embeddings: ``(N_test, D)`` embeddings of the fixed test set.
        test_labels: ``N_test`` class labels.
        k_shots: examples per class, positive ints and/or ``"all"`` (default 1, 5, 10, all).
        seeds: number of repetitions (seeds ``0 .. seeds - 1``) for each finite ``k``.
        c: inverse L2 regularisation strength of ``LogisticRegression``.
        max_iter: iterations of the L-BFGS solver.
        progress: show a tqdm progress bar.
        description: label of the progress bar.

    Returns:
        dict with ``classes`` (the training classes), ``unseen_test_classes`` and
        ``num_test_unseen`` (test classes absent from training, which no probe can predict,
        and their number of test examples), ``num_train``, ``num_test``,
        ``majority_accuracy`` (accuracy of always predicting the most frequent training class)
        and ``results``: ``str(k)`` -> ``{"accuracy_mean", "accuracy_std", "macro_f1_mean",
        "macro_f1_std", "accuracy_per_seed", "macro_f1_per_seed", "train_size_per_seed",
        "seeds", "classes_with_fewer_than_k"}``.

    Example:

    ```python
    from sensorlm_keras.evaluation import few_shot_linear_probe

    result = few_shot_linear_probe(z_train, y_train, z_test, y_test, k_shots=(1, 5, "all"))
    result["results"]["5"]["accuracy_mean"]
    ```
    """
    x_train, y_train, x_test, y_test = _check_probe_data(
        train_embeddings, train_labels, test_embeddings, test_labels
    )
    k_shots = check_k_shots(k_shots)
    seeds = check_positive_int(seeds, "seeds", error=InputValidationError)
    c = check_float(c, "c (a positive number)", minimum=0.0, exclusive_minimum=True,
                    error=InputValidationError)
    classes = sorted(set(y_train.tolist()))
    all_classes = sorted(set(classes) | set(y_test.tolist()))
    counts = {name: int((y_train == name).sum()) for name in classes}
    jobs = [(k, s) for k in k_shots for s in (range(1) if k == "all" else range(seeds))]
    per_k = {str(k): {"accuracy": [], "macro_f1": [], "train_size": []} for k in k_shots}
    from tqdm.auto import tqdm

    for k, seed in tqdm(jobs, desc=description, unit="fit", leave=False,
                        disable=None if progress else True):
        index = sample_k_shot(y_train, k, seed)
        model = _fit(x_train[index], y_train[index], c, int(max_iter))
        predicted = [str(p) for p in model.predict(x_test)]
        metrics = classification_metrics(list(y_test), predicted, all_classes)
        entry = per_k[str(k)]
        entry["accuracy"].append(metrics["accuracy"])
        entry["macro_f1"].append(metrics["macro_f1"])
        entry["train_size"].append(int(index.size))
    majority = max(classes, key=lambda n: (counts[n], -classes.index(n)))
    unseen = sorted(set(y_test.tolist()) - set(classes))
    return {
        "classes": classes,
        "unseen_test_classes": unseen,
        "num_test_unseen": int(sum(int((y_test == u).sum()) for u in unseen)),
        "num_train": int(y_train.size),
        "num_test": int(y_test.size),
        "majority_accuracy": float(np.mean(y_test == majority)),
        "results": {str(k): _summarise(per_k[str(k)], k, counts) for k in k_shots},
    }


def _check_probe_data(train_embeddings, train_labels, test_embeddings, test_labels):
    x_train = check_embeddings(train_embeddings, "train_embeddings")
    x_test = check_embeddings(test_embeddings, "test_embeddings")
    y_train = _labels(train_labels, "train_labels")
    y_test = _labels(test_labels, "test_labels")
    for field, y, x in (("train_labels", y_train, x_train), ("test_labels", y_test, x_test)):
        if y.size != x.shape[0]:
            raise InputValidationError(
                f"{field}: expected {x.shape[0]} labels (one per embedding), received {y.size}."
            )
    if x_train.shape[1] != x_test.shape[1]:
        raise InputValidationError(
            f"test_embeddings: expected width {x_train.shape[1]} (as train_embeddings), "
            f"received {x_test.shape[1]}."
        )
    return x_train, y_train, x_test, y_test


def _summarise(entry, k, counts):
    """Mean and population std over the seeds of one ``k``."""
    return {
        "accuracy_mean": float(np.mean(entry["accuracy"])),
        "accuracy_std": float(np.std(entry["accuracy"])),
        "macro_f1_mean": float(np.mean(entry["macro_f1"])),
        "macro_f1_std": float(np.std(entry["macro_f1"])),
        "accuracy_per_seed": entry["accuracy"],
        "macro_f1_per_seed": entry["macro_f1"],
        "train_size_per_seed": entry["train_size"],
        "seeds": len(entry["accuracy"]),
        "classes_with_fewer_than_k": (
            {} if k == "all" else {n: v for n, v in counts.items() if v < k}
        ),
    }


def random_init_sensor_embeddings(model, sensor, seed=0, batch_size=64):
    """Embeddings of ``sensor`` by a freshly initialised encoder of the same architecture.

    Builds ``type(model).from_sensorlm_config(model.config)`` after
    ``keras.utils.set_random_seed(seed)`` (this re-seeds Python, NumPy and the backend's global
    generators) and encodes with its public ``encode_sensor``. Use it as the untrained-encoder
    baseline of the linear probe.

    Args:
        model: a `SensorLM` (only its ``config`` and class are used).
        sensor: ``(N, T, C)`` days.
        seed: initialisation seed.
        batch_size: encoder batch size.

    Returns:
        float32 ``(N, D)`` L2-normalised embeddings.

    Example:

    ```python
    from sensorlm_keras.evaluation import random_init_sensor_embeddings

    z_random = random_init_sensor_embeddings(run.model, days_sensor, seed=0)
    ```
    """
    import keras

    config = getattr(model, "config", None)
    build = getattr(type(model), "from_sensorlm_config", None)
    if config is None or build is None:
        raise InputValidationError(
            f"model: expected a SensorLM (with config and from_sensorlm_config), received "
            f"{describe(model)}."
        )
    keras.utils.set_random_seed(check_seed(seed, error=InputValidationError))
    fresh = build(config)
    return fresh.encode_sensor(sensor, batch_size=batch_size)
