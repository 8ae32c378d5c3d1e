"""Credentials come only from the environment or a `.env` file, never from tracker.toml.

Values are registered as secrets so the log formatter can redact them.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from .errors import CredentialError

_SECRETS: set[str] = set()


def load_dotenv_file(path: Path | None = None) -> None:
    """Read `.env` (next to the config, or cwd) into os.environ without overriding it."""
    p = path or Path(".env")
    if p.exists():
        for key, value in dotenv_values(p).items():
            if value is not None and key not in os.environ:
                os.environ[key] = value


def get(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        _SECRETS.add(value)
    return value or None


def require(name: str, needed_by: str) -> str:
    value = get(name)
    if not value:
        raise CredentialError(f"{name} is not set (needed by {needed_by}); set it in the "
                              "environment or in .env")
    return value


def secrets() -> set[str]:
    return set(_SECRETS)


def redact(text: str) -> str:
    for s in sorted(_SECRETS, key=len, reverse=True):
        if len(s) >= 4:
            text = text.replace(s, "***")
    return text
