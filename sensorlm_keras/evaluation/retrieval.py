"""Cross-modal retrieval metrics: recall@k and median rank, sensor -> text and text -> sensor.

Pairs are aligned by index: day ``i`` matches caption ``i``. For a query, the rank of its match
is 1-based: 1 + the number of candidates that beat it. Candidates with exactly the same score as
the match (for example two days with an identical caption, hence identical text embeddings) are
*ties*, handled by the ``ties`` argument:

- ``"expected"`` (default): the expected value under a uniformly random order of the tied
  candidates. The match's rank is uniform over ``g + 1 .. g + e + 1`` (``g`` candidates score
  higher, ``e`` tie), so recall@k is ``clip((k - g) / (e + 1), 0, 1)`` and the rank used for the
  median is the mean ``g + 1 + e / 2``. A model whose scores are all equal gets chance level
  (recall@k = k / N) instead of 0 or 1.
- ``"pessimistic"``: every tie ranks before the match (rank ``g + e + 1``).
- ``"optimistic"``: the match ranks before every tie (rank ``g + 1``).

When ``k`` is at least the number of candidates ``N``, every rank is ``<= k`` and recall@k is
exactly 1; the result lists such ``k`` under ``k_at_least_candidates`` so a report does not
mistake them for a real success.
"""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.utils.array_checks import check_embeddings, check_square_matrix
from sensorlm_keras.utils.validation import check_choice, check_positive_int

TIE_MODES = ("expected", "pessimistic", "optimistic")
DEFAULT_KS = (1, 5, 10)
_ROW_BLOCK = 1024


def _check_ks(ks):
    if isinstance(ks, (int, np.integer)):  # one cut-off (a bool is refused below)
        ks = (ks,)
    try:
        ks = list(ks)
    except TypeError:
        raise InputValidationError(
            f"ks: expected positive integers, received {describe(ks)}."
        ) from None
    if not ks:
        raise InputValidationError("ks: expected positive integers, received none.")
    return sorted({check_positive_int(k, "ks", error=InputValidationError) for k in ks})


def rank_counts(similarity):
    """Per query (row): ``(greater, equal)``, the numbers of other candidates scoring strictly
    higher than, and exactly as high as, the matching candidate on the diagonal."""
    s = check_square_matrix(similarity)
    n = s.shape[0]
    greater = np.empty(n, np.int64)
    equal = np.empty(n, np.int64)
    for begin in range(0, n, _ROW_BLOCK):  # bounded memory for large test sets
        block = s[begin : begin + _ROW_BLOCK]
        positive = np.diag(s)[begin : begin + _ROW_BLOCK, None]
        greater[begin : begin + _ROW_BLOCK] = (block > positive).sum(axis=1)
        # the match itself is not a tie
        equal[begin : begin + _ROW_BLOCK] = (block == positive).sum(axis=1) - 1
    return greater, equal


def retrieval_ranks(similarity, ties="expected"):
    """1-based rank of the matching candidate for every query (row) of ``similarity``.

    Args:
        similarity: ``(N, N)`` scores, queries x candidates, matches on the diagonal.
        ties: ``"expected"`` (mean rank under random tie order; may be fractional),
            ``"pessimistic"`` or ``"optimistic"`` (see the module docstring).

    Returns:
        float64 array ``(N,)``.

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.evaluation import retrieval_ranks

    retrieval_ranks(np.eye(3))              # array([1., 1., 1.])
    retrieval_ranks(np.ones((3, 3)))        # array([2., 2., 2.]) (expected rank)
    ```
    """
    check_choice(ties, "ties", TIE_MODES, error=InputValidationError)
    greater, equal = rank_counts(similarity)
    if ties == "pessimistic":
        return (greater + equal + 1).astype(np.float64)
    if ties == "optimistic":
        return (greater + 1).astype(np.float64)
    return greater + 1 + equal / 2.0


