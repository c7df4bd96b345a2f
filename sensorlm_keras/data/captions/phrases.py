"""Phrase banks and display names of the hierarchical captions (this project's own wording).

Templates use `str.format` fields:

- statistical: ``{name}`` / ``{Name}`` (display name, capitalised at sentence start), ``{mean}``,
  ``{min}``, ``{max}``, ``{std}`` (numbers written with one decimal);
- structural trends: ``{name}`` / ``{Name}``, ``{start}``, ``{end}`` (minutes of day);
  spikes and drops: ``{name}`` / ``{Name}``, ``{minute}``; for windows also ``{unit}`` /
  ``{units}`` (the window's time unit, `WINDOW_STRUCTURAL_PHRASES`);
- activities and sleep: ``{label}`` / ``{Label}``, ``{duration}`` (e.g. ``"45 minutes"``),
  ``{when}`` (e.g. ``"from 07:00 to 07:45 (minutes 420-465)"``);
- moods: ``{label}``, ``{at}`` / ``{At}`` (e.g. ``"at 14:05 (minute 845)"``).

Numbers only ever appear through the fields, so every number in a caption can be traced back to
the statistic or the minute it encodes.
"""

# Display names of the 34 SensorLM channels; unknown channels use their name with "_" -> " ".
DISPLAY_NAMES = {
    "HR": "heart rate",
    "enmo": "ENMO movement intensity",  # custom channels of a raw accelerometer stream
    "vm_sd": "acceleration variability",
    "eda_level_real": "electrodermal activity level",
    "leads_contact_counts": "EDA lead contact count",
    "steps": "steps per minute",
    "jerk_auto": "movement jerk",
    "log_energy": "log energy of movement",
    "covariance": "accelerometer covariance",
    "log_energy_ratio": "movement log energy ratio",
    "zero_crossing_std": "variability of accelerometer zero crossings",
    "zero_crossing_avg": "accelerometer zero-crossing rate",
    "axis_mean": "mean accelerometer axis value",
    "altim_std": "altimeter variability",
    "kurtosis": "movement kurtosis",
    "sleep_coefficient": "sleep coefficient",
    "wrist_temperatures": "skin temperature",
    "rr_med": "median RR interval",
    "sdnn0595": "SDNN heart rate variability",
    "rmssd0595": "RMSSD heart rate variability",
    "pnn20": "pNN20 heart rate variability",
    "coherence": "heart rhythm coherence",
    "ShEnRR": "Shannon entropy of RR intervals",
    "LF": "low-frequency HRV power",
    "HF": "high-frequency HRV power",
    "LF_HF": "LF/HF ratio",
    "VLF": "very-low-frequency HRV power",
    "spectralEn": "HRV spectral entropy",
    "percent_good": "share of good-quality beats",
    "sleep_stage_awake": "awake stage probability",
    "sleep_stage_light": "light sleep probability",
    "sleep_stage_deep": "deep sleep probability",
    "sleep_stage_rem": "REM sleep probability",
    "spo2": "blood oxygen saturation",
    "spo2_confidence": "blood oxygen confidence",
    "spo2_coverage": "blood oxygen coverage",
}


def display_name(name):
    """Readable display name of a channel (``"HR"`` -> ``"heart rate"``)."""
    return DISPLAY_NAMES.get(name, name.replace("_", " "))


def capitalize(text):
    """Upper-case the first letter unless the first word is an acronym-like token (``pNN20``)."""
    if not text or not text[0].islower() or (len(text) > 1 and text[1].isupper()):
        return text
    return text[0].upper() + text[1:]


# Line headers of the statistical and structural levels, per category.
CATEGORY_HEADERS = {
    "heart": "Heart",
    "activity": "Activity",
    "sleep": "Sleep",
    "eda": "EDA and temperature",
    "other": "Signals",
}
# Line headers of the structural level (distinct, so combined variants read unambiguously).
STRUCTURAL_HEADERS = {key: f"{value} patterns" for key, value in CATEGORY_HEADERS.items()}

