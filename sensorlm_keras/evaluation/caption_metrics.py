"""Text-overlap metrics of generated captions: corpus BLEU-4 (``sacrebleu``) and ROUGE-L
(``rouge-score``), the definitions captioning papers report.

- BLEU (Papineni et al. 2002) is sacrebleu's corpus BLEU, lower-cased (this project's tokenizer
  lower-cases every generated caption, while references start with a capital), ``13a``
  tokenisation (punctuation split off, ``58.3`` kept whole, ``10-20`` split at the hyphen), no
  smoothing (a zero precision gives 0) or, with ``smooth=True``, add-one smoothing of ``p_n``
  for n > 1 (Lin and Och 2004); the signature is ``nrefs:N|case:lc|eff:no|tok:13a|smooth:none``.
  Modified n-gram counts (clipped by their maximum count in any reference of the hypothesis) and
  lengths are summed over the corpus before dividing; the brevity penalty uses, per hypothesis,
  the reference length closest to the hypothesis length (ties: the shorter). Scores are in
  [0, 1] (sacrebleu's percentage divided by 100).
- ROUGE-L (Lin 2004) is rouge-score's ``rougeL``: per pair the longest common subsequence of the
  lower-cased alphanumeric tokens (punctuation dropped, no stemming), ``P = LCS / len(hyp)``,
  ``R = LCS / len(ref)``, ``F = (1 + b^2) P R / (R + b^2 P)`` (b = 1: rouge-score's F-measure);
  with several references the best F is kept (as ``RougeScorer.score_multi``); the corpus
  score is the mean of P, R and F over pairs.

``keras_hub.metrics.Bleu`` and ``RougeL`` are not used: keras-hub's BLEU takes the *shortest*
reference length for the brevity penalty (sacrebleu: the closest), smooths the unigram precision
too, is case-sensitive and accumulates in float32; its ROUGE-L wraps rouge-score but takes one
reference per caption; both need TensorFlow.

Example:

```python
from sensorlm_keras.evaluation.caption_metrics import corpus_bleu, rouge_l

corpus_bleu(["the user slept 7 hours ."], [["the user slept for 7 hours ."]])
rouge_l(["the user slept 7 hours"], ["the user slept for 7 hours"])["f"]
```
"""

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.utils.validation import check_positive_int


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
    for text in (*hypotheses, *(x for r in refs for x in r)):
        if not isinstance(text, str):
            raise InputValidationError(f"caption: expected a string, received {describe(text)}.")
    return hypotheses, refs


def corpus_bleu_details(hypotheses, references, max_order=4, smooth=False):
    """Corpus BLEU and its parts (sacrebleu, lower-cased, ``13a`` tokens).

    Args:
        hypotheses: list of generated strings.
        references: list (one per hypothesis) of a reference string or a list of them.
        max_order: largest n-gram order (4 for BLEU-4).
        smooth: add-one smoothing of the precisions for n > 1 (sacrebleu's ``add-k``, k = 1).

    Returns:
        dict with ``bleu``, ``precisions`` (list of p_n), ``brevity_penalty``,
        ``hypothesis_length`` (c) and ``reference_length`` (r).
    """
    from sacrebleu.metrics import BLEU

    hypotheses, refs = _check_pairs(hypotheses, references)
    max_order = check_positive_int(max_order, "max_order", error=InputValidationError)
    if not hypotheses:
        return {"bleu": 0.0, "precisions": [0.0] * max_order, "brevity_penalty": 0.0,
                "hypothesis_length": 0, "reference_length": 0}
    # sacrebleu takes reference *streams*; None pads hypotheses with fewer references
    streams = [[r[i] if i < len(r) else None for r in refs]
               for i in range(max(len(r) for r in refs))]
    metric = BLEU(lowercase=True, tokenize="13a", max_ngram_order=max_order,
                  smooth_method="add-k" if smooth else "none",
                  smooth_value=1 if smooth else None)
    score = metric.corpus_score(hypotheses, streams)
    return {
        "bleu": score.score / 100.0,
        "precisions": [p / 100.0 for p in score.precisions],
        "brevity_penalty": float(score.bp),
        "hypothesis_length": int(score.sys_len),
        "reference_length": int(score.ref_len),
    }


def corpus_bleu(hypotheses, references, max_order=4, smooth=False):
    """Corpus BLEU-``max_order`` in [0, 1] (see `corpus_bleu_details`)."""
    return corpus_bleu_details(hypotheses, references, max_order, smooth)["bleu"]


def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def _best_of(scores, beta):
    """``{"p", "r", "f"}`` of the reference with the best F_beta among rouge-score results."""
    def f_beta(s):
        if beta == 1.0 or s.precision == 0.0 or s.recall == 0.0:
            return s.fmeasure
        return (1 + beta**2) * s.precision * s.recall / (s.recall + beta**2 * s.precision)

    values = [f_beta(s) for s in scores]
    best = int(np.argmax(values))
    return {"p": scores[best].precision, "r": scores[best].recall, "f": values[best]}


def rouge_l_pair(hypothesis, reference, beta=1.0):
    """ROUGE-L ``{"p", "r", "f"}`` of one hypothesis against one reference string."""
    _check_pairs([hypothesis], [reference])
    return _best_of([_scorer().score(reference, hypothesis)["rougeL"]], beta)


def rouge_l(hypotheses, references, beta=1.0):
    """Mean ROUGE-L precision, recall and F over pairs (best reference per hypothesis)."""
    hypotheses, refs = _check_pairs(hypotheses, references)
    if not hypotheses:
        return {"p": 0.0, "r": 0.0, "f": 0.0}
    scorer = _scorer()
    scores = [_best_of([scorer.score(x, h)["rougeL"] for x in rs], beta)
              for h, rs in zip(hypotheses, refs)]
    return {k: float(np.mean([s[k] for s in scores])) for k in ("p", "r", "f")}
