"""``gekko backtest``: one strategy on one or more datasets (or a CSV), through the same Trader,
RiskEngine and ExecutionEngine as paper and live trading (paper venues on a simulated clock).

Inputs are checked before anything runs: the window (``start`` before ``end``, and bars of every
dataset inside it) and the report folder, so a mistake costs one line, not a whole run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gekko_agent.agent.strategy import strategy_params_model
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import OrderFilled
from gekko_agent.errors import ConfigError, InvalidInput
from gekko_agent.market.bararray import BarArray
from gekko_agent.market.catalog import get_dataset
from gekko_agent.market.loader import load_csv
from gekko_agent.runtime.metrics import RunReport, report
from gekko_agent.runtime.progress import bar_progress
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

__all__ = [
    "OTHER_QUOTE_SHARE",
    "SIZE_DEFAULTS",
    "Leg",
    "backtest_config",
    "backtest_sources",
    "check_window",
    "dataset_legs",
    "run_backtest",
    "strategy_params",
]

CSV_SYMBOL = "ASSET/USD"
OTHER_QUOTE_SHARE = Decimal("0.05")
"""Cash in a quote currency other than the account's, as a share of ``cash``: a run on BTC/USD and
BTC/USDC holds 100,000 USD and 5,000 USDC, not 100,000 USDC that a depeg would mark down."""
SIZE_DEFAULTS: dict[str, dict[str, Decimal]] = {"fx": {"quantity": Decimal(10000)}}
"""Order size per asset class, used when agent.yaml sizes the strategy for another asset (FX trades
in units of the base currency, so 10,000 EUR rather than the 0.5 that suits BTC)."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One instrument of a backtest.

    Attributes:
        symbol: ``BASE/QUOTE``.
        asset_class: ``crypto_spot`` or ``fx``.
        dataset: the bundled dataset replayed for it (None: bars are handed in, as with ``--csv``).
        venue: the paper venue it trades on (one per source venue when two legs share a symbol).
    """

    symbol: str
    asset_class: str = "crypto_spot"
    dataset: str | None = None
    venue: str = "paper"

    @property
    def instrument_id(self) -> str:
        """``SYMBOL@venue``."""
        return f"{self.symbol}@{self.venue}"


def dataset_legs(names: Sequence[str]) -> list[Leg]:
    """One leg per bundled dataset; legs sharing a symbol trade on paper venues named after their source.

    Raises:
        DataNotFound: an unknown dataset.
        InvalidInput: the same dataset twice, or two datasets of one symbol from one venue.
    """
    sets = [get_dataset(name) for name in names]
    if len({d.name for d in sets}) < len(sets):
        raise InvalidInput(f"--data: a dataset is given twice ({', '.join(names)})")
    symbols = [d.symbol for d in sets]
    split = len(set(symbols)) < len(symbols)
    if split and len({(d.symbol, d.venue) for d in sets}) < len(sets):
        raise InvalidInput(f"--data: two datasets of the same instrument ({', '.join(names)})")
    return [Leg(d.symbol, str(d.asset_class), d.name, d.venue if split else "paper") for d in sets]


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Raise unless ``start`` is before ``end`` (either may be open)."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"--from {start.isoformat()} must be before --to {end.isoformat()}")


def _check_has_bars(
    name: str, first: datetime, last: datetime, interval: int, start: datetime | None, end: datetime | None
) -> None:
    """Raise when no bar of ``name`` (opening ``first`` .. ``last``) trades inside [start, end)."""
    after_data = start is not None and start > last
    before_data = end is not None and end <= first
    if after_data or before_data:
        span = f"{start.isoformat() if start else 'the start'} to {end.isoformat() if end else 'the end'}"
        raise InvalidInput(
            f"no bars of {name} from {span}: its data runs from {first:%Y-%m-%d %H:%M} to "
            f"{last + timedelta(seconds=interval):%Y-%m-%d %H:%M} UTC"
        )


def strategy_params(
    base: GekkoConfig, strategy: str, legs: Sequence[Leg], params: dict[str, Any]
) -> dict[str, Any]:
    """agent.yaml's parameters of ``strategy``, resized for the legs, under the ``params`` overrides.

    agent.yaml's ``quantity`` (base units) is kept only when every leg has a base its entry trades;
    otherwise the size comes from :data:`SIZE_DEFAULTS` for the first leg's asset class, or from the
    strategy's own default.
    """
    entry = next((s for s in base.strategies if s.name == strategy), None)
    merged: dict[str, Any] = dict(entry.params) if entry is not None else {}
    sized_for = {iid.partition("@")[0].partition("/")[0] for iid in entry.instruments} if entry else set()
    if "quantity" in merged and not {leg.symbol.partition("/")[0] for leg in legs} <= sized_for:
        del merged["quantity"]
    sizes = SIZE_DEFAULTS.get(legs[0].asset_class, {}) if legs else {}
    if "quantity" not in merged and sizes:
        fields = strategy_params_model(strategy).model_fields
        merged.update({key: value for key, value in sizes.items() if key in fields})
    return {**merged, **params}


def backtest_config(
    base: GekkoConfig,
    *,
    strategy: str,
    symbol: str | None = None,
    asset_class: str = "crypto_spot",
    dataset: str | None = None,
    legs: Sequence[Leg] = (),
    fee_bps: Decimal,
    cash: Decimal,
    params: dict[str, Any],
    brain: str = "rules",
    model: str | None = None,
    api_base: str | None = None,
) -> GekkoConfig:
    """The base config narrowed to the backtest's paper instruments and one strategy (validated again).

    Give one instrument as ``symbol``/``asset_class``/``dataset``, or several as ``legs``. The first
    leg's quote is the account currency and starts with ``cash``; every other quote currency starts
    with :data:`OTHER_QUOTE_SHARE` of it (enough to trade, little currency risk). With
    ``brain="llm"`` the strategy is not used; the LLM brain decides (model from ``model`` or
    ``brain.llm`` of the base config).
    """
    if not legs:
        if symbol is None:
            raise InvalidInput("backtest: give a symbol or legs")
        legs = [Leg(symbol, asset_class, dataset)]
    quote = legs[0].symbol.split("/")[1]
    data = base.model_dump(mode="python")
    data["mode"] = "backtest"
    others = dict.fromkeys(leg.symbol.split("/")[1] for leg in legs if not leg.symbol.endswith(f"/{quote}"))
    working = (cash * OTHER_QUOTE_SHARE).quantize(Decimal("0.01"))
    data["account"] = {"currency": quote, "starting_cash": {quote: cash, **dict.fromkeys(others, working)}}
    data["risk"] = {**data["risk"], "currency": quote}
    venue = {
        "kind": "paper",
        "maker_fee_bps": fee_bps,
        "taker_fee_bps": fee_bps,
        "slippage_bps": Decimal(2),
        "max_participation": Decimal("0.1"),
        "seed": 7,
    }
    data["venues"] = {name: dict(venue) for name in dict.fromkeys(leg.venue for leg in legs)}
    data["instruments"] = [
        {
            "symbol": leg.symbol,
            "venue": leg.venue,
            "asset_class": leg.asset_class,
            "dataset": leg.dataset,
            "tick_size": Decimal("0.00001") if leg.asset_class == "fx" else Decimal("0.01"),
            "lot_size": Decimal(1) if leg.asset_class == "fx" else Decimal("0.00001"),
        }
        for leg in legs
    ]
    iids = [leg.instrument_id for leg in legs]
    if brain == "llm":
        llm = dict(data["brain"].get("llm") or {})
        if model is not None:
            llm["model"] = model
        if api_base is not None:
            llm["api_base"] = api_base
        if "model" not in llm:
            raise InvalidInput("backtest --brain llm: give --model, or a brain.llm section in agent.yaml")
        data["brain"] = {**data["brain"], "kind": "llm", "llm": llm}
        data["strategies"] = []
    else:
        merged = strategy_params(base, strategy, legs, params)
        data["strategies"] = [{"name": strategy, "instruments": iids, "params": merged}]
    try:
        return GekkoConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ConfigError("backtest", ".".join(str(p) for p in err["loc"]), err["msg"]) from None


def backtest_sources(
    base: GekkoConfig,
    dataset: str | Sequence[str] | None,
    csv: Path | None,
    interval: str | int | None,
    window: tuple[datetime | None, datetime | None],
) -> tuple[list[Leg], dict[str, BarArray] | None]:
    """The legs of a run and, for a CSV, its bars (cut at the window's end).

    Raises:
        InvalidInput: a source without bars in ``window``, the same dataset twice, no source.
        DataNotFound: an unknown dataset or a missing CSV file.
    """
    start, end = window
    if csv is not None:
        leg = Leg(CSV_SYMBOL)
        bars = load_csv(csv, instrument=leg.instrument_id, interval=interval, cache=base.data.cache)
        if bars.start is not None and bars.end is not None:
            _check_has_bars(str(csv), bars.start, bars.end, bars.interval, start, end)
        return [leg], {leg.instrument_id: bars.between(None, end) if end is not None else bars}
    if dataset is None or not dataset:
        raise InvalidInput("backtest: give a dataset or a CSV file")
    legs = dataset_legs([dataset] if isinstance(dataset, str) else list(dataset))
    for leg in legs:
        ds = get_dataset(leg.dataset or "")
        _check_has_bars(ds.name, ds.start, ds.end, ds.interval, start, end)
    return legs, None


def run_backtest(
    base: GekkoConfig,
    *,
    strategy: str,
    dataset: str | Sequence[str] | None = None,
    csv: Path | None = None,
    interval: str | int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    fee_bps: Decimal = Decimal(10),
    cash: Decimal = Decimal(100000),
    params: dict[str, Any] | None = None,
    progress: bool = False,
    report_dir: Path | None = None,
    brain: str = "rules",
    model: str | None = None,
    api_base: str | None = None,
    record: Path | None = None,
    replay: Path | None = None,
    every_bar: bool = False,
) -> RunReport:
    """Run one backtest and report it.

    Args:
        base: config supplying risk limits and default strategy parameters.
        strategy: strategy name.
        dataset: bundled dataset name, or several (one instrument each, e.g. the two legs of
            ``arbitrage``); or ``csv``.
        csv: a user's OHLCV file (or ``dataset``).
        interval: the CSV's bar length (``"1m"`` or seconds); None infers it from the rows.
        start: bars before this only warm up.
        end: stop before this time.
        fee_bps: maker and taker fee.
        cash: starting cash in the account currency (the first instrument's quote).
        params: strategy parameter overrides.
        progress: show a progress bar on stderr.
        report_dir: write metrics, trades, PNG plots and a self-contained HTML report there.
        brain: ``rules`` (the strategy) or ``llm`` (the agent decides every ``brain.cycle_seconds``).
        model: litellm model string for ``--brain llm`` (else agent.yaml's ``brain.llm.model``).
        api_base: model server URL for ``--brain llm`` (local servers: vLLM, Ollama, LM Studio).
        record: store every model exchange in this folder.
        replay: answer from recorded exchanges (an agent backtest that reruns without a model).
        every_bar: run every bar through the full per-bar path instead of the quiet-bar fast path
            (:mod:`gekko_agent.runtime.quiet`); the results are the same.

    Raises:
        InvalidInput: ``start`` not before ``end``, a window without bars, a report folder that
            cannot be written, a strategy that refuses its instruments.
        DataNotFound: an unknown dataset or a missing CSV file.
    """
    check_window(start, end)
    if cash <= 0:
        raise InvalidInput(f"cash {cash} must be above zero")
    legs, bars = backtest_sources(base, dataset, csv, interval, (start, end))
    if report_dir is not None:
        from gekko_agent.runtime.report import prepare_report_dir

        prepare_report_dir(report_dir)
    cfg = backtest_config(
        base,
        strategy=strategy,
        legs=legs,
        fee_bps=fee_bps,
        cash=cash,
        params=params or {},
        brain=brain,
        model=model,
        api_base=api_base,
    )
    journal = MemoryJournal()
    system = build_replay(
        cfg, journal, start=start, end=end, warmup_minutes=1500, bars=bars, record=record, replay=replay
    )
    with bar_progress("backtest", len(system.feed), enabled=progress) as advance:
        asyncio.run(run_replay(system, start=start, on_progress=advance, skip_quiet=not every_bar))
    fills = [e.fill for e in journal.events if isinstance(e, OrderFilled)]
    result = report(system.trader, fills, first_trading=start)
    if report_dir is not None:
        from gekko_agent.runtime.report import write_report

        names = ", ".join(leg.dataset or str(csv) for leg in legs)
        write_report(result, system.trader, report_dir, title=f"{strategy} on {names}")
    return result
