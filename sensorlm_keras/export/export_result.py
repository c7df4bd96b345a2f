"""`ExportResult`: what `export_saved_model` wrote."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What `export_saved_model` wrote.

    Attributes:
        path: absolute path of the version directory ``<export_base>/<name>/<version>``.
        name: the model name (TF Serving's ``MODEL_NAME``).
        version: the integer version.
        signatures: signature names of the SavedModel (``serving_default`` included).
        metadata: the content of ``assets/sensorlm_export.json``.
    """

    path: str
    name: str
    version: int
    signatures: tuple
    metadata: dict

    def __fspath__(self):
        return self.path

    def to_json(self):
        """A JSON-serialisable dict (how the export subprocess reports its result)."""
        return dict(dataclasses.asdict(self), signatures=list(self.signatures))

    @classmethod
    def from_json(cls, data):
        """The inverse of `to_json`."""
        return cls(path=data["path"], name=data["name"], version=int(data["version"]),
                   signatures=tuple(data["signatures"]), metadata=data["metadata"])
