"""Train a :class:`~gekko_agent.forecast.model.QuantileMLP` on one instrument's bars.

The rows are split by time, never shuffled across a boundary: the oldest ``train`` share trains, the
next ``val`` share drives early stopping, the newest share is the held-out test set scored once at the
end. Between two segments ``horizon`` rows are dropped (a purge gap), because a row's target overlaps
the next ``horizon`` rows' targets and would otherwise leak the validation period into training.
Shuffling happens only inside the training segment, from a generator seeded by ``seed``; with the
same seed, data and thread count a CPU run gives the same weights bit for bit.

Features are standardized with the training segment's mean and standard deviation, targets divided by
the training targets' standard deviation; both are stored with the weights so inference repeats them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from gekko_agent.errors import InvalidInput
from gekko_agent.forecast.features import FEATURE_NAMES, FeatureFrame, FloatArray, make_frame
from gekko_agent.forecast.metrics import Score, empirical_quantiles, score_table
from gekko_agent.forecast.model import (
    DEFAULT_QUANTILES,
    ModelSpec,
    QuantileMLP,
    as_levels,
    pinball_loss,
    predict_batches,
    seed_everything,
    select_device,
)
from gekko_agent.market import BarArray

__all__ = ["EpochFn", "Split", "TrainConfig", "TrainResult", "split_frame", "standardize", "train"]

EpochFn = Callable[[int, int, float, float], None]
"""Called after each epoch with ``(epoch, max_epochs, train_loss, val_loss)``."""


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How to train.

    Attributes:
        horizon: bars ahead the target return looks.
        quantiles: probability levels to predict.
        epochs: most epochs to run (early stopping usually ends sooner).
        patience: epochs without a better validation loss before stopping.
        batch_size: rows per optimizer step.
        lr: Adam learning rate.
        weight_decay: Adam (decoupled) weight decay.
        hidden: units per hidden layer.
        layers: hidden layers.
        dropout: dropout probability.
        seed: seeds Python, numpy and torch, and the in-training shuffle.
        train_share: share of rows (oldest) that train.
        val_share: share of rows after those that validate; the rest is the test set.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        threads: CPU threads torch may use while training (restored afterwards); this model is so
            small that one thread is fastest, and a fixed count keeps CPU runs repeatable.
    """

    horizon: int = 12
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    epochs: int = 60
    patience: int = 8
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1
    seed: int = 7
    train_share: float = 0.7
    val_share: float = 0.15
    device: str = "auto"
    threads: int = 1

    def __post_init__(self) -> None:
        if min(self.epochs, self.patience, self.batch_size, self.horizon, self.threads) < 1:
            raise InvalidInput("epochs, patience, batch size, horizon and threads must all be at least 1")
        if not (
            0 < self.train_share < 1 and 0 < self.val_share < 1 and self.train_share + self.val_share < 1
        ):
            raise InvalidInput("train and validation shares must be positive and leave rows for the test set")


@dataclass(frozen=True, slots=True)
class Split:
    """A time-ordered train / validation / test split of a :class:`FeatureFrame`."""

    train: FeatureFrame
    val: FeatureFrame
    test: FeatureFrame


def split_frame(frame: FeatureFrame, train_share: float, val_share: float) -> Split:
    """Cut ``frame`` by time into train, validation and test, with a ``horizon``-row purge gap between.

    Raises:
        InvalidInput: a segment would be empty.
    """
    n, gap = len(frame), frame.horizon
    a = int(n * train_share)
    b = int(n * (train_share + val_share))
    parts = (frame.take(0, a - gap), frame.take(a, b - gap), frame.take(b, n))
    if min(len(p) for p in parts) < 2:
        raise InvalidInput(f"{n} rows are too few to split into train, validation and test")
    return Split(*parts)


