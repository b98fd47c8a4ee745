"""The ``mcp`` section of agent.yaml: Gekko's own MCP server and the MCP servers the agent uses.

``mcp.serve`` configures Gekko's MCP server (read tools always; trading tools only with
``enabled_trading``; HTTP only with a bearer token and, unless ``allow_remote``, only on loopback).
With ``beside_engine: true``, ``gekko run`` serves it over HTTP attached to the running engine, where
trading tools reach the engine's one order path; standalone ``gekko mcp serve`` is a read-only
snapshot whose trading tools refuse.
``mcp.servers`` names outside MCP servers whose tools the agent may call (their output is untrusted).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gekko_agent.errors import ConfigError
from gekko_agent.secrets import SecretRef

__all__ = ["McpClientServerConfig", "McpConfig", "McpServerConfig", "is_loopback", "load_section"]

_SERVER_NAME = r"^[a-zA-Z0-9-]{1,24}(?:_[a-zA-Z0-9-]+)*$"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class McpServerConfig(_Model):
    """Gekko's own MCP server (``gekko mcp serve``, or beside the engine in ``gekko run``)."""

    enabled_trading: bool = Field(
        False,
        description="Expose propose/cancel; they only enqueue, so risk and approval still apply.",
    )
    beside_engine: bool = Field(
        False,
        description=(
            "`gekko run` also serves MCP over HTTP (host, port, path, token below), attached to the "
            "running engine: read tools answer live, trading tools (when enabled) queue proposals the "
            "engine runs through risk and approval."
        ),
    )
    transport: Literal["stdio", "http"] = Field(
        "stdio", description="Default transport of `gekko mcp serve`."
    )
    host: str = Field(
        "127.0.0.1", description="Address the HTTP transport binds (loopback unless allow_remote)."
    )
    port: int = Field(8765, ge=1, le=65535, description="Port of the HTTP transport.")
    path: str = Field("/mcp", pattern=r"^/[A-Za-z0-9/_-]*$", description="URL path of the MCP endpoint.")
    token: SecretRef | None = Field(
        None,
        description="Bearer token HTTP clients must send (env or file reference); HTTP needs one to start.",
    )
    allow_remote: bool = Field(
        False, description="Allow binding the HTTP transport to a non-loopback address."
    )

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> McpServerConfig:
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is not loopback; set allow_remote: true to expose the server"
            )
        return self


class McpClientServerConfig(_Model):
    """One outside MCP server the agent connects to: a stdio command or a streamable HTTP URL."""

    command: str | None = Field(None, description="Executable that speaks MCP over stdio.")
    args: list[str] = Field(default_factory=list, description="Arguments of `command`.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for `command`.")
    cwd: Path | None = Field(None, description="Working directory of `command`.")
    url: str | None = Field(None, description="Streamable HTTP endpoint, e.g. http://127.0.0.1:9000/mcp.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers (no secrets here).")
    bearer_token: SecretRef | None = Field(
        None, description="Sent as `Authorization: Bearer ...` to `url` (env or file reference)."
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of connecting and of each tool call.")
    enabled: bool = Field(True, description="Set false to keep the entry but not connect.")
    tools: list[str] | None = Field(
        None, description="Only offer these tools (default: every tool it lists)."
    )

    @model_validator(mode="after")
    def _one_transport(self) -> McpClientServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of `command` (stdio) or `url` (streamable HTTP)")
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise ValueError("url must start with http:// or https://")
        if any(k.lower() == "authorization" for k in self.headers):
            raise ValueError("put credentials in `bearer_token` (a secret reference), not in `headers`")
        return self


class McpConfig(_Model):
    """MCP: Gekko's own server and the outside servers whose tools the agent may call."""

    serve: McpServerConfig = Field(default_factory=McpServerConfig, description="`gekko mcp serve` settings.")
    servers: dict[str, McpClientServerConfig] = Field(
        default_factory=dict,
        description="Outside MCP servers by name; their tools appear to the model as `name__tool`.",
    )

    @model_validator(mode="after")
    def _names(self) -> McpConfig:
        for name in self.servers:
            if not re.match(_SERVER_NAME, name) or "__" in name:
                raise ValueError(f"server name {name!r}: letters, digits, '-' and single '_' only (max 24)")
        return self

    def secret_refs(self) -> list[tuple[str, SecretRef]]:
        """Every secret reference in this section, with its key path (relative to the root)."""
        refs = [("mcp.serve.token", self.serve.token)] if self.serve.token else []
        refs += [
            (f"mcp.servers.{n}.bearer_token", s.bearer_token)
            for n, s in self.servers.items()
            if s.bearer_token
        ]
        return refs


def load_section(path: Path, key: str, model: type[BaseModel]) -> Any:
    """Validate one top-level section of an agent.yaml file with ``model`` (missing → defaults).

    Args:
        path: the YAML file.
        key: the top-level key, e.g. ``mcp`` or ``research``.
        model: the pydantic model of that section.

    Raises:
        ConfigError: the file cannot be read or the section is invalid (first problem, one line).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", "top level must be a mapping")
    try:
        return model.model_validate(data.get(key) or {})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join([key, *(str(p) for p in err["loc"])])
        raise ConfigError(str(path), where, err["msg"].removeprefix("Value error, ")) from None