STATISTICAL_PHRASES = (
    "{Name} averaged {mean}, ranging from {min} to {max} with a standard deviation of {std}.",
    "The mean {name} was {mean} (minimum {min}, maximum {max}, standard deviation {std}).",
    "{Name}: mean {mean}, minimum {min}, maximum {max}, standard deviation {std}.",
    "Average {name} was {mean}; it varied between {min} and {max} (SD {std}).",
    "{Name} stayed between {min} and {max}, averaging {mean} with a spread of {std}.",
    "Over the day {name} had a mean of {mean}, a low of {min}, a high of {max} and a standard "
    "deviation of {std}.",
    "The day's {name} ranged from {min} up to {max}, with an average of {mean} and a standard "
    "deviation of {std}.",
    "Mean {name} {mean}; range {min} to {max}; standard deviation {std}.",
    "{Name} peaked at {max} and bottomed out at {min}, averaging {mean} (standard deviation "
    "{std}).",
    "Across the day {name} averaged {mean}, with values from {min} to {max} and a standard "
    "deviation of {std}.",
    "A typical {name} value was {mean}; the lowest reading was {min}, the highest {max}, and the "
    "standard deviation {std}.",
    "{Name} had an average of {mean} and a standard deviation of {std}, spanning {min} to {max}.",
    "The {name} readings averaged {mean} and fell between {min} and {max}, standard deviation "
    "{std}.",
    "Daily {name} summary: average {mean}, lowest {min}, highest {max}, variability {std}.",
    "{Name} reached a maximum of {max} and a minimum of {min}; its mean was {mean} and its "
    "standard deviation {std}.",
    "On average {name} was {mean} (range {min} to {max}, SD {std}).",
    "The lowest {name} was {min} and the highest {max}, around a mean of {mean} with a standard "
    "deviation of {std}.",
    "{Name} fluctuated around {mean}, between {min} and {max}, with a standard deviation of {std}.",
    "Statistics for {name}: mean {mean}, standard deviation {std}, minimum {min}, maximum {max}.",
    "Throughout the day the average {name} was {mean}, its standard deviation {std}, its range "
    "{min} to {max}.",
)

