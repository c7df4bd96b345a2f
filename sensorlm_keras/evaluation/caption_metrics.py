"""Text-overlap metrics of generated captions: corpus BLEU-4 and ROUGE-L (own implementation).

Tokenisation (both metrics): lower-case, then words (``\\w+`` runs, so ``58.3`` is ``58``,
``.``, ``3``) and single punctuation marks.

- BLEU (Papineni et al. 2002), corpus level: modified n-gram precisions ``p_n`` (each
  hypothesis n-gram count clipped by its maximum count in any reference of that hypothesis),
  summed over the corpus before dividing; brevity penalty ``BP = 1`` if ``c > r`` else
  ``exp(1 - r / c)`` with ``c`` the total hypothesis length and ``r`` the sum over hypotheses of
  the reference length closest to the hypothesis length (ties: the shorter);
  ``BLEU = BP * exp(sum_n w_n log p_n)`` with uniform weights over n = 1..4. Without smoothing a
  zero precision gives 0; ``smooth=True`` adds 1 to the numerator and denominator of ``p_n`` for
  n > 1 (Lin and Och 2004).
- ROUGE-L (Lin 2004): per pair, ``LCS`` of the token sequences, ``P = LCS / len(hyp)``,
  ``R = LCS / len(ref)``, ``F = (1 + b^2) P R / (R + b^2 P)`` (b = 1: the F1 of ``rouge_score``);
  with several references the best F is kept; the corpus score is the mean over pairs.

Example:

```python
from sensorlm_keras.evaluation.caption_metrics import corpus_bleu, rouge_l

corpus_bleu(["the user slept 7 hours ."], [["the user slept for 7 hours ."]])
rouge_l(["the user slept 7 hours"], ["the user slept for 7 hours"])["f"]
```
"""

import collections
import math
import re

from sensorlm_keras.errors import InputValidationError, describe

_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text):
    """Lower-cased word and punctuation tokens of a string."""
    if not isinstance(text, str):
        raise InputValidationError(f"caption: expected a string, received {describe(text)}.")
    return _TOKEN.findall(text.lower())


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _check_pairs(hypotheses, references):
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise InputValidationError(
            "hypotheses/references: expected lists (one entry per caption), received a single "
            "string."
        )
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise InputValidationError(
            f"references: expected one entry per hypothesis ({len(hypotheses)}), received "
            f"{len(references)}."
        )
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if any(not r for r in refs):
        raise InputValidationError("references: every hypothesis needs at least one reference.")
    return hypotheses, refs


def corpus_bleu_details(hypotheses, references, max_order=4, smooth=False):
    """Corpus BLEU and its parts.

    Args:
        hypotheses: list of generated strings.
        references: list (one per hypothesis) of a reference string or a list of them.
        max_order: largest n-gram order (4 for BLEU-4).
        smooth: add-one smoothing of the precisions for n > 1.

    Returns:
        dict with ``bleu``, ``precisions`` (list of p_n), ``brevity_penalty``,
        ``hypothesis_length`` (c) and ``reference_length`` (r).
    """
    hypotheses, refs = _check_pairs(hypotheses, references)
    if int(max_order) < 1:
        raise InputValidationError(f"max_order: expected >= 1, received {max_order!r}.")
    matches = [0] * max_order
    totals = [0] * max_order
    c = r = 0
    for hyp, rs in zip(hypotheses, refs):
        h = tokenize(hyp)
        ref_tokens = [tokenize(x) for x in rs]
        c += len(h)
        r += min((abs(len(x) - len(h)), len(x)) for x in ref_tokens)[1]
        for n in range(1, max_order + 1):
            counts = _ngrams(h, n)
            max_ref = collections.Counter()
            for x in ref_tokens:
                for gram, k in _ngrams(x, n).items():
                    max_ref[gram] = max(max_ref[gram], k)
            matches[n - 1] += sum(min(k, max_ref[g]) for g, k in counts.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    precisions = []
    for n in range(max_order):
        num, den = matches[n], totals[n]
        if smooth and n > 0:
            num, den = num + 1, den + 1
        precisions.append(num / den if den else 0.0)
    if c == 0:
        bp = 0.0
    else:
        bp = 1.0 if c > r else math.exp(1.0 - r / c)
    if min(precisions) <= 0.0:
        bleu = 0.0
    else:
        bleu = bp * math.exp(sum(math.log(p) for p in precisions) / max_order)
    return {
        "bleu": bleu,
        "precisions": precisions,
        "brevity_penalty": bp,
        "hypothesis_length": c,
        "reference_length": r,
    }


def corpus_bleu(hypotheses, references, max_order=4, smooth=False):
    """Corpus BLEU-``max_order`` in [0, 1] (see `corpus_bleu_details`)."""
    return corpus_bleu_details(hypotheses, references, max_order, smooth)["bleu"]


def lcs_length(a, b):
    """Length of the longest common subsequence of two token lists (O(len(a) len(b)))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l_pair(hypothesis, reference, beta=1.0):
    """ROUGE-L ``{"p", "r", "f"}`` of one hypothesis against one reference string."""
    h, ref = tokenize(hypothesis), tokenize(reference)
    lcs = lcs_length(h, ref)
    if lcs == 0:
        return {"p": 0.0, "r": 0.0, "f": 0.0}
    p, r = lcs / len(h), lcs / len(ref)
    f = (1 + beta**2) * p * r / (r + beta**2 * p)
    return {"p": p, "r": r, "f": f}


def rouge_l(hypotheses, references, beta=1.0):
    """Mean ROUGE-L precision, recall and F over pairs (best reference per hypothesis)."""
    hypotheses, refs = _check_pairs(hypotheses, references)
    if not hypotheses:
        return {"p": 0.0, "r": 0.0, "f": 0.0}
    scores = [
        max((rouge_l_pair(h, x, beta) for x in rs), key=lambda s: s["f"])
        for h, rs in zip(hypotheses, refs)
    ]
    return {k: sum(s[k] for s in scores) / len(scores) for k in ("p", "r", "f")}
