"""A venue-backed session: the same Trader, fed by polling ccxt / OANDA venues instead of a replay.

:class:`LiveSession` is what ``gekko run`` runs when agent.yaml names ccxt or OANDA venues (real
ones, sandboxes, or a ``gekko venue-sim`` server through ``api_url``):

1. **build** the venues from config; credentials come from their ``SecretRef`` (environment or
   file) and are handed only to the adapters, never printed or journaled;
2. **resume**: orders and the portfolio are folded back from the ledger into a
   :class:`~gekko_agent.execution.resume.RestorableExecutionEngine`, and the trading state and the
   breakers' references (day-start equity, equity peak) into the Trader
   (:func:`~gekko_agent.runtime.restore.restore_trader`), so a restart continues where the last
   process stopped (or was killed) and never lifts a halt;
3. **reconcile** every venue before any new exposure: until a venue's reconciliation completes,
   the risk engine's reconciliation watermark denies new exposure there; it runs again on a timer;
4. each **step**: poll closed bars per instrument and feed them to the Trader (the first poll
   only warms indicators up), then poll fills and hand them to ``Trader.on_fills``.

``gekko run`` drives it with the headless scheduler (:mod:`gekko_agent.runtime.headless`): the
``agent_cycle`` job runs :meth:`LiveSession.step`, the ``reconcile`` job :meth:`LiveSession.reconcile`.
:meth:`LiveSession.run` is the same loop without a scheduler.

Nothing here asks which venue it talks to; the adapters parse their wire formats at their edge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from gekko_agent.agent.rules import RulesBrain
from gekko_agent.agent.strategy import load_strategy
from gekko_agent.config import CcxtVenueConfig, GekkoConfig, OandaVenueConfig
from gekko_agent.config.secrets import SecretRef
from gekko_agent.domain import AlertRaised, Clock, InstrumentId, LiveClock
from gekko_agent.errors import ConfigError, RetryableError
from gekko_agent.execution.approvals import ApprovalQueue
from gekko_agent.execution.ports import Venue
from gekko_agent.execution.reconcile import LedgerPort, Reconciler, ReconciliationReport
from gekko_agent.execution.resume import RestorableExecutionEngine, restore_portfolio
from gekko_agent.ledger import orders
from gekko_agent.runtime.brain import Brain
from gekko_agent.runtime.forecasts import forecast_source
from gekko_agent.runtime.marks import MarketBook
from gekko_agent.runtime.restore import Restored, restore_trader
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.wiring import build_instruments, risk_engine

__all__ = ["LiveSession", "build_venues"]

_WARMUP_BARS = 200


def _secret(ref: SecretRef | None, key: str, environ: Mapping[str, str] | None) -> str | None:
    return ref.resolve("agent.yaml", key, environ).get_secret_value() if ref is not None else None


def build_venues(
    cfg: GekkoConfig, clock: Clock, environ: Mapping[str, str] | None = None
) -> dict[str, Venue]:
    """The ccxt and OANDA venues agent.yaml names that have instruments, keyed by venue name.

    Args:
        cfg: the validated config.
        clock: stamps local rejects and fills the venue sent without a time.
        environ: where ``{env: NAME}`` secrets are read (default: the process environment).

    Raises:
        ConfigError: a paper venue (use the replay), a missing secret, or an unknown exchange.
    """
    from gekko_agent.venues.ccxt import CcxtVenue
    from gekko_agent.venues.ccxt import CcxtVenueConfig as CcxtSettings
    from gekko_agent.venues.oanda import OandaConfig, OandaVenue

    symbols: dict[str, tuple[str, ...]] = {}
    for ic in cfg.instruments:
        symbols[ic.venue] = (*symbols.get(ic.venue, ()), ic.symbol)
    out: dict[str, Venue] = {}
    for name, vc in cfg.venues.items():
        if name not in symbols:
            continue
        key = f"venues.{name}"
        if isinstance(vc, CcxtVenueConfig):
            settings = CcxtSettings(
                vc.exchange,
                name=name,
                api_key=_secret(vc.api_key, f"{key}.api_key", environ),
                secret=_secret(vc.secret, f"{key}.secret", environ),
                password=_secret(vc.password, f"{key}.password", environ),
                base_url=vc.api_url,
                timeout_ms=vc.timeout_ms,
                symbols=symbols[name],
                sandbox=vc.sandbox,
            )
            out[name] = CcxtVenue(settings, clock)
        elif isinstance(vc, OandaVenueConfig):
            account = _secret(vc.account_id, f"{key}.account_id", environ)
            token = _secret(vc.token, f"{key}.token", environ)
            if not account or not token:
                raise ConfigError("agent.yaml", key, "OANDA needs account_id and token")
            base = (
                OandaConfig.live(account, token) if vc.environment == "live" else OandaConfig(account, token)
            )
            url = vc.api_url or base.api_url
            out[name] = OandaVenue(OandaConfig(account, token, api_url=url, name=name))
        else:
            raise ConfigError("agent.yaml", f"{key}.kind", "a venue-backed session cannot use a paper venue")
    return out


class LiveSession:
    """One venue-backed run of the Trader (see the module docstring).

    Args:
        cfg: the validated config (mode paper or live, ccxt/OANDA venues).
        ledger: the journal; the session resumes from it (an
            :class:`~gekko_agent.runtime.journal.ObservedLedger` when alerts must see every event).
        venues: venues to use instead of building them from ``cfg`` (tests inject simulators).
        clock: the engine clock (the wall clock by default).
        reconcile_every: how often each venue is reconciled again.
        bar_interval: seconds per polled bar.
        environ: where secrets are read.
    """

    def __init__(
        self,
        cfg: GekkoConfig,
        ledger: LedgerPort,
        *,
        venues: Mapping[str, Venue] | None = None,
        clock: Clock | None = None,
        reconcile_every: timedelta = timedelta(minutes=5),
        bar_interval: int = 60,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.ledger = ledger
        self.clock = clock or LiveClock()
        self.venues = dict(venues) if venues is not None else build_venues(cfg, self.clock, environ)
        self.instruments = {iid: i for iid, i in build_instruments(cfg).items() if i.venue in self.venues}
        self.reconcile_every = reconcile_every
        self.bar_interval = bar_interval
        terms = {iid: (i.quote, i.asset_class) for iid, i in self.instruments.items()}
        portfolio = restore_portfolio(ledger, terms, account_currency=cfg.account.currency)
        self.engine = RestorableExecutionEngine(
            self.venues, self.instruments, portfolio, ledger, self.clock, retry_delay=0.2
        )
        journaled = orders(ledger)
        self.engine.restore(journaled.values())
        self.reconciler = Reconciler(
            ledger, self.clock, terms, engine=self.engine, account_currency=cfg.account.currency
        )
        book = MarketBook(
            self.instruments,
            cfg.account.currency,
            return_interval=bar_interval,
            lookback=cfg.risk.var.lookback,
        )
        brain: Brain
        if cfg.brain.kind == "llm":
            from gekko_agent.agent.llm_trading import build_llm_trading_brain

            llm_brain = build_llm_trading_brain(cfg, ledger)
            brain = llm_brain
        else:
            strategies = [load_strategy(s.name, s.instruments, s.params) for s in cfg.strategies]
            brain = RulesBrain(strategies, ledger)
        self.trader = Trader(brain, risk_engine(cfg), self.engine, ledger, self.clock, book, self.instruments)
        self.trader.approvals = ApprovalQueue(cfg.approvals, ledger, self.clock)
        self.trader.forecasts = forecast_source(cfg, brain, ledger, self.clock)
        if cfg.brain.kind == "llm":
            llm_brain.bind(self.trader)
        self.restored: Restored = restore_trader(self.trader, ledger, orders=journaled.values())
        self.reports: list[ReconciliationReport] = []
        self._last_bar: dict[InstrumentId, datetime] = {}
        self._fill_cursors: dict[str, str | None] = dict.fromkeys(self.venues)
        self._reconciled_at: dict[str, datetime] = {}

    async def reconcile(self) -> list[ReconciliationReport]:
        """Reconcile every venue; a venue that completes is marked reconciled (lifting the watermark).

        A venue that cannot be reached keeps its old watermark (so risk keeps denying new exposure
        there once it is stale) and an alert is journaled.
        """
        done: list[ReconciliationReport] = []
        for name, venue in self.venues.items():
            try:
                report = await self.reconciler.reconcile(venue)
            except RetryableError as exc:
                self.ledger.append(
                    AlertRaised(
                        ts=self.clock.now(),
                        level="error",
                        source=f"reconcile:{name}",
                        message=f"not reconciled: {exc}",
                    )
                )
                continue
            self.engine.mark_reconciled(name)
            self._reconciled_at[name] = self.clock.now()
            done.append(report)
        self.reports.extend(done)
        return done

    def _reconcile_due(self) -> bool:
        now = self.clock.now()
        return any(
            name not in self._reconciled_at or now - self._reconciled_at[name] >= self.reconcile_every
            for name in self.venues
        )

    async def poll_bars(self) -> int:
        """Feed every newly closed bar to the Trader, oldest first; returns how many were fed."""
        fed = 0
        now = self.clock.now()
        for iid, inst in self.instruments.items():
            venue = self.venues[inst.venue]
            last = self._last_bar.get(iid)
            try:
                bars = await venue.ohlcv(iid, self.bar_interval, last, _WARMUP_BARS)
            except RetryableError:
                continue
            for bar in bars:
                if (last is not None and bar.ts <= last) or bar.ts + timedelta(seconds=bar.interval) > now:
                    continue
                await self.trader.on_bar(bar, decide=last is not None)
                self._last_bar[iid] = bar.ts
                fed += 1
        return fed

    async def poll_fills(self) -> int:
        """Hand fills the venues made since the last poll to the Trader; returns how many were new."""
        new = 0
        for name, venue in self.venues.items():
            try:
                batch = await venue.fills_since(self._fill_cursors[name])
            except RetryableError:
                continue
            self._fill_cursors[name] = batch.cursor
            before = self.engine.fill_count
            await self.trader.on_fills(batch.fills)
            new += self.engine.fill_count - before
        return new

    async def step(self) -> None:
        """One decision turn (the scheduler's ``agent_cycle`` job): new bars, then new fills."""
        await self.poll_bars()
        await self.poll_fills()

    async def cycle(self) -> None:
        """One turn without a scheduler: reconcile when due, then :meth:`step`."""
        if self._reconcile_due():
            await self.reconcile()
        await self.step()

    async def run(self, *, cycles: int | None = None, should_stop: Callable[[], bool] | None = None) -> int:
        """Reconcile, then cycle every ``brain.cycle_seconds`` until stopped; returns cycles run.

        Args:
            cycles: stop after this many cycles (None: until ``should_stop`` says so).
            should_stop: polled between cycles.
        """
        await self.reconcile()
        count = 0
        while cycles is None or count < cycles:
            await self.cycle()
            count += 1
            if should_stop is not None and should_stop():
                break
            if cycles is None or count < cycles:
                await asyncio.sleep(self.cfg.brain.cycle_seconds)
        return count

    async def close(self) -> None:
        """Close the brain's outside connections (MCP servers) and every venue's connections."""
        close_brain = getattr(self.trader.brain, "close", None)
        if close_brain is not None:
            await close_brain()
        for venue in self.venues.values():
            await venue.close()
