"""`ReportOptions`: the validated options of `evaluate_run` that its sections read."""

import dataclasses

from sensorlm_keras.errors import InputValidationError
from sensorlm_keras.evaluation.evaluation_data import LABEL_SOURCES, NO_ACTIVITY
from sensorlm_keras.evaluation.linear_probe import DEFAULT_K_SHOTS, check_k_shots
from sensorlm_keras.utils.validation import check_choice, check_positive_int


def check_classes(classes):
    """``None``, or a list of at least 2 unique, non-empty class names (a comma-separated
    string is split)."""
    if classes is None:
        return None
    if isinstance(classes, str):
        classes = [c.strip() for c in classes.split(",")]
    classes = [str(c).strip() for c in classes]
    if not classes or any(not c for c in classes):
        raise InputValidationError(
            f"classes: expected non-empty class names, received {classes!r}."
        )
    dupes = sorted({c for c in classes if classes.count(c) > 1})
    if dupes:
        raise InputValidationError(f"classes: duplicated class names {dupes}.")
    if len(classes) < 2:
        raise InputValidationError(
            f"classes: expected at least 2 classes to classify among, received {classes!r}."
        )
    return classes


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """What `evaluate_run` was asked to do (see its Args); checked when built.

    Example:

    ```python
    from sensorlm_keras.evaluation.report_options import ReportOptions

    options = ReportOptions(classes=["run", "walk"], k_shots=(1, "all"), seeds=3)
    ```
    """

    classes: list = None
    k_shots: tuple = DEFAULT_K_SHOTS
    seeds: int = 5
    templates: tuple = None
    include_none: bool = False
    probe_data: object = None
    probe_limit: int = 1000
    random_baseline: bool = True
    batch_size: int = 64
    progress: bool = True
    labels: str = "auto"

    def __post_init__(self):
        def set_(name, value):
            object.__setattr__(self, name, value)

        set_("classes", check_classes(self.classes))
        set_("k_shots", check_k_shots(self.k_shots))
        for name in ("seeds", "batch_size", "probe_limit"):
            set_(name, check_positive_int(getattr(self, name), name, error=InputValidationError))
        set_("progress", bool(self.progress))
        set_("labels", check_choice(self.labels, "labels", LABEL_SOURCES,
                                    error=InputValidationError))

    @property
    def none_is_class(self):
        """Whether days labelled ``"none"`` form a class of their own."""
        return NO_ACTIVITY in self.classes if self.classes is not None else self.include_none
