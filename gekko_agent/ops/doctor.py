"""``gekko doctor``: look for ways the keys could leak before they do.

Checks, each a one-line :class:`Finding` naming the file or key path and what to do:

- config files (agent.yaml) that other users can read or write;
- keys written literally in agent.yaml (a value that looks like a key under any key named like
  ``*key*``, ``*secret*``, ``*token*`` or ``*password*``) instead of ``{env: NAME}``;
- secret files (``{file: PATH}``) that other users can read, that are missing, or that lie inside the
  repository (where ``git add .`` would publish them);
- environment variables named by secrets in use that are not set.

The module reads files and the environment only; it changes nothing.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gekko_agent.config.loader import parse_config
from gekko_agent.secrets import SecretRef

__all__ = ["Finding", "diagnose", "looks_like_key"]

_SECRET_NAME = re.compile(r"key|secret|token|passw", re.IGNORECASE)
_KEY_PREFIX = re.compile(r"^(sk-|sk_|pk_|rk_|xox[abposr]-|ghp_|gho_|github_pat_|AKIA|AIza|glpat-)")
_BOT_TOKEN = re.compile(r"^\d{6,}:[\w-]{20,}$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem ``gekko doctor`` found.

    Attributes:
        where: the file (and line or key path) it concerns.
        problem: what is wrong and what to do, in one line.
    """

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def looks_like_key(value: str) -> bool:
    """Whether a config value looks like a credential rather than a word, number or path.

    Args:
        value: the scalar written in agent.yaml.
    """
    text = value.strip()
    if not text or any(c.isspace() for c in text):
        return False
    if _KEY_PREFIX.match(text) or _BOT_TOKEN.match(text):
        return len(text) >= 8
    if len(text) < 16 or ("/" in text and not re.search(r"[+=]", text)):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    return has_digit and has_alpha


def _others_may(path: Path, mask: int) -> int:
    try:
        return path.stat().st_mode & mask
    except OSError:
        return 0


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(key path, key name, value) for every mapping entry in a YAML tree."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            name = str(key)
            here = f"{path}.{name}" if path else name
            yield here, name, value
            yield from _walk(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _literal_keys(text: str, source: str) -> list[Finding]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    found: list[Finding] = []
    for key_path, name, value in _walk(data, ""):
        if not _SECRET_NAME.search(name):
            continue
        if isinstance(value, str | int) and not isinstance(value, bool) and looks_like_key(str(value)):
            found.append(
                Finding(
                    f"{source}: {key_path}",
                    "looks like a key written in the file; move it to the environment and write "
                    f"`{name}: {{env: NAME}}`, then revoke the old key",
                )
            )
    return found


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def repository_root(start: Path) -> Path:
    """The git work tree holding ``start`` (the folder itself when it is in none).

    Args:
        start: a folder.
    """
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _secret_file(key_path: str, ref: SecretRef, source: str, repo: Path) -> list[Finding]:
    assert ref.file is not None
    path = ref.file.expanduser()
    where = f"{source}: {key_path}"
    if not path.is_absolute():
        path = Path(source).resolve().parent / path
    found: list[Finding] = []
    if _inside(path, repo):
        found.append(Finding(where, f"secret file {path} is inside the repository {repo}; move it out"))
    if not path.exists():
        found.append(Finding(where, f"secret file {path} does not exist"))
    elif _others_may(path, stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(path.stat().st_mode)
        found.append(
            Finding(where, f"secret file {path} is readable by other users (mode {mode:o}); chmod 600 it")
        )
    return found


def diagnose(
    config: Path, environ: Mapping[str, str] | None = None, repo: Path | None = None
) -> list[Finding]:
    """Every finding for ``config`` and the secrets it references.

    Args:
        config: the agent.yaml to inspect.
        environ: the environment (defaults to ``os.environ``).
        repo: the repository root (defaults to the git work tree holding the config).

    Returns:
        The findings; empty when all is well.
    """
    env = os.environ if environ is None else environ
    source = str(config)
    try:
        text = config.read_text()
    except OSError as exc:
        return [Finding(source, f"cannot read the config: {exc.strerror or exc}")]
    repo = repository_root(config.resolve().parent) if repo is None else repo
    found: list[Finding] = []
    others = _others_may(config, stat.S_IRWXO)
    if others:
        mode = stat.S_IMODE(config.stat().st_mode)
        what = "writable" if others & stat.S_IWOTH else "readable"
        found.append(Finding(source, f"world-{what} (mode {mode:o}); chmod 600 {config}"))
    found += _literal_keys(text, source)
    cfg, errors = parse_config(text, source)
    if cfg is None:
        found += [
            Finding(source, f"config does not validate ({e}); run `gekko config check`") for e in errors
        ]
        return found
    used_venues = {i.venue for i in cfg.instruments}
    for key_path, ref in cfg.secret_refs():
        in_use = key_path.startswith("brain.") and cfg.brain.kind == "llm"
        in_use = in_use or (key_path.startswith("venues.") and key_path.split(".")[1] in used_venues)
        in_use = in_use or key_path.startswith("mcp.")
        if ref.file is not None:
            found += _secret_file(key_path, ref, source, repo)
        elif in_use and ref.env is not None and not env.get(ref.env):
            found.append(Finding(f"{source}: {key_path}", f"environment variable {ref.env} is not set"))
    return found
