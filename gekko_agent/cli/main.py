"""The ``gekko`` command line. Each group lives in its own module; heavy imports stay inside commands
so that ``gekko --help`` answers at once.

User errors (:class:`~gekko_agent.errors.UserError`) print one line to stderr and exit 2; they never
show a traceback. Operational failures that are not bugs (a ledger that cannot be opened or is held by
another process, a venue that is down or refuses) print one line and exit 1. Broken invariants and
illegal order transitions are bugs: they keep their traceback.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from typer._click.core import Context as ClickContext  # typer vendors click; its Group takes this
from typer.core import TyperGroup

from gekko_agent.cli import agent as agent_cli
from gekko_agent.cli import chatops as chatops_cli
from gekko_agent.cli import config as config_cli
from gekko_agent.cli import data as data_cli
from gekko_agent.cli import doctor as doctor_cli
from gekko_agent.cli import forecast as forecast_cli
from gekko_agent.cli import ledger as ledger_cli
from gekko_agent.cli import mcp as mcp_cli
from gekko_agent.cli import reconcile as reconcile_cli
from gekko_agent.cli import report as report_cli
from gekko_agent.cli import risk as risk_cli
from gekko_agent.cli import trading as trading_cli
from gekko_agent.cli import tui as tui_cli
from gekko_agent.cli import venue_sim as venue_sim_cli
from gekko_agent.errors import (
    ConfigError,
    IllegalTransition,
    InvariantViolation,
    LedgerError,
    RetryableError,
    UserError,
    VenueRejected,
)
from gekko_agent.text import one_line

__all__ = ["app", "main"]


def _fail(ctx: ClickContext, label: str, exc: Exception, code: int) -> NoReturn:
    typer.secho(f"gekko: {label}: {one_line(exc)}", err=True, fg="red")
    ctx.exit(code)


class _GekkoGroup(TyperGroup):
    """Root command group: a user error anywhere below becomes one line on stderr and exit 2."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(ctx, "config error", exc, 2)
        except UserError as exc:
            _fail(ctx, "error", exc, 2)
        except (IllegalTransition, InvariantViolation):
            raise
        except LedgerError as exc:
            _fail(ctx, "ledger error", exc, 1)
        except (RetryableError, VenueRejected) as exc:
            _fail(ctx, "venue error", exc, 1)


app = typer.Typer(
    cls=_GekkoGroup,
    name="gekko",
    help="Gekko: an autonomous trading agent whose every order passes a deterministic risk engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

app.command("demo", help="Paper-trade bundled real market data (BTC, March 2023) and watch it.")(
    trading_cli.demo
)
app.command("run", help="Run Gekko in the mode agent.yaml says (paper or live), headless.")(trading_cli.run)
app.command("backtest", help="Backtest a strategy on bundled data or your own CSV.")(trading_cli.backtest)
app.command(
    "reconcile", help="Compare the ledger with each configured venue; journal and settle every difference."
)(reconcile_cli.reconcile)
app.command(
    "doctor", help="Warn about readable config/secret files, keys in agent.yaml, unset key variables."
)(doctor_cli.doctor)
app.add_typer(agent_cli.app, name="agent", help="Run and inspect the LLM agent (one cycle, record/replay).")
app.add_typer(data_cli.app, name="data", help="Bundled and cached market data.")
app.add_typer(tui_cli.app, name="tui", help="Watch a running Gekko (Textual dashboard).")
app.add_typer(chatops_cli.app, name="chatops", help="Supervise Gekko from Telegram and Slack.")
app.add_typer(config_cli.app, name="config", help="Check and explain agent.yaml.")
app.add_typer(ledger_cli.app, name="ledger", help="Query the journal of decisions, orders and fills.")
app.add_typer(
    forecast_cli.app, name="forecast", help="Train, evaluate and query the torch return-quantile forecaster."
)
app.add_typer(mcp_cli.app, name="mcp", help="Serve Gekko's tools to other agents over MCP (stdio or HTTP).")
app.add_typer(report_cli.app, name="report", help="Reports read from the ledger (gate regret).")
app.add_typer(risk_cli.app, name="risk", help="Risk state, limits, dry-run checks, VaR and stress.")
app.add_typer(
    venue_sim_cli.app,
    name="venue-sim",
    help="Serve a venue's wire protocol (binance, coinbase, oanda) on loopback.",
)


def main() -> None:
    """Entry point of the ``gekko`` script and ``python -m gekko_agent``."""
    try:
        app()
    except KeyboardInterrupt:
        typer.secho("gekko: interrupted", err=True)
        sys.exit(130)
