"""Load and check agent.yaml, turning every problem into one line naming file, line and key path."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gekko_agent.config.model import GekkoConfig
from gekko_agent.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "check_config", "load_config", "parse_config"]

DEFAULT_CONFIG = Path("agent.yaml")


def _node_line(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the YAML node at ``path`` (or of the deepest ancestor found)."""
    node, line = root, (root.start_mark.line + 1) if root is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(
                (kv for kv in node.value if isinstance(kv[0], yaml.ScalarNode) and kv[0].value == str(part)),
                None,
            )
            if pair is None:
                return line
            key, node = pair
            line = key.start_mark.line + 1
            continue
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and not part.isprintable():
            out += f"[{part!r}]"  # a key with a newline or control character stays on one line
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: Sequence[str | int]) -> list[str | int]:
    # pydantic puts the union member's tag in the location (venues.x.ccxt.exchange); drop it
    tags = {"paper", "ccxt", "oanda"}
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in tags and i >= 2 and loc[i - 2] == "venues":
            continue
        out.append(part)
    return out


def _validation_errors(source: str, root: yaml.Node | None, exc: ValidationError) -> list[ConfigError]:
    errors: list[ConfigError] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc([p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))])
        line = _node_line(root, loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; `gekko config schema` lists the keys)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {err['input']!r})"
        where = f"{source}:{line}" if line else source
        errors.append(ConfigError(where, _dotted(loc) or "(top level)", msg))
    return errors


def parse_config(text: str, source: str = "agent.yaml") -> tuple[GekkoConfig | None, list[ConfigError]]:
    """Parse YAML text into a config, collecting every error instead of stopping at the first."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [ConfigError(where, "", f"invalid YAML: {problem}")]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [ConfigError(source, "(top level)", "must be a mapping of keys to values")]
    try:
        return GekkoConfig.model_validate(data), []
    except ValidationError as exc:
        return None, _validation_errors(source, root, exc)


_SECRET_FIELDS = ("api_key", "secret", "password", "account_id", "token")


def _raw_secret_errors(text: str, source: str, environ: Mapping[str, str]) -> list[ConfigError]:
    """Missing environment variables, found in a file that did not validate (so all problems show at once)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        return []
    raw_venues, raw_instruments = data.get("venues"), data.get("instruments")
    venues: dict[Any, Any] = raw_venues if isinstance(raw_venues, dict) else {}
    instruments: list[Any] = raw_instruments if isinstance(raw_instruments, list) else []
    used = {i["venue"] for i in instruments if isinstance(i, dict) and isinstance(i.get("venue"), str)}
    errors: list[ConfigError] = []
    for name, venue in venues.items():
        if name not in used or not isinstance(venue, dict):
            continue
        for field in _SECRET_FIELDS:
            ref = venue.get(field)
            if isinstance(ref, dict) and isinstance(ref.get("env"), str) and not environ.get(ref["env"]):
                errors.append(
                    ConfigError(
                        source, f"venues.{name}.{field}", f"environment variable {ref['env']} is not set"
                    )
                )
    return errors


def _secret_errors(cfg: GekkoConfig, source: str, environ: Mapping[str, str]) -> list[ConfigError]:
    used_venues = {i.venue for i in cfg.instruments}
    errors: list[ConfigError] = []
    for key_path, ref in cfg.secret_refs():
        in_use = key_path.startswith("brain.") and cfg.brain.kind == "llm"
        in_use = in_use or (key_path.startswith("venues.") and key_path.split(".")[1] in used_venues)
        if not in_use:
            continue
        try:
            ref.resolve(source, key_path, environ)
        except ConfigError as exc:
            errors.append(exc)
    return errors


def check_config(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[GekkoConfig | None, list[ConfigError]]:
    """Validate ``path`` completely: syntax, schema, cross references, and secrets in use."""
    source = str(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None, [
            ConfigError(source, "", "file not found (gekko looks for ./agent.yaml; pass --config PATH)")
        ]
    except OSError as exc:
        return None, [ConfigError(source, "", f"cannot read: {exc.strerror}")]
    except UnicodeDecodeError as exc:
        return None, [
            ConfigError(
                source, "", f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
            )
        ]
    env = os.environ if environ is None else environ
    cfg, errors = parse_config(text, source)
    if cfg is not None:
        errors = _secret_errors(cfg, source, env)
    elif errors and "invalid YAML" not in errors[0].problem:
        errors += _raw_secret_errors(text, source, env)
    return cfg, errors


def load_config(path: Path | None = None) -> GekkoConfig:
    """Load a valid config or raise the first ConfigError (the CLI prints it in one line).

    Without a path, ``./agent.yaml`` is used when present, else the agent.yaml shipped with Gekko.
    """
    if path is None:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else shipped_config_path()
    cfg, errors = check_config(path)
    if errors:
        raise errors[0]
    assert cfg is not None
    return cfg


def shipped_config_path() -> Path:
    """The agent.yaml inside the installed package (a copy of the repository's)."""
    return Path(__file__).resolve().parent.parent / "agent.yaml"
