"""``gekko forecast``: train, evaluate and query the torch quantile forecaster.

torch (through :mod:`gekko_agent.forecast`) and the market package are imported inside the commands,
so ``gekko --help`` never pays for them. Bad input raises :class:`~gekko_agent.errors.InvalidInput` or
:class:`~gekko_agent.errors.DataNotFound`; the root CLI prints one line and exits 2.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from gekko_agent.forecast import Score
    from gekko_agent.market import BarArray

__all__ = ["app"]

app = typer.Typer(
    help="Torch quantile forecasts of next-horizon returns: train, evaluate against baselines, predict.",
    no_args_is_help=True,
)

_DEFAULT_DATA = "binanceus-btcusd-1m"
_DEFAULT_NAME = "quantile-mlp"  # gekko_agent.forecast.DEFAULT_MODEL, kept literal to avoid importing torch

RegistryOpt = Annotated[Path, typer.Option("--registry", help="Model registry directory.")]
NameOpt = Annotated[str, typer.Option("--name", help="Model name in the registry.")]
VersionOpt = Annotated[int | None, typer.Option("--version", help="Model version (default: the latest).")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _load(data: str, interval: str | None) -> BarArray:
    """A bundled dataset by name, or a CSV file by path, resampled to ``interval`` when given."""
    from gekko_agent.market import load_bars, load_csv, resample

    path = Path(data).expanduser()
    bars = load_csv(path) if path.suffix in {".csv", ".gz"} or path.is_file() else load_bars(data)
    return resample(bars, interval) if interval else bars


@contextmanager
def _device_log() -> Iterator[None]:
    """While training, show the forecast package's INFO log (the device choice) on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("gekko: %(message)s"))
    logger = logging.getLogger("gekko_agent.forecast")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _table(scores: list[Score], title: str) -> None:
    from rich.table import Table

    levels = list(scores[0].coverage)
    bands = list(scores[0].bands)
    table = Table(
        "forecast",
        "pinball bps",
        "vs model",
        "direction",
        "MAE bps",
        f"share ≤ q{'/'.join(levels)}",
        f"inside {' / '.join(bands)}",
        title=title,
    )
    for col in table.columns[1:]:
        col.justify = "right"
    ref = scores[0].pinball_bps
    for s in scores:
        delta = "" if s.name == "model" else f"{(s.pinball_bps / ref - 1) * 100:+.1f}%"
        table.add_row(
            s.name,
            f"{s.pinball_bps:.3f}",
            delta,
            f"{s.directional:.3f}",
            f"{s.mae_bps:.2f}",
            " ".join(f"{s.coverage[q]:.2f}" for q in levels),
            " / ".join(f"{s.bands[b]:.2f}" for b in bands),
        )
    out = _console()
    out.print(table)
    out.print(
        f"[dim]{scores[0].rows} rows. Lower pinball is better; ideal shares ≤ q are the levels "
        f"({' '.join(levels)}), ideal band coverage is each band's width.[/dim]"
    )


