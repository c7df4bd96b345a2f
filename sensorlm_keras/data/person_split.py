"""Person-wise train / validation / test splits from a deterministic hash of the person id."""

import hashlib

import numpy as np

from sensorlm_keras.errors import ConfigError, describe
from sensorlm_keras.utils.validation import check_float

DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _check_fractions(fractions):
    fractions = DEFAULT_FRACTIONS if fractions is None else fractions
    if not isinstance(fractions, dict) or not fractions:
        raise ConfigError(
            f"fractions: expected a dict split name -> fraction, received {describe(fractions)}."
        )
    for name, value in fractions.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(
                f"fractions: split names must be non-empty strings, received {name!r}."
            )
        check_float(value, f"fractions[{name!r}]", minimum=0)
    total = float(sum(fractions.values()))
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(f"fractions: expected values summing to 1, received sum {total:.6f}.")
    return {k: float(v) for k, v in fractions.items()}


def person_hash_unit(person_id, salt=""):
    """A number in ``[0, 1)`` from SHA-256 of ``salt + person_id`` (stable across runs/machines)."""
    digest = hashlib.sha256(f"{salt}\x1f{person_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(person_id, fractions=None, salt=""):
    """The split of one person: the hash unit falls into the cumulative fraction intervals.

    The assignment of a person never depends on who else is in the dataset, so adding people
    never moves anyone between splits.

    Args:
        person_id: raw or pseudonymised id (string).
        fractions: dict split -> fraction summing to 1 (default 0.8 / 0.1 / 0.1).
        salt: optional string to draw a different (still deterministic) split.

    Example:

    ```python
    from sensorlm_keras.data import assign_split

    assign_split("person-17")   # 'train', 'validation' or 'test', always the same
    ```
    """
    fractions = _check_fractions(fractions)
    u = person_hash_unit(person_id, salt)
    edge = 0.0
    names = list(fractions)
    for name in names:
        edge += fractions[name]
        if u < edge:
            return name
    return names[-1]


def split_by_person(person_ids, fractions=None, salt="", method="hash"):
    """Row indices of each split; all rows of a person land in the same split.

    Args:
        person_ids: sequence of ``N`` person ids (one per day).
        fractions: dict split -> fraction summing to 1 (default 0.8 / 0.1 / 0.1).
        salt: optional string to draw a different deterministic split.
        method: ``"hash"`` (default): each person's split comes from its own hash
            (`assign_split`), stable when people are added, but small datasets may leave a split
            empty. ``"rank"``: people are ordered by hash and cut into consecutive groups whose
            sizes follow the fractions (largest remainder, every split with a positive fraction
            gets at least one person when there are enough people); exact proportions, still a
            deterministic function of the set of ids.

    Returns:
        dict split name -> sorted ``int64`` array of row indices (every row appears once).

    Example:

    ```python
    from sensorlm_keras.data import split_by_person

    splits = split_by_person(days.person_ids, method="rank")
    train_days = days.select(splits["train"])
    ```
    """
    fractions = _check_fractions(fractions)
    if method not in ("hash", "rank"):
        raise ConfigError(f"method: expected 'hash' or 'rank', received {method!r}.")
    if isinstance(person_ids, (str, bytes)):
        raise ConfigError("person_ids: expected a sequence of ids, received a single string.")
    try:
        ids = [str(p) for p in person_ids]
    except TypeError:
        raise ConfigError(
            f"person_ids: expected a sequence of ids, received {describe(person_ids)}."
        ) from None
    unique = sorted(set(ids))
    if method == "hash":
        split_of = {p: assign_split(p, fractions, salt) for p in unique}
    else:
        order = sorted(unique, key=lambda p: (person_hash_unit(p, salt), p))
        counts = _rank_counts(len(order), fractions)
        split_of, start = {}, 0
        for name, count in counts.items():
            for p in order[start : start + count]:
                split_of[p] = name
            start += count
    rows = {name: [] for name in fractions}
    for i, p in enumerate(ids):
        rows[split_of[p]].append(i)
    return {name: np.asarray(r, dtype=np.int64) for name, r in rows.items()}


def _rank_counts(n, fractions):
    names = list(fractions)
    exact = np.array([fractions[k] * n for k in names])
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    positive = [i for i, k in enumerate(names) if fractions[k] > 0]
    if n >= len(positive):
        for i in positive:
            if counts[i] == 0:
                donor = int(np.argmax(counts))
                counts[donor] -= 1
                counts[i] += 1
    return {k: int(c) for k, c in zip(names, counts)}