STRUCTURAL_PHRASES = {
    "increasing": (
        "{Name} increased from minute {start} to minute {end}.",
        "{Name} rose between minute {start} and minute {end}.",
        "An upward trend in {name} appeared from minute {start} to minute {end}.",
        "From minute {start} to minute {end}, {name} went up.",
        "{Name} climbed over minutes {start}-{end}.",
        "There was a rise in {name} between minutes {start} and {end}.",
        "{Name} trended upward from minute {start} until minute {end}.",
        "Between minute {start} and minute {end}, {name} was increasing.",
        "{Name} grew steadily during minutes {start}-{end}.",
        "An increase in {name} was seen from minute {start} to minute {end}.",
        "{Name} showed an increasing trend over minutes {start}-{end}.",
        "During minutes {start}-{end}, {name} moved higher.",
        "{Name} went up between minutes {start} and {end}.",
        "From minute {start} through minute {end}, {name} kept rising.",
        "The {name} signal increased across minutes {start}-{end}.",
    ),
    "decreasing": (
        "{Name} decreased from minute {start} to minute {end}.",
        "{Name} fell between minute {start} and minute {end}.",
        "A downward trend in {name} appeared from minute {start} to minute {end}.",
        "From minute {start} to minute {end}, {name} went down.",
        "{Name} declined over minutes {start}-{end}.",
        "There was a fall in {name} between minutes {start} and {end}.",
        "{Name} trended downward from minute {start} until minute {end}.",
        "Between minute {start} and minute {end}, {name} was decreasing.",
        "{Name} dropped steadily during minutes {start}-{end}.",
        "A decrease in {name} was seen from minute {start} to minute {end}.",
        "{Name} showed a decreasing trend over minutes {start}-{end}.",
        "During minutes {start}-{end}, {name} moved lower.",
        "{Name} went down between minutes {start} and {end}.",
        "From minute {start} through minute {end}, {name} kept falling.",
        "The {name} signal decreased across minutes {start}-{end}.",
    ),
    "stable": (
        "{Name} remained stable from minute {start} to minute {end}.",
        "{Name} held steady between minute {start} and minute {end}.",
        "From minute {start} to minute {end}, {name} stayed flat.",
        "{Name} was stable over minutes {start}-{end}.",
        "There was little change in {name} between minutes {start} and {end}.",
        "{Name} showed no clear trend from minute {start} until minute {end}.",
        "Between minute {start} and minute {end}, {name} was steady.",
        "{Name} stayed level during minutes {start}-{end}.",
        "A stable period of {name} lasted from minute {start} to minute {end}.",
        "{Name} barely changed over minutes {start}-{end}.",
        "During minutes {start}-{end}, {name} was flat.",
        "{Name} kept a constant level between minutes {start} and {end}.",
        "From minute {start} through minute {end}, {name} remained unchanged.",
        "The {name} signal was stable across minutes {start}-{end}.",
        "{Name} plateaued from minute {start} to minute {end}.",
    ),
    "spike": (
        "{Name} spiked at minute {minute}.",
        "A peak in {name} occurred at minute {minute}.",
        "There was a brief spike in {name} around minute {minute}.",
        "{Name} peaked sharply at minute {minute}.",
        "At minute {minute}, {name} showed a short spike.",
        "A sudden surge of {name} appeared at minute {minute}.",
        "{Name} jumped briefly around minute {minute}.",
        "Around minute {minute} there was a peak in {name}.",
        "{Name} reached a short-lived high at minute {minute}.",
        "A sharp rise and fall of {name} was centred on minute {minute}.",
        "The {name} signal spiked near minute {minute}.",
        "{Name} had a distinct peak at minute {minute}.",
        "At around minute {minute}, {name} surged.",
        "A transient {name} peak was observed at minute {minute}.",
        "{Name} briefly shot up at minute {minute}.",
    ),
    "drop": (
        "{Name} dropped at minute {minute}.",
        "A dip in {name} occurred at minute {minute}.",
        "There was a brief drop in {name} around minute {minute}.",
        "{Name} dipped sharply at minute {minute}.",
        "At minute {minute}, {name} showed a short drop.",
        "A sudden fall of {name} appeared at minute {minute}.",
        "{Name} fell briefly around minute {minute}.",
        "Around minute {minute} there was a dip in {name}.",
        "{Name} reached a short-lived low at minute {minute}.",
        "A sharp fall and recovery of {name} was centred on minute {minute}.",
        "The {name} signal dropped near minute {minute}.",
        "{Name} had a distinct dip at minute {minute}.",
        "At around minute {minute}, {name} plunged.",
        "A transient {name} drop was observed at minute {minute}.",
        "{Name} briefly sank at minute {minute}.",
    ),
}

NO_STRUCTURE_PHRASES = (
    "No clear trends, spikes or drops stood out during the day.",
    "The signals showed no notable trends, spikes or drops.",
    "Nothing structurally notable happened in the signals today.",
    "There were no distinct trends, peaks or dips in the day's data.",
    "The day's signals had no marked trend, spike or drop.",
)

# The structural phrases of a window of any length: the same sentences with the window's own
# time unit for "minute" (``{unit}`` / ``{units}``: "second 2.5", "seconds 2.5-6.1"), times
# counted from the window's start (`WindowCaptioner`).
WINDOW_STRUCTURAL_PHRASES = {
    kind: tuple(t.replace("minutes {", "{units} {").replace("minute {", "{unit} {")
                for t in templates)
    for kind, templates in STRUCTURAL_PHRASES.items()
}
WINDOW_NO_STRUCTURE_PHRASES = (
    "No clear trends, spikes or drops stood out in the window.",
    "The signals showed no notable trends, spikes or drops.",
    "There were no distinct trends, peaks or dips in the window's data.",
)

NO_STATISTICS_PHRASES = (
    "No channel had enough data for daily statistics.",
    "Daily statistics are unavailable because the signals were missing.",
    "There was not enough data to summarise the signals.",
)

