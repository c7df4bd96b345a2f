"""`ReportContext`: what the sections of one `evaluate_run` call share (the loaded run and
data, the options, the sensor embeddings, the stage log and the report's notes)."""

import dataclasses
import sys
import time

import numpy as np


@dataclasses.dataclass
class ReportContext:
    """State of one `evaluate_run` call, filled as the run and the data are loaded.

    Args:
        options: the `ReportOptions`.
        model: the run's `SensorLM`.
        tokenizer: the run's tokenizer.
        data: the evaluated `EvaluationData` (channels in the run's order).
        caption_variant: the reference caption variant.
        sensor_z: ``(N, D)`` sensor embeddings of ``data``.
        notes: sentences that end up in the report's ``notes``.

    Example:

    ```python
    context = ReportContext(ReportOptions(progress=False))
    context.log("loading")          # printed to stderr only with progress=True
    ```
    """

    options: object
    model: object = None
    tokenizer: object = None
    data: object = None
    caption_variant: str = None
    sensor_z: np.ndarray = None
    notes: list = dataclasses.field(default_factory=list)
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def log(self, message):
        """Print a stage message with the elapsed time to stderr (when ``progress``)."""
        if self.options.progress:
            print(f"[{time.perf_counter() - self.started:6.1f}s] {message}", file=sys.stderr,
                  flush=True)

    def encode_sensor(self, sensor, description):
        """Sensor embeddings of ``sensor`` in batches, with a progress bar when ``progress``."""
        batch_size = self.options.batch_size
        chunks = range(0, sensor.shape[0], batch_size)
        if self.options.progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc=description, unit="batch", leave=False, disable=None)
        parts = [self.model.encode_sensor(sensor[i : i + batch_size], batch_size=batch_size)
                 for i in chunks]
        return np.concatenate(parts, axis=0)

    def skip(self, section, reason, note=None, **extra):
        """Note that ``section`` was skipped and return its ``{"skipped": reason}`` entry."""
        self.notes.append(f"{section} skipped: {note or reason}.")
        return {"skipped": reason, **extra}