def standardize(x: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    """``(x - mean) / std`` with zero-variance columns left centred."""
    return (x - mean) / np.where(std > 0, std, 1.0)


@dataclass(slots=True)
class TrainResult:
    """A trained model and everything needed to store, reuse and judge it.

    Attributes:
        model: the network (on CPU, eval mode) with the best validation weights.
        spec: its shape.
        config: the training settings.
        feature_mean: per-feature training mean.
        feature_std: per-feature training standard deviation.
        target_scale: standard deviation of the training targets (outputs are multiplied by it).
        split: the frames used.
        scores: test-set scores, model first, then the baselines.
        empirical: unconditional quantiles of the training targets (the ``empirical`` baseline).
        history: ``(train_loss, val_loss)`` per epoch, in scaled units.
        best_epoch: 1-based epoch whose weights were kept.
        device: device trained on.
        seconds: wall time of the training loop.
    """

    model: QuantileMLP
    spec: ModelSpec
    config: TrainConfig
    feature_mean: FloatArray
    feature_std: FloatArray
    target_scale: float
    split: Split
    scores: list[Score]
    empirical: FloatArray = field(default_factory=lambda: np.zeros(0))
    history: list[tuple[float, float]] = field(default_factory=list)
    best_epoch: int = 0
    device: str = "cpu"
    seconds: float = 0.0

    def predict(self, x: FloatArray) -> FloatArray:
        """Quantiles of the forward log return for unscaled feature rows ``x``."""
        z = standardize(x, self.feature_mean, self.feature_std)
        return predict_batches(self.model, z, torch.device("cpu")) * self.target_scale


def _epoch(
    model: QuantileMLP,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    levels: torch.Tensor,
    order: np.ndarray[tuple[int], np.dtype[np.int64]],
    batch: int,
) -> float:
    model.train()
    total = 0.0
    for start in range(0, len(order), batch):
        idx = torch.as_tensor(order[start : start + batch], device=x.device)
        opt.zero_grad(set_to_none=True)
        loss = pinball_loss(model(x[idx]), y[idx], levels)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(order)


def _val_loss(model: QuantileMLP, x: torch.Tensor, y: torch.Tensor, levels: torch.Tensor) -> float:
    model.eval()
    with torch.inference_mode():
        return float(pinball_loss(model(x), y, levels))


def train(bars: BarArray, config: TrainConfig | None = None, on_epoch: EpochFn | None = None) -> TrainResult:
    """Build features from ``bars``, train with early stopping, and score on the held-out test rows.

    Args:
        bars: one instrument's bars at the interval the model will be used at.
        config: training settings (defaults: :class:`TrainConfig`).
        on_epoch: progress callback.

    Raises:
        InvalidInput: bad settings, an unavailable device, or too little data.
    """
    cfg = config or TrainConfig()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(bars, cfg, on_epoch)
    finally:
        torch.set_num_threads(threads)


def _train(bars: BarArray, cfg: TrainConfig, on_epoch: EpochFn | None) -> TrainResult:
    device = select_device(cfg.device)
    seed_everything(cfg.seed)
    split = split_frame(make_frame(bars, cfg.horizon), cfg.train_share, cfg.val_share)
    mean, std = split.train.x.mean(axis=0), split.train.x.std(axis=0)
    scale = float(np.std(split.train.y)) or 1.0

    def tensors(f: FeatureFrame) -> tuple[torch.Tensor, torch.Tensor]:
        xs = torch.as_tensor(standardize(f.x, mean, std), dtype=torch.float32, device=device)
        return xs, torch.as_tensor(f.y / scale, dtype=torch.float32, device=device)

    (xt, yt), (xv, yv) = tensors(split.train), tensors(split.val)
    spec = ModelSpec(len(FEATURE_NAMES), cfg.quantiles, cfg.hidden, cfg.layers, cfg.dropout)
    model = QuantileMLP(spec).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    levels = as_levels(cfg.quantiles, device)
    rng = np.random.default_rng(cfg.seed)
    best, best_epoch, best_state = float("inf"), 0, copy.deepcopy(model.state_dict())
    history: list[tuple[float, float]] = []
    started = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        order = rng.permutation(len(yt)).astype(np.int64)
        tr = _epoch(model, opt, xt, yt, levels, order, cfg.batch_size)
        va = _val_loss(model, xv, yv, levels)
        history.append((tr, va))
        if on_epoch is not None:
            on_epoch(epoch, cfg.epochs, tr, va)
        if va < best - 1e-7:
            best, best_epoch, best_state = va, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= cfg.patience:
            break
    seconds = time.perf_counter() - started
    model.load_state_dict(best_state)
    model = model.to("cpu").eval()
    result = TrainResult(
        model=model,
        spec=spec,
        config=cfg,
        feature_mean=mean,
        feature_std=std,
        target_scale=scale,
        split=split,
        scores=[],
        empirical=empirical_quantiles(split.train.y, cfg.quantiles),
        history=history,
        best_epoch=best_epoch,
        device=device.type,
        seconds=seconds,
    )
    result.scores = score_table(result.predict(split.test.x), split.test, result.empirical, cfg.quantiles)
    return result
