"""The export's errors (both `SensorLMError`s, so the CLI reports them as one line, exit 2)."""

from sensorlm_keras.errors import SensorLMError


class ExportError(SensorLMError):
    """The export could not be written (the target is left as it was)."""


class ExportExistsError(ExportError, FileExistsError):
    """The export version directory already exists and ``overwrite`` was not requested."""
