"""Caption metrics against hand-computed values, and factual checks on real captions."""

import math
import re

import numpy as np
import pytest

from sensorlm_keras.data.event import Event
from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation.caption_facts import CHECKS, caption_fact_accuracy, check_caption
from sensorlm_keras.evaluation.caption_metrics import (
    corpus_bleu,
    corpus_bleu_details,
    rouge_l,
)

HYP = "The quick brown fox jumps over the dog."
REF = "the quick brown fox jumped over the lazy dog."


# ---------------------------------------------------------------- reference implementation
# The hand counts below were made for the project's first, own metric code, whose tokens were
# lower-cased words and single punctuation marks. BLEU now comes from sacrebleu (lower-cased
# 13a tokens: the same tokens on these sentences) and ROUGE-L from rouge-score (alphanumeric
# tokens, punctuation dropped). This small ROUGE-L keeps the hand counts checkable and, given
# rouge-score's tokens, cross-checks the library.
def tokenize(text):
    """Lower-cased word and punctuation tokens of a string."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


def alphanumeric_tokens(text):
    """rouge-score's default tokens: lower-cased runs of [a-z0-9]."""
    return re.findall(r"[a-z0-9]+", text.lower())


def lcs_length(a, b):
    """Length of the longest common subsequence of two token lists (dynamic programming)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def reference_rouge_l(hypotheses, references, tokens=tokenize):
    """Mean P, R and F1 of the LCS over pairs, the best F1 over each hypothesis' references."""
    scores = []
    for hyp, refs in zip(hypotheses, references):
        best = {"p": 0.0, "r": 0.0, "f": 0.0}
        for ref in [refs] if isinstance(refs, str) else refs:
            h, r = tokens(hyp), tokens(ref)
            lcs = lcs_length(h, r)
            if lcs:
                p, rec = lcs / len(h), lcs / len(r)
                if 2 * p * rec / (p + rec) > best["f"]:
                    best = {"p": p, "r": rec, "f": 2 * p * rec / (p + rec)}
        scores.append(best)
    return {k: sum(s[k] for s in scores) / len(scores) for k in ("p", "r", "f")}


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Slept 7.5 hours, (minutes 10-20).") == [
        "slept", "7", ".", "5", "hours", ",", "(", "minutes", "10", "-", "20", ")", "."
    ]


def test_bleu4_of_one_pair_by_hand():
    # tokens: hyp 9 (with "."), ref 10. Matches counted by hand from the BLEU definition:
    # 1-grams 8/9 (all but "jumps"), 2-grams 5/8 (the quick, quick brown, brown fox, over the,
    # dog .), 3-grams 2/7 (the quick brown, quick brown fox), 4-grams 1/6 (the quick brown fox).
    details = corpus_bleu_details([HYP], [REF])
    assert details["precisions"] == pytest.approx([8 / 9, 5 / 8, 2 / 7, 1 / 6])
    assert (details["hypothesis_length"], details["reference_length"]) == (9, 10)
    bp = math.exp(1 - 10 / 9)
    expected = bp * (8 / 9 * 5 / 8 * 2 / 7 * 1 / 6) ** 0.25
    assert details["bleu"] == pytest.approx(expected, rel=1e-12)


def test_corpus_bleu_sums_counts_over_pairs_and_clips():
    # second pair identical, 4 tokens: adds 4/4, 3/3, 2/2, 1/1 matches and 4 to c and r
    got = corpus_bleu([HYP, "a b c d"], [REF, ["x y", "a b c d"]])
    bp = math.exp(1 - 14 / 13)
    expected = bp * (12 / 13 * 8 / 11 * 4 / 9 * 2 / 7) ** 0.25
    assert got == pytest.approx(expected, rel=1e-12)
    # clipping: "the" counted at most as often as in the reference; c = 3 > r = 2 -> BP = 1
    assert corpus_bleu(["the the the"], ["the cat"], max_order=1) == pytest.approx(1 / 3)
    assert corpus_bleu([REF], [REF]) == pytest.approx(1.0)
    assert corpus_bleu(["a b"], ["c d"]) == 0.0
    # brevity penalty uses the closest reference length (ties: the shorter)
    assert corpus_bleu_details(["a b c"], [["a b", "a b c d"]])["reference_length"] == 2
    smoothed = corpus_bleu_details(["a b x"], ["a b c"], smooth=True)
    assert smoothed["precisions"] == pytest.approx([2 / 3, 2 / 3, 1 / 2, 1 / 1])


def test_bleu_uses_lower_cased_13a_tokens():
    # 13a keeps a decimal number whole and splits a hyphen after a digit: "hr 58.3 , 10 - 20 ."
    details = corpus_bleu_details(["hr 58.3, 10-20."], ["HR 58.3, 10-20."])
    assert (details["hypothesis_length"], details["reference_length"]) == (7, 7)
    assert details["bleu"] == pytest.approx(1.0)


def test_rouge_l_by_hand():
    # LCS = the quick brown fox over the dog . = 8 tokens; P = 8/9, R = 8/10
    assert lcs_length(tokenize(HYP), tokenize(REF)) == 8
    score = reference_rouge_l([HYP], [REF])
    p, r = 8 / 9, 8 / 10
    assert score["p"] == pytest.approx(p) and score["r"] == pytest.approx(r)
    assert score["f"] == pytest.approx(2 * p * r / (p + r))
    mean = reference_rouge_l([HYP, "a b"], [REF, ["z", "b a"]])  # second: LCS 1, P = R = 1/2
    assert mean["f"] == pytest.approx((2 * p * r / (p + r) + 0.5) / 2)
    assert rouge_l(["x"], ["y"])["f"] == 0.0


