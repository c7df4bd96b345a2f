"""Zero-shot prompt templates in the captions' own phrasing: one list for every consumer.

`sensorlm_keras.evaluation.ZeroShotClassifier` (``sensorlm eval``) and the exported
SavedModel's ``zero_shot`` signature both use `DEFAULT_PROMPT_TEMPLATES`, so the served
answer for a set of class names is the Python one (tested in ``tests/export``).

The templates are every summary phrase of the caption bank
(`phrases.SUMMARY_ACTIVITY_PHRASES`, e.g. ``"Logged activities: {items}."``) filled with
``"<class> (<typical duration>)"``. They come from the caption generator's templates, never
from any day's caption. Measured on the main job's held-out people (TF, seeds 0 and 1): the
earlier ten hand-written prompts ("Logged activity: {}.", "a day with a {} session", ...) gave
0.776 and 0.519 accuracy, these 0.797 and 0.695 (docs/learning.md).
"""

from sensorlm_keras.data.captions import phrases

TYPICAL_DURATIONS = ("30 minutes", "45 minutes", "1 hour")

DEFAULT_PROMPT_TEMPLATES = tuple(
    phrase.replace("{items}", f"{{}} ({duration})")
    for phrase in phrases.SUMMARY_ACTIVITY_PHRASES
    for duration in TYPICAL_DURATIONS
)
"""Prompt templates with one ``{}`` for the class name (15: 5 phrases x 3 durations)."""

NONE_CLASS = "none"
"""Name of the optional class of days without a logged activity."""

NONE_PROMPTS = (
    "There was no logged activity lasting 20 minutes or more.",
    "No activity was logged.",
    "a day without a workout",
    "a rest day with no logged exercise",
    "The user did not log any activity.",
    "The log shows no activity session.",
    "A quiet day with no exercise recorded.",
    "No workout was recorded today.",
)
"""Full prompts of `NONE_CLASS`, in the wording the captions use for such days."""

def run_prompt_templates(run_config):
    """The zero-shot templates of a run (its ``run_config.json`` dict): the templates of the
    dataset it was trained on when its manifest named them (labelled windows), else
    `DEFAULT_PROMPT_TEMPLATES`."""
    templates = (run_config or {}).get("zero_shot_templates")
    return tuple(templates) if templates else DEFAULT_PROMPT_TEMPLATES


WINDOW_PROMPT_TEMPLATES = tuple(
    phrase.replace("{items}", "{}") for phrase in phrases.WINDOW_ACTIVITY_PHRASES
)
"""Prompt templates of labelled-window datasets (`WindowCaptioner`: the summary phrases that name no day,
without a duration); written into those datasets' manifests, where `evaluate_run` finds them."""
