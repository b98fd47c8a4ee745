"""Secret references. agent.yaml never holds a secret, only where to find one.

A secret is ``{env: NAME}`` (an environment variable) or ``{file: PATH}`` (a file outside the
repository, e.g. ``~/.config/gekko/binance.key``). Resolved values are ``pydantic.SecretStr``
so they never print; :func:`redact` scrubs known secret values from any text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from gekko_agent.errors import ConfigError

__all__ = ["SecretRef", "redact"]


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
    """Wrap a resolved secret, and make sure no log record can carry it from now on."""
    from gekko_agent.ops.redaction import install_redaction

    install_redaction([value])
    return SecretStr(value)


def redact(text: str, secrets: Iterable[str], mask: str = "***") -> str:
    """Replace every occurrence of each secret (4+ chars) in ``text`` with ``mask``."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, mask)
    return text
