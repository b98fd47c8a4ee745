"""Forecast benchmark: training time per epoch and inference latency per batch, CPU (and CUDA if present).

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--epochs 10] [--repeat 200]``

Prints (figures, not a timed test):

* feature building over the whole bundled BTC/USD dataset (5-minute bars);
* training seconds per epoch of the default model (early stopping off, fixed epoch count), per device
  and CPU thread count;
* inference latency per batch of 1, 64 and 1024 rows (median of ``--repeat`` runs) per device;
* end-to-end :meth:`Forecaster.quantiles` latency on a bars window (features + model + Decimal).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from gekko_agent.forecast import (
    FEATURE_NAMES,
    Forecaster,
    ModelRegistry,
    ModelSpec,
    QuantileMLP,
    TrainConfig,
    build_features,
    train,
)
from gekko_agent.market import BarArray, load_bars, resample

DATASET = "binanceus-btcusd-1m"
BATCHES = (1, 64, 1024)


def _devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    return found


def _median_ms(call: Callable[[], object], repeat: int, sync: bool) -> float:
    for _ in range(10):
        call()
    if sync:
        torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        if sync:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_features(bars: BarArray) -> None:
    start = time.perf_counter()
    x = build_features(bars)
    ms = (time.perf_counter() - start) * 1000
    print(f"features: {len(bars):,} bars x {x.shape[1]} features in {ms:.1f} ms")


def bench_training(bars: BarArray, epochs: int) -> None:
    print(f"\ntraining (default model, {epochs} epochs, early stopping off)")
    print(f"{'device':8} {'threads':>7} {'rows':>6} {'s/epoch':>9} {'total s':>8}")
    base = TrainConfig(epochs=epochs, patience=epochs + 1)
    runs = [("cpu", 1), ("cpu", 2)] + [("cuda", 1)] * ("cuda" in _devices())
    for device, threads in runs:
        result = train(bars, replace(base, device=device, threads=threads))
        rows = len(result.split.train)
        per = result.seconds / len(result.history)
        print(f"{device:8} {threads:>7} {rows:>6} {per:>9.4f} {result.seconds:>8.2f}")


def bench_inference(repeat: int) -> None:
    print(f"\ninference latency per batch (median of {repeat}, ms)")
    print(f"{'device':8} {'threads':>7} " + " ".join(f"{'batch ' + str(b):>11}" for b in BATCHES))
    torch.manual_seed(0)
    model = QuantileMLP(ModelSpec(len(FEATURE_NAMES))).eval()
    default_threads = torch.get_num_threads()
    runs = [("cpu", 1), ("cpu", default_threads)] + [("cuda", default_threads)] * ("cuda" in _devices())
    for device, threads in runs:
        torch.set_num_threads(threads)
        net = model.to(device)
        cells = []
        for batch in BATCHES:
            x = torch.randn(batch, len(FEATURE_NAMES), device=device)

            def run(net: QuantileMLP = net, x: torch.Tensor = x) -> None:
                with torch.inference_mode():
                    net(x)

            cells.append(f"{_median_ms(run, repeat, device == 'cuda'):>11.4f}")
        print(f"{device:8} {threads:>7} " + " ".join(cells))
    torch.set_num_threads(default_threads)
    model.to("cpu")


def bench_forecaster(bars: BarArray, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        result = train(bars, TrainConfig(epochs=2, device="cpu"))
        ModelRegistry(root).save(
            "bench", result, dataset=DATASET, instrument_id=bars.instrument_id, interval=300
        )
        fc = Forecaster.from_registry("bench", root=root)
    window = bars[len(bars) - fc.min_bars :]
    ms = _median_ms(lambda: fc.quantiles(window), repeat, False)
    print(f"\nForecaster.quantiles on a {len(window)}-bar window (CPU, end to end): {ms:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    bars = resample(load_bars(DATASET), "5m")
    print(
        f"torch {torch.__version__}; CPU threads available: {torch.get_num_threads()}; devices: {_devices()}"
    )
    print(f"data: {DATASET} resampled to 5m: {len(bars):,} bars")
    bench_features(bars)
    bench_training(bars, args.epochs)
    bench_inference(args.repeat)
    bench_forecaster(bars, args.repeat)


if __name__ == "__main__":
    main()