def recall_at_k(similarity, ks=DEFAULT_KS, ties="expected"):
    """Fraction of queries whose match is within the top ``k`` candidates, for each ``k``.

    Args:
        similarity: ``(N, N)`` scores, queries x candidates, matches on the diagonal.
        ks: an int or a sequence of positive ints (``k >= N`` gives exactly 1.0).
        ties: see the module docstring.

    Returns:
        dict ``k -> recall`` (float).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.evaluation import recall_at_k

    recall_at_k(np.eye(4), ks=(1, 5))       # {1: 1.0, 5: 1.0}
    ```
    """
    check_choice(ties, "ties", TIE_MODES, error=InputValidationError)
    ks = _check_ks(ks)
    greater, equal = rank_counts(similarity)
    out = {}
    for k in ks:
        if ties == "expected":
            hit = np.clip((k - greater) / (equal + 1.0), 0.0, 1.0)
        elif ties == "pessimistic":
            hit = (greater + equal + 1 <= k).astype(np.float64)
        else:
            hit = (greater + 1 <= k).astype(np.float64)
        out[k] = float(hit.mean())
    return out


def recall_curve(similarity, max_k=None, ties="expected"):
    """Recall@k for ``k = 1 .. max_k`` (default ``N``) as a float array (for plots)."""
    s = check_square_matrix(similarity)
    n = s.shape[0]
    max_k = n if max_k is None else check_positive_int(max_k, "max_k", error=InputValidationError)
    values = recall_at_k(s, ks=range(1, max_k + 1), ties=ties)
    return np.array([values[k] for k in range(1, max_k + 1)])


def _direction(similarity, ks, ties):
    ranks = retrieval_ranks(similarity, ties)
    result = {f"recall@{k}": v for k, v in recall_at_k(similarity, ks, ties).items()}
    result["median_rank"] = float(np.median(ranks))
    result["mean_rank"] = float(np.mean(ranks))
    return result


def retrieval_metrics(sensor_embeddings=None, text_embeddings=None, ks=DEFAULT_KS,
                      similarity=None, ties="expected"):
    """Sensor -> text and text -> sensor recall@k and median rank of aligned pairs.

    Give either the two embedding matrices (scored by dot product: cosine similarity for
    L2-normalised embeddings) or a precomputed ``similarity`` (e.g. ``model.similarity``
    logits, rows = days, columns = captions).

    Args:
        sensor_embeddings: ``(N, D)`` day embeddings.
        text_embeddings: ``(N, D)`` caption embeddings; row ``i`` describes day ``i``.
        ks: recall cut-offs (default 1, 5, 10).
        similarity: optional ``(N, N)`` scores of day ``i`` with caption ``j``.
        ties: ``"expected"`` (default), ``"pessimistic"`` or ``"optimistic"``.

    Returns:
        dict with ``num_pairs``, ``ties``, ``sensor_to_text`` and ``text_to_sensor`` (each
        ``recall@k`` for every k, ``median_rank``, ``mean_rank``), ``chance`` (``recall@k`` of
        a random ranking, ``min(k, N) / N``, and its median rank ``(N + 1) / 2``) and
        ``k_at_least_candidates`` (cut-offs with ``k >= N``, trivially 1.0).

    Example:

    ```python
    import numpy as np
    from sensorlm_keras.evaluation import retrieval_metrics

    z = np.eye(8)
    m = retrieval_metrics(z, z)
    m["sensor_to_text"]["recall@1"], m["text_to_sensor"]["median_rank"]   # 1.0, 1.0
    ```
    """
    check_choice(ties, "ties", TIE_MODES, error=InputValidationError)
    ks = _check_ks(ks)
    if similarity is None:
        if sensor_embeddings is None or text_embeddings is None:
            raise InputValidationError(
                "retrieval_metrics: expected sensor_embeddings and text_embeddings, or a "
                "similarity matrix; received neither."
            )
        s = check_embeddings(sensor_embeddings, "sensor_embeddings")
        t = check_embeddings(text_embeddings, "text_embeddings")
        if s.shape != t.shape:
            raise InputValidationError(
                f"text_embeddings: expected the shape of sensor_embeddings {s.shape} (aligned "
                f"pairs), received {t.shape}."
            )
        similarity = s @ t.T
    similarity = check_square_matrix(similarity)
    n = similarity.shape[0]
    return {
        "num_pairs": int(n),
        "ties": ties,
        "sensor_to_text": _direction(similarity, ks, ties),
        "text_to_sensor": _direction(similarity.T, ks, ties),
        "chance": {
            **{f"recall@{k}": min(k, n) / n for k in ks},
            "median_rank": (n + 1) / 2.0,
        },
        "k_at_least_candidates": [k for k in ks if k >= n],
    }
