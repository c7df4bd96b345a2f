"""Factual checks of generated captions against the day they describe.

The parser reads the phrasing of this project's captions (`sensorlm_keras.data.captions`):
intervals ``"(minutes 420-465)"`` (exclusive end) or ``"(minutes 1380-1440 and 0-391)"``
across midnight, durations ``"7 hours 31 minutes"``, activity summaries
``"run (45 minutes)"``, the "no sleep"/"no activity" sentences and statistical sentences such
as ``"heart rate averaged 64.2, ..."``. Text is compared lower-cased (the tokenizer lower-cases).

Checks (each is True/False for a caption, or None when the caption states nothing it applies
to; accuracy is over the captions where it applies):

- ``sleep_presence``: the caption says there was (an interval in a sleep sentence) or was not
  ("no sleep was logged", ...) sleep, and the day agrees.
- ``sleep_interval``: every stated sleep interval overlaps a logged sleep period.
- ``sleep_duration``: the first duration stated in a sleep sentence is within
  ``duration_tolerance`` minutes of the duration of some logged sleep period.
- ``activity_presence``: the caption says there was (an activity label) or was not ("no
  activity of 20 minutes or more", ...) a logged activity of at least 20 minutes, and the day
  agrees.
- ``activity_labels``: every activity label mentioned was logged that day (>= 20 minutes).
- ``activity_times``: every interval stated in a sentence naming an activity overlaps a
  logged activity of that label.
- ``activity_durations``: every ``"label (duration)"`` is within ``duration_tolerance`` minutes
  of a logged activity of that label.
- ``mean_heart_rate``: a stated mean heart rate is within ``heart_rate_tolerance`` (bpm) of the
  day's mean heart rate (when the day's heart rate is given).

Example:

```python
from sensorlm_keras.data import Event
from sensorlm_keras.evaluation.caption_facts import check_caption

events = [Event("sleep", "sleep", 1380, 390), Event("activity", "run", 420, 464)]
check_caption("the user logged run (45 minutes). the main sleep lasted 7 hours 31 minutes, "
              "from 23:00 to 06:31 across midnight (minutes 1380-1440 and 0-391).", events)
```
"""

import dataclasses
import re

import numpy as np

from sensorlm_keras.data.event import MINUTES_PER_DAY
from sensorlm_keras.errors import InputValidationError, describe

CHECKS = (
    "sleep_presence",
    "sleep_interval",
    "sleep_duration",
    "activity_presence",
    "activity_labels",
    "activity_times",
    "activity_durations",
    "mean_heart_rate",
)
MIN_ACTIVITY_MINUTES = 20

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_INTERVAL = re.compile(r"minutes (\d+)\s*-\s*(\d+)(?: and (\d+)\s*-\s*(\d+))?")
_DURATION = re.compile(r"(\d+) hours?(?: (\d+) minutes?)?|(\d+) minutes?(?!\s*\d)")
_NO_SLEEP = re.compile(r"no sleep|no logged sleep|sleep was not logged")
_NO_ACTIVITY = re.compile(r"no activity|no logged activity|no sustained activity")
_SLEEP_WORD = re.compile(r"\b(sleep|slept|asleep|rested)\b")
_NOT_SLEEP_EVENT = re.compile(r"coefficient|probability|stage")
_HEART_RATE = re.compile(r"\bheart rate\b(?! variability)")
_MEAN_VALUE = re.compile(
    r"\b(?:averag\w*|mean|typical)(?: heart rate(?: value)?)?\s+(?:of\s+|was\s+)?"
    r"(-?\d+(?:\.\d+)?)"
)


def _sentences(text):
    return [s.strip() for s in _SENTENCE.split(text.lower()) if s.strip()]


def _minutes_sets(match):
    """Minute sets (exclusive end) of an interval match, wrapping across midnight."""
    a, b = int(match.group(1)), int(match.group(2))
    spans = [(a, b)]
    if match.group(3) is not None:
        spans.append((int(match.group(3)), int(match.group(4))))
    return spans


