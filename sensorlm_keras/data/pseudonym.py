"""Pseudonymous person identifiers: salted SHA-256 (HMAC-SHA256 keyed by a secret salt)."""

import hashlib
import hmac
import os

from sensorlm_keras.errors import ConfigError, DataError, describe
from sensorlm_keras.utils.validation import check_int

SALT_ENV_VAR = "SENSORLM_SALT"


def resolve_salt(salt=None):
    """The salt to use: the argument, else ``$SENSORLM_SALT``; raises `ConfigError` if neither.

    Args:
        salt: a non-empty string (or bytes), or ``None`` to read the environment variable.
    """
    if salt is None:
        salt = os.environ.get(SALT_ENV_VAR)
        if not salt:
            raise ConfigError(
                f"salt: expected a non-empty salt for pseudonymising person ids; pass salt=... "
                f"(CLI: --salt) or set the environment variable {SALT_ENV_VAR}. Received none."
            )
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not isinstance(salt, bytes) or not salt:
        raise ConfigError(f"salt: expected a non-empty string, received {describe(salt)}.")
    return salt


def pseudonymize_person_id(person_id, salt=None):
    """Map a raw person id to a stable pseudonym (64 hex characters); the raw id is not stored.

    The pseudonym is HMAC-SHA256(key=salt, message=person_id): without the salt the raw id
    cannot be recovered or confirmed by hashing guesses.

    Args:
        person_id: the raw identifier (string or integer).
        salt: secret salt (string/bytes); ``None`` reads ``$SENSORLM_SALT``.

    Example:

    ```python
    from sensorlm_keras.data import pseudonymize_person_id

    pseudonymize_person_id("alice@example.com", salt="study-42")  # 'b1f0...' (64 hex chars)
    ```
    """
    if not isinstance(person_id, str):
        person_id = check_int(person_id, "person_id (a string or an integer id)", error=DataError)
    text = str(person_id)
    if not text:
        raise DataError("person_id: expected a non-empty id, received ''.")
    key = resolve_salt(salt)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