def test_rouge_l_is_rouge_score_on_alphanumeric_tokens():
    # rouge-score drops the final ".": LCS = the quick brown fox over the dog = 7 of 8 / 9 tokens
    score = rouge_l([HYP], [REF])
    p, r = 7 / 8, 7 / 9
    assert score["p"] == pytest.approx(p, rel=1e-12) and score["r"] == pytest.approx(r, rel=1e-12)
    assert score["f"] == pytest.approx(2 * p * r / (p + r), rel=1e-12)
    mean = rouge_l([HYP, "a b"], [REF, ["z", "b a"]])  # second: LCS 1, P = R = 1/2
    assert mean["f"] == pytest.approx((2 * p * r / (p + r) + 0.5) / 2, rel=1e-12)


def _caption_pairs():
    """Captions of synthetic days against paraphrases of the same days (another caption seed)
    and against the captions of other days, across the caption variants."""
    from sensorlm_keras.data import SyntheticDayGenerator
    from sensorlm_keras.evaluation import EvaluationData

    days = SyntheticDayGenerator().generate(num_people=3, days_per_person=2, seed=4)
    hyps, refs = [], []
    for variant in ("high_summary", "high_all", "high_low"):
        a = EvaluationData.from_days(days, caption_variant=variant, seed=0).captions
        b = EvaluationData.from_days(days, caption_variant=variant, seed=1).captions
        hyps += [t.lower() for t in a] * 2
        refs += list(b) + [[b[(i + 1) % len(b)], b[(i + 2) % len(b)]] for i in range(len(b))]
    return hyps, refs


def test_rouge_l_equals_the_reference_on_caption_pairs():
    hyps, refs = _caption_pairs()
    got = rouge_l(hyps, refs)
    want = reference_rouge_l(hyps, refs, tokens=alphanumeric_tokens)
    for key in ("p", "r", "f"):
        assert got[key] == pytest.approx(want[key], rel=1e-12)
    assert 0.2 < got["f"] < 1.0


def test_metric_inputs_are_validated():
    with pytest.raises(InputValidationError, match="one entry per hypothesis"):
        corpus_bleu(["a"], ["a", "b"])
    with pytest.raises(InputValidationError, match="single string"):
        rouge_l("a", "a")


# ---------------------------------------------------------------------------- facts
SLEEP = Event("sleep", "sleep", 1380, 390)          # 23:00 -> 06:31, 451 minutes
RUN = Event("activity", "run", 420, 464)            # 45 minutes
WALK = Event("activity", "walk", 1000, 1029)        # 30 minutes


def test_check_caption_on_summary_phrasing():
    text = ("The user logged run (45 minutes), walk (30 minutes). The main sleep lasted 7 hours "
            "31 minutes, from 23:00 to 06:31 across midnight (minutes 1380-1440 and 0-391).")
    result = check_caption(text, [SLEEP, RUN, WALK])
    for check in ("sleep_presence", "sleep_interval", "sleep_duration", "activity_presence",
                  "activity_labels", "activity_durations"):
        assert result[check] is True, (check, result)
    assert result["mean_heart_rate"] is None
    wrong = ("The user logged run (2 hours). The main sleep lasted 3 hours, from 12:00 to 15:00 "
             "(minutes 720-900).")
    bad = check_caption(wrong, [SLEEP, RUN])
    assert bad["sleep_interval"] is False and bad["sleep_duration"] is False
    assert bad["activity_durations"] is False
    assert check_caption("No sleep was logged.", [SLEEP])["sleep_presence"] is False
    assert check_caption("No sleep was logged.", [RUN])["sleep_presence"] is True
    hallucinated = check_caption("Activities of the day: yoga (40 minutes).", [RUN],
                                 activity_labels=["run", "yoga"])
    assert hallucinated["activity_labels"] is False


def test_check_caption_detailed_activity_times_and_heart_rate():
    text = ("Run was logged from 07:00 to 07:45 (minutes 420-465), lasting 45 minutes. "
            "Heart rate averaged 64.2, ranging from 50.0 to 150.0 with a standard deviation "
            "of 12.0.")
    hr = np.full(1440, 64.0)
    result = check_caption(text, [RUN], heart_rate=hr)
    assert result["activity_times"] is True and result["mean_heart_rate"] is True
    moved = check_caption(text.replace("420-465", "900-945"), [RUN], heart_rate=hr + 20)
    assert moved["activity_times"] is False and moved["mean_heart_rate"] is False


def test_reference_captions_of_synthetic_days_pass_every_check():
    from sensorlm_keras.data import ChannelSchema, SyntheticDayGenerator
    from sensorlm_keras.evaluation import EvaluationData

    days = SyntheticDayGenerator().generate(num_people=3, days_per_person=2, seed=4)
    schema = ChannelSchema.default()
    hr_index = list(schema.names).index("HR")
    for variant in ("high_summary", "high_all", "high_low"):
        data = EvaluationData.from_days(days, caption_variant=variant, seed=0)
        hr = data.sensor[:, :, hr_index] * schema.stds[hr_index] + schema.means[hr_index]
        report = caption_fact_accuracy(data.captions, data.events, heart_rates=hr)
        applicable = {c: report[c]["applicable"] for c in CHECKS}
        assert report["overall"]["accuracy"] == 1.0, (variant, report["per_caption"])
        assert applicable["sleep_presence"] and applicable["activity_presence"], applicable
        if variant == "high_summary":
            assert applicable["sleep_interval"] and applicable["activity_durations"]
        if variant == "high_all":
            assert applicable["activity_times"]
        if variant == "high_low":
            assert applicable["mean_heart_rate"] and applicable["activity_times"]