def event_spans(event):
    """``[(start, end_exclusive), ...]`` of an event inside the day (a sleep period that wraps
    around midnight gives two spans)."""
    start, end = int(event.start_minute), int(event.end_minute) + 1
    if event.end_minute < event.start_minute:
        return [(start, MINUTES_PER_DAY), (0, end)]
    return [(start, end)]


def _overlaps(spans, others):
    return any(min(b, d) > max(a, c) for a, b in spans for c, d in others)


def _duration_minutes(match):
    if match.group(1) is not None:
        return int(match.group(1)) * 60 + int(match.group(2) or 0)
    return int(match.group(3))


def _label(event):
    return " ".join(event.label.replace("_", " ").lower().split())


def _all_true(values):
    return None if not values else all(values)


def check_caption(text, events, heart_rate=None, activity_labels=None, duration_tolerance=30,
                  heart_rate_tolerance=5.0):
    """Run every check of this module on one caption.

    Args:
        text: the generated caption.
        events: the day's `Event` list (activities, sleep, moods).
        heart_rate: optional ``(T,)`` heart rate of the day in bpm (NaN = missing).
        activity_labels: labels to look for in the text (default: the day's own activity
            labels; pass every label of the data set to catch hallucinated activities).
        duration_tolerance: minutes of slack for durations.
        heart_rate_tolerance: bpm of slack for the mean heart rate.

    Returns:
        dict check name -> True, False or None (not applicable).
    """
    if not isinstance(text, str):
        raise InputValidationError(f"text: expected a string, received {describe(text)}.")
    events = list(events or ())
    sleeps = [e for e in events if e.kind == "sleep"]
    acts = [e for e in events
            if e.kind == "activity" and e.duration_minutes >= MIN_ACTIVITY_MINUTES]
    labels = sorted(
        {" ".join(str(x).replace("_", " ").lower().split()) for x in activity_labels}
        if activity_labels is not None else {_label(e) for e in acts},
        key=len, reverse=True,
    )
    stated = _Stated()
    for sentence in _sentences(text):
        stated.read(sentence, labels)
    result = dict.fromkeys(CHECKS)
    result.update(_sleep_checks(stated, sleeps, duration_tolerance))
    result.update(_activity_checks(stated, acts, duration_tolerance))
    if stated.heart_rates and heart_rate is not None:
        hr = np.asarray(heart_rate, np.float64)
        if np.isfinite(hr).any():
            result["mean_heart_rate"] = abs(stated.heart_rates[0] - float(np.nanmean(hr))) <= (
                heart_rate_tolerance
            )
    return result


@dataclasses.dataclass
class _Stated:
    """What a caption states, read sentence by sentence."""

    sleep_intervals: list = dataclasses.field(default_factory=list)
    sleep_durations: list = dataclasses.field(default_factory=list)
    no_sleep: bool = False
    no_activity: bool = False
    mentioned: set = dataclasses.field(default_factory=set)
    activity_times: list = dataclasses.field(default_factory=list)
    activity_durations: list = dataclasses.field(default_factory=list)
    heart_rates: list = dataclasses.field(default_factory=list)

    def read(self, sentence, labels):
        """Add the statements of one lower-cased sentence (``labels``: longest first)."""
        self.no_sleep = self.no_sleep or bool(_NO_SLEEP.search(sentence))
        self.no_activity = self.no_activity or bool(_NO_ACTIVITY.search(sentence))
        named = [lab for lab in labels if re.search(rf"\b{re.escape(lab)}\b", sentence)]
        named = [lab for lab in named if not any(lab != o and lab in o for o in named)]
        self.mentioned.update(named)
        is_sleep = bool(_SLEEP_WORD.search(sentence)) and not _NOT_SLEEP_EVENT.search(sentence)
        if is_sleep and not named:
            self.sleep_intervals += [_minutes_sets(m) for m in _INTERVAL.finditer(sentence)]
            first = _DURATION.search(sentence)
            if first:
                self.sleep_durations.append(_duration_minutes(first))
        if len(named) == 1:
            self.activity_times += [(named[0], _minutes_sets(m))
                                    for m in _INTERVAL.finditer(sentence)]
        for lab in named:
            for m in re.finditer(rf"\b{re.escape(lab)} \(([^)]*)\)", sentence):
                d = _DURATION.search(m.group(1))
                if d:
                    self.activity_durations.append((lab, _duration_minutes(d)))
        if _HEART_RATE.search(sentence) and "variability" not in sentence:
            m = _MEAN_VALUE.search(sentence)
            if m:
                self.heart_rates.append(float(m.group(1)))


