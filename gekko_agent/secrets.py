"""Secret references. agent.yaml never holds a secret, only where to find one.

A secret is ``{env: NAME}`` (an environment variable) or ``{file: PATH}`` (a file outside the
repository, e.g. ``~/.config/gekko/binance.key``). Resolved values are ``pydantic.SecretStr``
so they never print.

Every value resolved here (and every key handed to a provider, see :func:`register_secret`) joins
one process-wide set of known secrets. Whatever text leaves the process is scrubbed against that set
with :func:`scrub` / :func:`scrub_data`: log records (:mod:`gekko_agent.ops.redaction`), ledger rows
and journal lines (:mod:`gekko_agent.ledger`), model requests and provider errors
(:mod:`gekko_agent.agent.litellm_provider`), tool output shown to the model and record files.
:func:`redact` masks an explicit list of values.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from gekko_agent.errors import ConfigError

__all__ = [
    "MASK",
    "SecretRef",
    "contains_secret",
    "known_secrets",
    "redact",
    "register_secret",
    "remember_secrets",
    "scrub",
    "scrub_data",
]

MASK = "***"
MIN_SECRET_CHARS = 4
"""Shorter values are never treated as secrets (masking them would garble ordinary text)."""

_T = TypeVar("_T")
_LOCK = threading.Lock()
_known: frozenset[str] = frozenset()
_forms: tuple[str, ...] = ()


class SecretRef(BaseModel):
    """Where a secret lives: exactly one of ``env`` or ``file``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str | None = Field(default=None, description="Name of the environment variable holding the secret.")
    file: Path | None = Field(
        default=None, description="Path to a file (outside the repository) whose first line is the secret."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")
        if self.env is not None and not self.env.replace("_", "").isalnum():
            raise ValueError(f"{self.env!r} is not an environment variable name")
        return self

    def describe(self) -> str:
        """Where the secret comes from, safe to print."""
        return f"env ${self.env}" if self.env else f"file {self.file}"

    def resolve(self, source: str, key_path: str, environ: Mapping[str, str] | None = None) -> SecretStr:
        """Read the secret.

        Args:
            source: the config file, for the error message.
            key_path: the dotted key path of this reference, for the error message.
            environ: the environment to read (defaults to ``os.environ``).

        Raises:
            ConfigError: the variable is unset/empty or the file is unreadable.
        """
        env = os.environ if environ is None else environ
        if self.env is not None:
            value = env.get(self.env, "")
            if not value:
                raise ConfigError(source, key_path, f"environment variable {self.env} is not set")
            return _registered(value)
        assert self.file is not None
        path = self.file.expanduser()
        try:
            value = path.read_text().splitlines()[0].strip() if path.stat().st_size else ""
        except OSError as exc:
            raise ConfigError(source, key_path, f"cannot read secret file {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(source, key_path, f"secret file {path} is empty")
        return _registered(value)


def _registered(value: str) -> SecretStr:
    """Wrap a resolved secret and register it, so nothing Gekko writes can carry it from now on."""
    register_secret(value)
    return SecretStr(value)


def _encoded_forms(secret: str) -> set[str]:
    """The secret as it appears raw and inside a JSON string (quotes, backslashes, non-ASCII escaped)."""
    return {
        secret,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret, ensure_ascii=True)[1:-1],
    }


def remember_secrets(values: Iterable[str]) -> None:
    """Add resolved secret values to the process-wide set that :func:`scrub` masks.

    Args:
        values: plain secret values; those shorter than 4 characters are ignored.
    """
    global _known, _forms
    fresh = {v for v in values if len(v) >= MIN_SECRET_CHARS}
    with _LOCK:
        if fresh <= _known:
            return
        _known = _known | fresh
        forms = {f for secret in _known for f in _encoded_forms(secret)}
        _forms = tuple(sorted(forms, key=len, reverse=True))


def register_secret(value: str | SecretStr) -> None:
    """Treat ``value`` as a secret everywhere: scrubbed from logs, ledger, model traffic and errors.

    Call it for any credential that did not come through :meth:`SecretRef.resolve` (which registers
    its values itself), e.g. a key handed straight to a provider.

    Args:
        value: the plain or ``SecretStr`` value.
    """
    from gekko_agent.ops.redaction import install_redaction

    plain = value.get_secret_value() if isinstance(value, SecretStr) else value
    if len(plain) >= MIN_SECRET_CHARS:
        install_redaction([plain])  # remembers it here too


def known_secrets() -> frozenset[str]:
    """The registered secret values (for scanners such as ``gekko doctor``; never print them)."""
    return _known


def contains_secret(text: str) -> bool:
    """True when ``text`` holds a registered secret, raw or JSON-escaped."""
    forms = _forms
    return bool(forms) and any(f in text for f in forms)


def scrub(text: str) -> str:
    """``text`` with every registered secret (raw or JSON-escaped) replaced by :data:`MASK`."""
    for form in _forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def scrub_data(value: _T) -> _T:
    """A copy of JSON-like ``value`` (dicts, lists, tuples, strings) with every string scrubbed.

    While no secret is registered, ``value`` itself comes back at once.
    """
    if not _forms:
        return value
    return _scrub_any(value)  # type: ignore[no-any-return]


def _scrub_any(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {_scrub_any(k): _scrub_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_any(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_any(v) for v in value)
    return value


def redact(text: str, secrets: Iterable[str], mask: str = MASK) -> str:
    """Replace every occurrence of each secret (4+ chars) in ``text`` with ``mask``."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, mask)
    return text