ACTIVITY_PHRASES = (
    "{Label} was logged {when}, lasting {duration}.",
    "The user did {label} for {duration}, {when}.",
    "Logged activity: {label}, {duration}, {when}.",
    "{Label} lasted {duration}, {when}.",
    "The user logged {label} {when}, for {duration}.",
    "An activity of type {label} took place {when} and lasted {duration}.",
    "{Label} was recorded {when}, for {duration}.",
    "Activity {label} ran {when}, for a total of {duration}.",
    "The wearer did {label} {when}, for {duration}.",
    "{Label} was performed for {duration}, {when}.",
    "A session of {label} lasting {duration} was logged {when}.",
    "The user engaged in {label} {when}, which lasted {duration}.",
    "{when_cap}, the user did {label} for {duration}.",
    "There was {label} activity {when}, lasting {duration}.",
    "The log shows {label} {when} for {duration}.",
    "{Label}: {duration}, {when}.",
    "The user spent {duration} on {label}, {when}.",
    "Recorded exercise: {label} {when}, {duration} long.",
    "{when_cap}, {label} was logged for {duration}.",
    "A bout of {label} lasted {duration}, {when}.",
)

SLEEP_PHRASES = (
    "The user slept for {duration}, {when}.",
    "A period of {label} lasting {duration} was recorded {when}.",
    "Logged {label}: {duration}, {when}.",
    "{Label} lasted {duration}, {when}.",
    "The user was asleep {when}, for {duration}.",
    "{when_cap}, the user slept for {duration}.",
    "Sleep was logged {when}, a total of {duration}.",
    "The wearer rested {when}, {duration} of {label}.",
    "An episode of {label} lasting {duration} took place {when}.",
    "The log shows {label} {when}, {duration} in total.",
)

MOOD_PHRASES = (
    "The user reported feeling {label} {at}.",
    "A mood of {label} was logged {at}.",
    "{At}, the user logged their mood as {label}.",
    "The user felt {label} {at}.",
    "Mood log {at}: {label}.",
    "{At}, the wearer reported the mood {label}.",
    "The mood entry {at} read {label}.",
    "The mood {label} was recorded {at}.",
    "The user noted feeling {label} {at}.",
    "{At}, the user checked in as {label}.",
)

NO_EVENTS_PHRASES = (
    "No activities, sleep periods or moods were logged on this day.",
    "The day has no logged activities, sleep or mood entries.",
    "Nothing was logged for this day: no activity, sleep or mood.",
    "No events were recorded: no activities, no sleep and no mood logs.",
    "There are no logged activities, sleep periods or mood reports for this day.",
)

# Summary level (high_summary): one short sentence per event kind.
SUMMARY_ACTIVITY_PHRASES = (
    "Logged activities: {items}.",
    "The user logged {items}.",
    "Activities of the day: {items}.",
    "The day included {items}.",
    "Activity log: {items}.",
)
# The summary phrases that fit a window of any length (no "day"): labelled windows' semantic
# level (`WindowCaptioner`) and their zero-shot templates (`WINDOW_PROMPT_TEMPLATES`).
WINDOW_ACTIVITY_PHRASES = tuple(p for p in SUMMARY_ACTIVITY_PHRASES if "day" not in p)
SUMMARY_NO_ACTIVITY_PHRASES = (
    "No activity of 20 minutes or more was logged.",
    "There was no logged activity lasting 20 minutes or more.",
    "No sustained activity was logged.",
)
# {duration} is the longest (main) period's own duration: a day's window can hold the end of
# last night and the start of tonight, and adding them up would describe no real night.
SUMMARY_SLEEP_PHRASES = (
    "The main sleep lasted {duration}, {when}.",
    "The user slept {duration} in the longest period, {when}.",
    "Sleep: the longest period lasted {duration}, {when}.",
    "The main logged sleep was {duration}, {when}.",
    "The user rested for {duration} in the main sleep period, {when}.",
)
SUMMARY_NO_SLEEP_PHRASES = (
    "No sleep was logged.",
    "There was no logged sleep period.",
    "Sleep was not logged on this day.",
)
SUMMARY_MOOD_PHRASES = (
    "Moods logged: {items}.",
    "The user reported feeling {items}.",
    "Mood entries: {items}.",
    "Reported moods were {items}.",
    "The mood log shows {items}.",
)