@app.command("train")
def train_cmd(
    data: Annotated[str, typer.Option("--data", help="Bundled dataset name or CSV path.")] = _DEFAULT_DATA,
    interval: Annotated[str, typer.Option("--interval", help="Bar interval to train on.")] = "5m",
    horizon: Annotated[int, typer.Option("--horizon", help="Bars ahead to forecast.", min=1)] = 12,
    epochs: Annotated[int, typer.Option("--epochs", help="Most epochs (early stopping).", min=1)] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Seed for torch, numpy and the shuffle.")] = 7,
    name: NameOpt = _DEFAULT_NAME,
    device: Annotated[str, typer.Option("--device", help="auto (CUDA→MPS→CPU), cpu, cuda or mps.")] = "auto",
    registry: RegistryOpt = Path("var/models"),
) -> None:
    """Train on a time-ordered split, score on held-out data and save a new version to the registry."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gekko_agent.forecast import ModelRegistry, TrainConfig, train
    from gekko_agent.market import format_interval

    bars = _load(data, interval)
    config = TrainConfig(horizon=horizon, epochs=epochs, seed=seed, device=device)
    with (
        _device_log(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("training", total=epochs, losses="")

        def on_epoch(epoch: int, total: int, tr: float, va: float) -> None:
            progress.update(task, completed=epoch, losses=f"train {tr:.4f}  val {va:.4f}")

        result = train(bars, config, on_epoch)
    meta = ModelRegistry(registry).save(
        name, result, dataset=data, instrument_id=bars.instrument_id, interval=bars.interval
    )
    out = _console()
    out.print(
        f"trained {name} v{meta.version} on {data} ({bars.instrument_id}, {format_interval(bars.interval)}, "
        f"horizon {horizon} bars) on {result.device}: {len(result.history)} epochs, "
        f"best {result.best_epoch}, {result.seconds:.1f}s"
    )
    for part in ("train", "val", "test"):
        out.print(f"  {part:5} {meta.range_text(part)}")
    _table(result.scores, f"held-out test: {meta.range_text('test')}")
    out.print(f"saved to {registry / name / f'v{meta.version}'}")


@app.command("evaluate")
def evaluate_cmd(
    name: NameOpt = _DEFAULT_NAME,
    version: VersionOpt = None,
    data: Annotated[
        str | None, typer.Option("--data", help="Dataset or CSV to score on (default: the training data).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First forecast time (default: test start).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last forecast time (default: test end).")] = None,
    registry: RegistryOpt = Path("var/models"),
) -> None:
    """Score a registered model against the zero, last-return and empirical baselines."""
    from gekko_agent.forecast import Forecaster
    from gekko_agent.market import format_ts, to_ns

    forecaster = Forecaster.from_registry(name, version, registry)
    meta = forecaster.meta
    first, last = meta.ranges["test"]
    if data is not None and start is None and end is None:
        first_ns: int | None = None
        last_ns: int | None = None
    else:
        first_ns = first if start is None else to_ns(start)
        last_ns = last if end is None else to_ns(end)
    scores = forecaster.evaluate(_load(data or meta.dataset, None), first_ns, last_ns)
    span = "all rows" if first_ns is None else f"{format_ts(first_ns)} → {format_ts(last_ns or first_ns)}"
    _table(scores, f"{name} v{meta.version} on {data or meta.dataset}: {span}")


@app.command("predict")
def predict_cmd(
    name: NameOpt = _DEFAULT_NAME,
    version: VersionOpt = None,
    data: Annotated[
        str | None, typer.Option("--data", help="Dataset or CSV (default: the training data).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Forecast from bars closed by this time (UTC).")
    ] = None,
    registry: RegistryOpt = Path("var/models"),
) -> None:
    """Print the forecast return quantiles (and implied prices) over the model's horizon."""
    from rich.table import Table

    from gekko_agent.errors import InvalidInput
    from gekko_agent.forecast import Forecaster
    from gekko_agent.market import format_interval, format_ts, to_ns

    forecaster = Forecaster.from_registry(name, version, registry)
    meta = forecaster.meta
    bars = forecaster.align(_load(data or meta.dataset, None))
    if at is not None:
        bars = bars.between(None, to_ns(at) - bars.interval * 1_000_000_000 + 1)
    if not len(bars):
        raise InvalidInput(f"no bar closed by {at}")
    quantiles = forecaster.quantiles(bars)
    close = bars.decimal(float(bars.close[-1]))
    closed_at = format_ts(int(bars.ts[-1]) + bars.interval * 1_000_000_000)
    table = Table(
        "level",
        "return",
        "price",
        title=f"{meta.instrument_id}: next {format_interval(meta.horizon_seconds)} after the bar "
        f"closed {closed_at} (close {close})",
    )
    for col in table.columns:
        col.justify = "right"
    for level, ret in quantiles.items():
        price = (close * (1 + ret)).quantize(close)
        table.add_row(f"q{level}", f"{ret * 100:+.3f}%", f"{price}")
    _console().print(table)
