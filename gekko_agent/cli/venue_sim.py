"""``gekko venue-sim``: serve a venue's real REST protocol on loopback, backed by the paper engine.

Point any client (ccxt, oandapyV20, curl) at the printed base URL. Faults are injected by
``--faults`` (``latency=50ms,429=0.05,5xx=0.02,drop_after_accept=0.05,partial=0.3,reject=0.01``)
or per request with the ``X-Gekko-Fault`` header.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["app", "serve"]

app = typer.Typer(
    name="venue-sim",
    help="Serve a venue's wire protocol (binance, coinbase, oanda) on loopback over the paper engine.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def serve(
    protocol: Annotated[str, typer.Option("--protocol", help="binance, coinbase or oanda.")] = "binance",
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1 (0 picks a free one).")] = 0,
    faults: Annotated[str, typer.Option("--faults", help="Fault SPEC, e.g. 429=0.05,partial=0.3.")] = "",
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the engine and the faults.")] = None,
) -> None:
    """Print the base URL and serve until Ctrl-C (SIGINT) or SIGTERM."""
    import signal
    import threading

    from gekko_agent.testing.sim import FaultPlan, SimServer, load_protocol

    plan = FaultPlan.parse(faults, seed)
    module = load_protocol(protocol)
    venue = module.default_venue(plan.seed)
    server = SimServer(module.create_app(venue, plan), port)
    # A signal only sets this event: it never interrupts start-up, printing or shutdown half-way.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = server.start()
        typer.echo(url)
        typer.echo(f"protocol={protocol} venue={module.NAME} faults={plan.describe()}", err=True)
        credentials = {k: getattr(module, k) for k in ("API_KEY", "API_SECRET") if hasattr(module, k)}
        for key, value in credentials.items():
            typer.echo(f"{key.lower()}={value}", err=True)
        while not stop.wait(0.5) and server.running:
            pass
        typer.echo("stopping", err=True)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
