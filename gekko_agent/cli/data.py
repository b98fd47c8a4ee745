"""``gekko data``: the bundled real market data, any CSV of bars, venue downloads, and the DuckDB cache.

``gekko data fetch`` pages a configured ccxt / OANDA venue's OHLCV into the DuckDB store
(:mod:`gekko_agent.market.history`), incrementally and gap-aware.

numpy, duckdb and the market package are imported inside the commands so ``gekko --help`` stays fast.
Errors are :class:`~gekko_agent.errors.UserError` subclasses; the root CLI prints them in one line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.market import BarArray, Dataset, FetchReport

__all__ = ["app"]

app = typer.Typer(
    help="Bundled real market data (BTC March 2023, EUR/USD 2017), your own CSV files, and the cache.",
    no_args_is_help=True,
)

_DEFAULT_CACHE = Path("var/cache/market.duckdb")

CacheOpt = Annotated[Path, typer.Option("--cache", help="DuckDB cache file.", show_default=True)]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Parse the file; neither read nor write the cache.")
]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def _progress(label: str, cold: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A transient rich progress bar while a file is parsed (cold cache); nothing when warm."""
    if not cold:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"parsing {label} (first load; cached afterwards)", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command("list")
def list_datasets() -> None:
    """List the bundled datasets: name, instrument, interval, rows, time range and source."""
    from rich.table import Table

    from gekko_agent.market import format_interval, list_datasets

    table = Table("name", "instrument", "interval", "rows", "from (UTC)", "to (UTC)", "source", title=None)
    table.columns[3].justify = "right"
    for ds in list_datasets():
        table.add_row(
            ds.name,
            ds.instrument_id,
            format_interval(ds.interval),
            f"{ds.rows:,}",
            ds.start.strftime("%Y-%m-%d %H:%M"),
            ds.end.strftime("%Y-%m-%d %H:%M"),
            ds.source,
        )
    console = _console()
    console.print(table)
    console.print("Credits and terms: gekko_agent/data/README.md; details: gekko data show NAME")


def _resolve(target: str) -> tuple[str, Dataset | None, Path]:
    """A dataset name or a CSV path → (label, dataset or None, file)."""
    from gekko_agent.errors import DataNotFound
    from gekko_agent.market import get_dataset

    path = Path(target).expanduser()
    if path.is_file():
        return str(path), None, path
    try:
        ds = get_dataset(target)
    except DataNotFound:
        if any(ch in target for ch in "/\\.") or target.endswith(("csv", "gz")):
            raise DataNotFound(
                f"{target}: no such file, and no dataset of that name (see gekko data list)"
            ) from None
        raise
    return ds.name, ds, ds.path


@app.command("show")
def show(
    name: Annotated[
        str, typer.Argument(help="A dataset name (gekko data list) or the path of an OHLCV CSV file.")
    ],
    from_: Annotated[
        str | None,
        typer.Option("--from", help="First bar time, inclusive (ISO, UTC): 2023-03-10 or 2023-03-10T14:00."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Stop before this time (exclusive, ISO, UTC).")
    ] = None,
    resample_to: Annotated[
        str | None, typer.Option("--resample", help="Aggregate to 5m, 15m, 1h, 4h or 1d (UTC-aligned).")
    ] = None,
    tail: Annotated[int, typer.Option("--tail", min=0, help="How many of the last bars to print.")] = 10,
    cache: CacheOpt = _DEFAULT_CACHE,
    no_cache: NoCacheOpt = False,
) -> None:
    """Summarise a dataset or CSV file (range, change, high/low, gaps) and print its last bars."""
    from gekko_agent.market import format_interval, is_cached, load_csv, load_dataset, resample

    label, ds, path = _resolve(name)
    store = None if no_cache else cache
    with _progress(label, cold=not is_cached(path, store)) as progress:
        bars = (
            load_dataset(ds, cache=store, progress=progress)
            if ds
            else load_csv(path, cache=store, progress=progress)
        )
    source_interval = bars.interval
    if from_ is not None or to is not None:
        bars = bars.between(from_, to)
    if resample_to:
        bars = resample(bars, resample_to)
    console = _console()
    shape = format_interval(source_interval)
    if bars.interval != source_interval:
        shape += f" → {format_interval(bars.interval)}"
    console.print(f"[bold]{label}[/]  {bars.instrument_id}  {shape}  {len(bars):,} bars")
    if ds is not None:
        console.print(f"source: {ds.source}; {ds.terms}")
        if ds.notes:
            console.print(f"notes: {ds.notes}")
    if not len(bars):
        console.print("no bars in that window")
        return
    _summary(console, bars)
    if tail:
        _table(console, bars[max(0, len(bars) - tail) :])


def _summary(console: Console, bars: BarArray) -> None:
    from gekko_agent.market import format_ts

    first_open = bars.decimal(float(bars.open[0]))
    last_close = bars.decimal(float(bars.close[-1]))
    change = (last_close - first_open) / first_open * 100
    console.print(
        f"{format_ts(int(bars.ts[0]))} → {format_ts(int(bars.ts[-1]))} UTC   "
        f"open {first_open}  close {last_close}  ({change:+.2f} %)   "
        f"high {bars.decimal(float(bars.high.max()))}  low {bars.decimal(float(bars.low.min()))}   "
        f"volume {bars.decimal(float(bars.volume.sum()), volume=True)}   missing bars {bars.missing():,}"
    )


def _table(console: Console, bars: BarArray) -> None:
    from rich.table import Table

    table = Table("time (UTC)", "open", "high", "low", "close", "volume")
    for col in table.columns[1:]:
        col.justify = "right"
    for bar in bars.to_bars():
        stamp = bar.ts.strftime("%Y-%m-%d %H:%M")
        table.add_row(stamp, str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume))
    console.print(table)