def _sleep_checks(stated, sleeps, duration_tolerance):
    result = {}
    if stated.sleep_intervals or stated.no_sleep:
        result["sleep_presence"] = (bool(sleeps) if stated.sleep_intervals else True) and (
            not sleeps if stated.no_sleep else True
        )
    sleep_spans = [event_spans(e) for e in sleeps]
    result["sleep_interval"] = _all_true(
        [any(_overlaps(spans, es) for es in sleep_spans) for spans in stated.sleep_intervals]
    )
    if stated.sleep_durations:
        result["sleep_duration"] = any(
            abs(stated.sleep_durations[0] - e.duration_minutes) <= duration_tolerance
            for e in sleeps
        )
    return result


def _activity_checks(stated, acts, duration_tolerance):
    result = {}
    if stated.mentioned or stated.no_activity:
        result["activity_presence"] = (bool(acts) if stated.mentioned else True) and (
            not acts if stated.no_activity else True
        )
    if stated.mentioned:
        result["activity_labels"] = stated.mentioned <= {_label(e) for e in acts}
    result["activity_times"] = _all_true(
        [any(_overlaps(spans, event_spans(e)) for e in acts if _label(e) == lab)
         for lab, spans in stated.activity_times]
    )
    result["activity_durations"] = _all_true(
        [any(abs(d - e.duration_minutes) <= duration_tolerance for e in acts if _label(e) == lab)
         for lab, d in stated.activity_durations]
    )
    return result


def caption_fact_accuracy(texts, events_list, heart_rates=None, activity_labels=None,
                          **tolerances):
    """Per-check accuracy over a corpus of generated captions.

    Args:
        texts: generated captions.
        events_list: one event list per caption.
        heart_rates: optional ``(N, T)`` heart rate in bpm.
        activity_labels: labels to look for (default: every activity label in ``events_list``,
            so an activity logged on another day but named here counts as wrong).
        **tolerances: ``duration_tolerance``, ``heart_rate_tolerance`` of `check_caption`.

    Returns:
        dict check -> ``{"accuracy": float or None, "applicable": int}`` plus ``"overall"``
        (accuracy over every applicable check of every caption) and ``"per_caption"`` (the
        individual results).
    """
    texts = list(texts)
    events_list = list(events_list)
    if len(texts) != len(events_list):
        raise InputValidationError(
            f"events_list: expected one event list per caption ({len(texts)}), received "
            f"{len(events_list)}."
        )
    if heart_rates is not None and len(heart_rates) != len(texts):
        raise InputValidationError(
            f"heart_rates: expected one row per caption ({len(texts)}), received "
            f"{len(heart_rates)}."
        )
    if activity_labels is None:
        activity_labels = sorted(
            {e.label for events in events_list for e in events or () if e.kind == "activity"}
        )
    per_caption = [
        check_caption(
            t, ev, None if heart_rates is None else heart_rates[i],
            activity_labels=activity_labels, **tolerances,
        )
        for i, (t, ev) in enumerate(zip(texts, events_list))
    ]
    out = {}
    total = correct = 0
    for check in CHECKS:
        values = [r[check] for r in per_caption if r[check] is not None]
        total += len(values)
        correct += sum(values)
        out[check] = {
            "accuracy": (sum(values) / len(values)) if values else None,
            "applicable": len(values),
        }
    out["overall"] = {"accuracy": correct / total if total else None, "applicable": total}
    out["per_caption"] = per_caption
    return out
