"""``gekko backtest``: one strategy on one dataset or CSV, through the same Trader, RiskEngine and
ExecutionEngine as paper and live trading (a paper venue on a simulated clock)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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

__all__ = ["backtest_config", "run_backtest"]

CSV_SYMBOL = "ASSET/USD"


def backtest_config(
    base: GekkoConfig,
    *,
    strategy: str,
    symbol: str,
    asset_class: str,
    dataset: str | None,
    fee_bps: Decimal,
    cash: Decimal,
    params: dict[str, Any],
    brain: str = "rules",
    model: str | None = None,
    api_base: str | None = None,
) -> GekkoConfig:
    """The base config narrowed to one paper instrument and one strategy (validated again).

    With ``brain="llm"`` the strategy is not used; the LLM brain decides (model from ``model`` or
    ``brain.llm`` of the base config).
    """
    quote = symbol.split("/")[1]
    data = base.model_dump(mode="python")
    data["mode"] = "backtest"
    data["account"] = {"currency": quote, "starting_cash": {quote: cash}}
    data["risk"] = {**data["risk"], "currency": quote}
    data["venues"] = {
        "paper": {
            "kind": "paper",
            "maker_fee_bps": fee_bps,
            "taker_fee_bps": fee_bps,
            "slippage_bps": Decimal(2),
            "max_participation": Decimal("0.1"),
            "seed": 7,
        }
    }
    data["instruments"] = [
        {
            "symbol": symbol,
            "venue": "paper",
            "asset_class": asset_class,
            "dataset": dataset,
            "tick_size": Decimal("0.00001") if asset_class == "fx" else Decimal("0.01"),
            "lot_size": Decimal(1) if asset_class == "fx" else Decimal("0.00001"),
        }
    ]
    defaults = {s.name: s.params for s in base.strategies}
    merged = {**defaults.get(strategy, {}), **params}
    data["strategies"] = [{"name": strategy, "instruments": [f"{symbol}@paper"], "params": merged}]
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
    try:
        return GekkoConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ConfigError("backtest", ".".join(str(p) for p in err["loc"]), err["msg"]) from None


def run_backtest(
    base: GekkoConfig,
    *,
    strategy: str,
    dataset: str | None = None,
    csv: Path | None = None,
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
) -> RunReport:
    """Run one backtest and report it.

    Args:
        base: config supplying risk limits and default strategy parameters.
        strategy: strategy name.
        dataset: bundled dataset name (or ``csv``).
        csv: a user's OHLCV file (or ``dataset``).
        start: bars before this only warm up.
        end: stop before this time.
        fee_bps: maker and taker fee.
        cash: starting cash in the quote currency.
        params: strategy parameter overrides.
        progress: show a progress bar on stderr.
        report_dir: write metrics, trades, PNG plots and a self-contained HTML report there.
        brain: ``rules`` (the strategy) or ``llm`` (the agent decides every ``brain.cycle_seconds``).
        model: litellm model string for ``--brain llm`` (else agent.yaml's ``brain.llm.model``).
        api_base: model server URL for ``--brain llm`` (local servers: vLLM, Ollama, LM Studio).
        record: store every model exchange in this folder.
        replay: answer from recorded exchanges (an agent backtest that reruns without a model).
    """
    bars: dict[str, BarArray] | None = None
    if dataset is not None:
        ds = get_dataset(dataset)
        symbol, asset_class = ds.symbol, str(ds.asset_class)
    elif csv is not None:
        symbol, asset_class = CSV_SYMBOL, "crypto_spot"
        bars = {
            f"{symbol}@paper": load_csv(csv, instrument=f"{symbol}@paper", end=end, cache=base.data.cache)
        }
    else:
        raise InvalidInput("backtest: give a dataset or a CSV file")
    cfg = backtest_config(
        base,
        strategy=strategy,
        symbol=symbol,
        asset_class=asset_class,
        dataset=dataset,
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
        asyncio.run(run_replay(system, start=start, on_bar=lambda _bar: advance(1)))
    fills = [e.fill for e in journal.events if isinstance(e, OrderFilled)]
    result = report(system.trader, fills, first_trading=start)
    if report_dir is not None:
        from gekko_agent.runtime.report import write_report

        write_report(result, system.trader, report_dir, title=f"{strategy} on {dataset or csv}")
    return result
