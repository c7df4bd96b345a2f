"""`DatasetManifest`: the JSON description of one split of a TFRecord dataset."""

import dataclasses
import json
import os

from sensorlm_keras.utils.atomic_io import atomic_write_text
from sensorlm_keras.errors import DataError

MANIFEST_FILENAME = "manifest.json"
FORMAT_NAME = "sensorlm_keras.tfrecord"
SCHEMA_VERSION = 1


@dataclasses.dataclass
class DatasetManifest:
    """What a directory of TFRecord shards contains (written last, atomically, by the writer).

    Args:
        split: split name (``"train"``, ``"validation"``, ``"test"``, ...).
        channel_names: channel names of the last sensor axis, in order.
        num_timesteps: minutes per example (1440).
        compression: ``"GZIP"`` or ``None``.
        caption_variants: caption variants stored with every example.
        shards: list of ``{"file", "num_examples", "num_bytes", "sha256"}`` dicts (file names are
            relative to the manifest's directory).
        schema_version: version of the example format (`SCHEMA_VERSION`).
        person_id_hash: how person ids were pseudonymised.
        extra: free-form provenance (generator, seed, preprocessing settings, ...).

    Example:

    ```python
    from sensorlm_keras.data import DatasetManifest

    manifest = DatasetManifest.load("data/synth/train")
    manifest.num_examples, manifest.channel_names[:3], [s["file"] for s in manifest.shards]
    ```
    """

    split: str
    channel_names: list
    num_timesteps: int
    compression: object
    caption_variants: list
    shards: list
    schema_version: int = SCHEMA_VERSION
    person_id_hash: str = "hmac-sha256(salt, raw_id)"
    extra: dict = dataclasses.field(default_factory=dict)
    format: str = FORMAT_NAME

    @property
    def num_examples(self):
        return int(sum(s["num_examples"] for s in self.shards))

    @property
    def num_channels(self):
        return len(self.channel_names)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["num_examples"] = self.num_examples
        return d

    def save(self, directory):
        """Write ``<directory>/manifest.json`` atomically; returns its path."""
        path = os.path.join(os.fspath(directory), MANIFEST_FILENAME)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_dict(cls, d, source="manifest"):
        if not isinstance(d, dict):
            raise DataError(f"{source}: expected a JSON object, received {type(d).__name__}.")
        if d.get("format") != FORMAT_NAME:
            raise DataError(
                f"{source}: field 'format' expected {FORMAT_NAME!r}, received {d.get('format')!r}."
            )
        if d.get("schema_version") != SCHEMA_VERSION:
            raise DataError(
                f"{source}: field 'schema_version' expected {SCHEMA_VERSION}, received "
                f"{d.get('schema_version')!r}; this version of sensorlm_keras cannot read it."
            )
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in d
        )
        if missing:
            raise DataError(f"{source}: missing fields {missing}.")
        for shard in d["shards"]:
            if not isinstance(shard, dict) or not {"file", "num_examples"} <= set(shard):
                raise DataError(
                    f"{source}: every shard entry needs 'file' and 'num_examples', received "
                    f"{shard!r}."
                )
            if os.path.basename(shard["file"]) != shard["file"]:
                raise DataError(
                    f"{source}: shard file names must be plain names inside the dataset "
                    f"directory, received {shard['file']!r}."
                )
        return cls(**{k: v for k, v in d.items() if k in fields})

    @classmethod
    def load(cls, directory):
        """Read ``<directory>/manifest.json`` (or the given ``.json`` file path)."""
        path = os.fspath(directory)
        if os.path.isdir(path):
            path = os.path.join(path, MANIFEST_FILENAME)
        if not os.path.isfile(path):
            raise DataError(f"manifest: expected the file {path!r}, it does not exist.")
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(f"manifest {path!r}: not valid JSON ({error}).") from None
        return cls.from_dict(d, source=f"manifest {path!r}")
