"""``gekko doctor``: check agent.yaml and the secrets it names for ways keys could leak."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gekko_agent.config import DEFAULT_CONFIG

__all__ = ["doctor"]


def doctor(
    config: Annotated[Path, typer.Option("--config", help="The agent.yaml to inspect.")] = DEFAULT_CONFIG,
) -> None:
    """Warn about world-readable config and secret files, keys written in agent.yaml, secret files
    inside the repository and unset environment variables of secrets in use.

    Prints one line per finding and exits 1 if there is any; exits 0 when all is well.
    """
    from gekko_agent.ops.doctor import diagnose

    findings = diagnose(config)
    if not findings:
        typer.echo(f"{config}: no findings")
        return
    for finding in findings:
        typer.secho(f"warning: {finding}", err=True, fg="yellow")
    typer.secho(f"{len(findings)} finding(s) for {config}", err=True)
    sys.exit(1)