@app.command("cache")
def cache_cmd(
    cache: CacheOpt = _DEFAULT_CACHE,
    clear: Annotated[bool, typer.Option("--clear", help="Forget every cached file.")] = False,
) -> None:
    """List the files the market-data cache holds (fresh or stale), or clear it."""
    from gekko_agent.market import BarCache

    store = BarCache(cache)
    console = _console()
    if clear:
        count = store.clear()
        console.print(f"{cache}: cleared {count} entr{'y' if count == 1 else 'ies'}")
        return
    entries = store.entries()
    if not entries:
        console.print(f"{cache}: empty")
        return
    for entry in entries:
        source = Path(entry.key)
        fresh = source.is_file() and store.lookup(source) is not None
        console.print(f"{'fresh' if fresh else 'stale'}  {entry.rows:>8,} bars  {entry.key}")


async def _fetch(
    cfg: GekkoConfig,
    iid: str,
    interval: int,
    start: str,
    end: str,
    store_path: Path,
    page_limit: int,
    progress: Callable[[int, int], None],
) -> FetchReport:
    from gekko_agent.config import InstrumentConfig
    from gekko_agent.domain import LiveClock
    from gekko_agent.market import FetchedBarStore, fetch_history
    from gekko_agent.runtime.live import build_venues

    symbol, _, venue_name = iid.partition("@")
    # the venue is built for this one instrument too, even when agent.yaml trades others there
    listed = [i for i in cfg.instruments if i.venue != venue_name or i.symbol != symbol]
    wanted = cfg.model_copy(
        update={"instruments": [*listed, InstrumentConfig(symbol=symbol, venue=venue_name)]}
    )
    venues = build_venues(wanted, LiveClock())
    try:
        venue = venues[venue_name]
        return await fetch_history(
            venue,
            iid,
            interval,
            start,
            end,
            FetchedBarStore(store_path),
            page_limit=page_limit,
            progress=progress,
        )
    finally:
        for opened in venues.values():
            await opened.close()


@app.command("fetch")
def fetch(
    instrument: Annotated[
        str, typer.Option("--instrument", "-i", help="SYMBOL@venue, the venue defined in agent.yaml.")
    ],
    from_: Annotated[str, typer.Option("--from", help="First bar time, inclusive (ISO, UTC): 2023-03-01.")],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="agent.yaml to use (default: ./agent.yaml or the shipped one)."),
    ] = None,
    interval: Annotated[
        str, typer.Option("--interval", help="Bar length: 1m, 5m, 15m, 1h, 4h or 1d.")
    ] = "1m",
    to: Annotated[
        str | None, typer.Option("--to", help="Stop before this time (exclusive, ISO, UTC); default: now.")
    ] = None,
    page_limit: Annotated[
        int, typer.Option("--page-limit", min=1, help="Bars asked for per request (the venue may cap it).")
    ] = 500,
    store: Annotated[
        Path | None, typer.Option("--store", help="DuckDB file (default: data.cache from agent.yaml).")
    ] = None,
) -> None:
    """Download bars from a configured ccxt / OANDA venue into the DuckDB store, only what is missing.

    Asks only for bars the store lacks (before its first bar, after its last, and holes between);
    a span the venue has no bars for is remembered as a known gap and not asked for again.
    Credentials come from the venue's env/file references in agent.yaml and are never printed.
    """
    from datetime import UTC, datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gekko_agent.config import CcxtVenueConfig, OandaVenueConfig, load_config
    from gekko_agent.errors import InvalidInput, RetryableError
    from gekko_agent.market import format_interval, format_ts, parse_interval, to_ns

    symbol, at, venue_name = instrument.partition("@")
    if not at or not symbol or not venue_name:
        raise InvalidInput(f"--instrument {instrument!r}: expected SYMBOL@venue, e.g. BTC/USD@binanceus")
    seconds = parse_interval(interval)
    end = to or datetime.now(UTC).isoformat()
    to_ns(from_), to_ns(end)  # reject a malformed time before anything is opened
    cfg = load_config(config)
    vc = cfg.venues.get(venue_name)
    if not isinstance(vc, CcxtVenueConfig | OandaVenueConfig):
        kind = "not defined" if vc is None else "a paper venue (it has no history to download)"
        raise InvalidInput(f"venue {venue_name!r} is {kind} in agent.yaml; name a ccxt or oanda venue")
    store_path = store or cfg.data.cache
    label = f"{instrument} {format_interval(seconds)}"
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("bars"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"fetching {label}", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = asyncio.run(_fetch(cfg, instrument, seconds, from_, end, store_path, page_limit, update))
        except RetryableError as exc:
            Console(stderr=True, highlight=False).print(
                f"error: {instrument}: venue unavailable, nothing more fetched: {exc}", markup=False
            )
            raise typer.Exit(1) from None
    console = _console()
    window = f"{format_ts(to_ns(report.start))} → {format_ts(to_ns(report.end))} UTC"
    if not report.windows:
        console.print(f"{label} {window}: already stored, nothing to fetch ({store_path})")
        return
    console.print(
        f"{label} {window}: {report.stored:,} new bars ({report.received:,} received) in "
        f"{report.requests} requests, {report.seconds:.1f} s ({report.bars_per_second:,.0f} bars/s); "
        f"{report.holes} holes re-requested, {len(report.gaps)} known gaps recorded → {store_path}",
        markup=False,
    )
