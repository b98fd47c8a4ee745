"""``gekko config``: check agent.yaml and explain its keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from gekko_agent.config import DEFAULT_CONFIG, GekkoConfig, check_config

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="The config file to check.")] = DEFAULT_CONFIG,
) -> None:
    """Validate a config file: YAML syntax, every key and type, references, secrets in use.

    Prints one line per problem (file:line: key.path: what is wrong) and exits 2 if there is any.
    """
    cfg, errors = check_config(path)
    if errors:
        from gekko_agent.text import one_line

        for err in errors:
            typer.secho(one_line(err), err=True, fg="red")
        typer.secho(one_line(f"{len(errors)} problem(s) in {path}"), err=True)
        sys.exit(2)
    assert cfg is not None
    venues = ", ".join(f"{n} ({v.kind})" for n, v in cfg.venues.items())
    typer.echo(
        f"{path}: OK — mode {cfg.mode}, brain {cfg.brain.kind}, {len(cfg.instruments)} instrument(s), "
        f"venues: {venues}, {len(cfg.strategies)} strateg{'y' if len(cfg.strategies) == 1 else 'ies'}"
    )


def _walk(model: type[BaseModel], prefix: str, rows: list[tuple[str, str, str, str]]) -> None:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        default = "" if field.is_required() else repr(field.get_default(call_default_factory=True))
        sub: Any = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        type_name = getattr(ann, "__name__", str(ann)).replace("typing.", "")
        rows.append((key, type_name, default if sub is None else "", field.description or ""))
        if sub is not None:
            _walk(sub, key + ".", rows)


@app.command("schema")
def schema() -> None:
    """List every agent.yaml key with its type, default and meaning."""
    rows: list[tuple[str, str, str, str]] = []
    _walk(GekkoConfig, "", rows)
    width = max(len(r[0]) for r in rows)
    for key, type_name, default, meaning in rows:
        shown = f" = {default}" if default else ""
        typer.echo(f"{key:<{width}}  {meaning} [{type_name}{shown}]")
