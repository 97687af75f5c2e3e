"""Secret valves (API key, artifact key, log zip password) are kept out of Open WebUI's
database in plain text.

Open WebUI stores whatever the ``Valves`` model dumps after validating the admin form, so
sealing a secret at validation time is enough: the stored JSON then holds
``encrypted:<Fernet token>``, keyed from ``WEBUI_SECRET_KEY`` exactly as the reference pipe
wrote it. The engine (``src/valves/secret.rs``) decrypts that form with the same key, so
nothing else changes. Values that are empty or already sealed pass through untouched,
which keeps a re-save of the admin form (it shows the stored value back) from sealing
twice. Without ``WEBUI_SECRET_KEY`` or without ``cryptography`` a value is kept as typed,
with one warning per process.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from typing import Annotated

from pydantic import AfterValidator

PREFIX = "encrypted:"

log = logging.getLogger("openrouter_pipe")

_warned: set[str] = set()

# Sealing the same value again in this process gives the same stored text, so valves
# re-validated on every call (Open WebUI does) don't look like a new key each time.
# Keyed by a digest, so the cache never holds a plain secret.
_sealed: dict[bytes, str] = {}
_SEALED_LIMIT = 64


def webui_secret() -> str | None:
    """The key secret valves are sealed with, read from the process environment on every
    call (the engine reads the same variable); ``None`` when unset or empty."""
    return os.environ.get("WEBUI_SECRET_KEY") or None


def fernet_key(secret: str) -> bytes:
    """``urlsafe_b64(sha256(secret))``, the reference's (and the engine's) key recipe."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest())


def is_sealed(value: str) -> bool:
    return value.strip().startswith(PREFIX)


def _warn_once(reason: str, message: str) -> None:
    if reason not in _warned:
        _warned.add(reason)
        log.warning(message)


def seal(value: str) -> str:
    """The text to store for a secret valve typed as ``value``."""
    if not value.strip() or is_sealed(value):
        return value
    secret = webui_secret()
    if secret is None:
        _warn_once(
            "no-secret",
            "WEBUI_SECRET_KEY is not set: secret valves (API key, passwords) are stored in plain text",
        )
        return value
    try:
        from cryptography.fernet import Fernet
    except ImportError:
        _warn_once(
            "no-cryptography",
            "the cryptography package is missing: secret valves (API key, passwords) are stored in plain text",
        )
        return value
    digest = hashlib.sha256(b"\0".join((secret.encode("utf-8"), value.encode("utf-8")))).digest()
    stored = _sealed.get(digest)
    if stored is None:
        stored = PREFIX + Fernet(fernet_key(secret)).encrypt(value.encode("utf-8")).decode("ascii")
        if len(_sealed) >= _SEALED_LIMIT:
            _sealed.clear()
        _sealed[digest] = stored
    return stored


# The annotation of secret fields on the admin ``Valves`` model.
SealedStr = Annotated[str, AfterValidator(seal)]
