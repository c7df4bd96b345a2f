"""Semantic (high) caption level: logged activities, sleep periods and moods.

- Activities lasting at least `MIN_ACTIVITY_MINUTES` (20) minutes, at most `MAX_ACTIVITIES` (8),
  longest first (ties: earlier start first). Shorter activities are never mentioned.
- Sleep periods, at most `MAX_SLEEP_PERIODS` (2), longest first. A period crossing midnight
  (``end_minute < start_minute``) has a positive wrapped duration and is written
  "across midnight".
- Mood logs in time order, at most `MAX_MOODS` (10).

Time format (used everywhere in this level): intervals are written as clock times followed by
the minute interval, with an exclusive end, e.g. an event covering minutes 420..464 inclusive is
"from 07:00 to 07:45 (minutes 420-465)" and lasts 45 minutes; a wrapping sleep 1380..390 is
"from 23:00 to 06:31 across midnight (minutes 1380-1440 and 0-391)". A mood log at minute 845 is
"at 14:05 (minute 845)".
"""

from sensorlm_keras.data.captions import phrases
from sensorlm_keras.data.event import MINUTES_PER_DAY, Event
from sensorlm_keras.errors import DataError, describe

MIN_ACTIVITY_MINUTES = 20
MAX_ACTIVITIES = 8
MAX_SLEEP_PERIODS = 2
MAX_MOODS = 10


def format_clock(minute):
    """``"HH:MM"`` of a minute of day in ``[0, 1440]`` (1440 is ``"24:00"``)."""
    minute = int(minute)
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_duration(minutes):
    """``"45 minutes"``, ``"1 hour"``, ``"7 hours 31 minutes"``."""
    minutes = int(minutes)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if rest or not hours:
        parts.append(f"{rest} minute" + ("s" if rest != 1 else ""))
    return " ".join(parts)


def format_when(event):
    """The interval phrase of an activity or sleep event (see the module docstring)."""
    start = event.start_minute
    end = event.end_minute + 1  # exclusive end
    if event.end_minute < event.start_minute:
        return (
            f"from {format_clock(start)} to {format_clock(end)} across midnight "
            f"(minutes {start}-{MINUTES_PER_DAY} and 0-{end})"
        )
    return f"from {format_clock(start)} to {format_clock(end)} (minutes {start}-{end})"


def format_at(minute):
    """``"at 14:05 (minute 845)"``."""
    return f"at {format_clock(minute)} (minute {int(minute)})"


def _label(event):
    return " ".join(event.label.replace("_", " ").split())


def check_events(events, field="events"):
    """Validate one day's events: a sequence of `Event` (or dicts accepted by `Event.from_dict`).

    ``None`` means no events. Returns a tuple of `Event`.
    """
    if events is None:
        return ()
    if isinstance(events, (Event, dict, str, bytes)):
        raise DataError(
            f"{field}: expected a sequence of Event objects, received a single "
            f"{type(events).__name__}."
        )
    try:
        items = list(events)
    except TypeError:
        raise DataError(
            f"{field}: expected a sequence of Event objects, received {describe(events)}."
        ) from None
    out = []
    for i, e in enumerate(items):
        if isinstance(e, dict):
            try:
                e = Event.from_dict(e)
            except TypeError as err:
                raise DataError(f"{field}[{i}]: invalid event dict {e!r} ({err}).") from None
        if not isinstance(e, Event):
            raise DataError(
                f"{field}[{i}]: expected an Event (or an event dict), received {describe(e)}."
            )
        out.append(e)
    return tuple(out)


def select_activities(events):
    """Activities of at least 20 minutes, longest first (ties: earlier start), at most 8."""
    acts = [
        e
        for e in events
        if e.kind == "activity" and e.duration_minutes >= MIN_ACTIVITY_MINUTES
    ]
    acts.sort(key=lambda e: (-e.duration_minutes, e.start_minute, e.label))
    return acts[:MAX_ACTIVITIES]


def day_activity_label(events, none="none"):
    """The class label of a day: its longest activity of at least 20 minutes, exactly the first
    activity the captions name (`select_activities`), or ``none`` when the captions name none.

    One rule for the simulator's labels, the evaluation's labels and the captions, so every
    labelled day carries a label that its caption states.
    """
    acts = select_activities(tuple(e for e in events if isinstance(e, Event)))
    return acts[0].label if acts else none


def select_sleep(events):
    """Sleep periods, longest first (ties: earlier start), at most 2."""
    periods = [e for e in events if e.kind == "sleep"]
    periods.sort(key=lambda e: (-e.duration_minutes, e.start_minute, e.label))
    return periods[:MAX_SLEEP_PERIODS]


def select_moods(events):
    """Mood logs in time order, at most 10."""
    moods = [e for e in events if e.kind == "mood"]
    moods.sort(key=lambda e: (e.start_minute, e.label))
    return moods[:MAX_MOODS]


def _event_fields(event):
    label = _label(event)
    when = format_when(event)
    return {
        "label": label,
        "Label": phrases.capitalize(label),
        "duration": format_duration(event.duration_minutes),
        "when": when,
        "when_cap": phrases.capitalize(when),
    }


def semantic_captions(events, draws):
    """The two high-level captions of one day.

    Args:
        events: tuple of `Event` (validated, possibly empty).
        draws: the day's random draws.

    Returns:
        ``(high_all, high_summary)`` strings.
    """
    acts = select_activities(events)
    sleeps = select_sleep(events)
    moods = select_moods(events)

    # Detailed level: one sentence per activity, sleep period and mood log.
    sentences = []
    for e in acts:
        sentences.append(draws.pick(phrases.ACTIVITY_PHRASES).format(**_event_fields(e)))
    for e in sleeps:
        sentences.append(draws.pick(phrases.SLEEP_PHRASES).format(**_event_fields(e)))
    for e in moods:
        at = format_at(e.start_minute)
        label = _label(e)
        sentences.append(
            draws.pick(phrases.MOOD_PHRASES).format(label=label, at=at, At=phrases.capitalize(at))
        )
    if not sentences:
        nothing = draws.pick(phrases.NO_EVENTS_PHRASES)
        return nothing, nothing
    high_all = " ".join(sentences)

    # Summary level: one short sentence per kind.
    summary = []
    if acts:
        items = ", ".join(f"{_label(e)} ({format_duration(e.duration_minutes)})" for e in acts)
        summary.append(draws.pick(phrases.SUMMARY_ACTIVITY_PHRASES).format(items=items))
    else:
        summary.append(draws.pick(phrases.SUMMARY_NO_ACTIVITY_PHRASES))
    if sleeps:
        main = sleeps[0]  # longest first
        summary.append(
            draws.pick(phrases.SUMMARY_SLEEP_PHRASES).format(
                duration=format_duration(main.duration_minutes), when=format_when(main)
            )
        )
    else:
        summary.append(draws.pick(phrases.SUMMARY_NO_SLEEP_PHRASES))
    if moods:
        items = ", ".join(f"{_label(e)} {format_at(e.start_minute)}" for e in moods)
        summary.append(draws.pick(phrases.SUMMARY_MOOD_PHRASES).format(items=items))
    return high_all, " ".join(summary)
