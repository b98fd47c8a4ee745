"""Scoring quantile forecasts against what happened, and the naive baselines to score them beside.

All numbers are on forward *log* returns over the model's horizon (numpy only, no torch).

* **pinball**: mean quantile loss over rows and levels (lower is better); reported in basis points.
* **directional accuracy**: share of rows where the sign of the median matches the sign of the
  outcome, over rows with a non-zero outcome; a forecast of exactly zero counts as half a hit (it
  made no call), so a forecaster that never commits scores 0.5.
* **coverage**: for each level ``tau``, the share of outcomes at or below the forecast quantile
  (ideal: ``tau``); for each central band (e.g. 0.05–0.95), the share of outcomes inside it (ideal:
  the band's width).

Baselines:

* ``zero``: every quantile is 0 (no change).
* ``last``: every quantile is the return over the last ``horizon`` bars (momentum, a point forecast).
* ``empirical``: the unconditional quantiles of the training targets, the same for every row; a
  model that cannot beat it has learned nothing about the conditional distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gekko_agent.forecast.features import FeatureFrame, FloatArray

__all__ = [
    "BASELINES",
    "Score",
    "baseline_predictions",
    "directional_accuracy",
    "empirical_quantiles",
    "pinball",
    "score",
    "score_table",
]

BASELINES = ("zero", "last", "empirical")
"""Names of the naive forecasts every evaluation reports beside the model."""

_BPS = 10_000.0


def pinball(pred: FloatArray, y: FloatArray, levels: Sequence[float]) -> float:
    """Mean pinball loss of ``pred`` (``rows × Q``) against ``y`` (``rows``) at ``levels``."""
    tau = np.asarray(levels, dtype=np.float64)
    err = y[:, None] - pred
    return float(np.mean(np.maximum(tau * err, (tau - 1.0) * err)))


def directional_accuracy(median: FloatArray, y: FloatArray) -> float:
    """Share of non-zero outcomes whose sign the median called (a zero call scores half)."""
    moved = y != 0
    if not bool(moved.any()):
        return float("nan")
    hits = np.where(median[moved] == 0, 0.5, (np.sign(median[moved]) == np.sign(y[moved])).astype(float))
    return float(np.mean(hits))


def _bands(levels: Sequence[float]) -> list[tuple[int, int]]:
    """Index pairs of symmetric central bands, outermost first (e.g. (0.05, 0.95), (0.25, 0.75))."""
    pairs = []
    for i, lo in enumerate(levels):
        for j in range(len(levels) - 1, i, -1):
            if abs(lo + levels[j] - 1.0) < 1e-9:
                pairs.append((i, j))
    return pairs


@dataclass(frozen=True, slots=True)
class Score:
    """How one forecaster did on one set of rows.

    Attributes:
        name: ``model`` or a baseline name.
        pinball_bps: mean pinball loss, basis points of log return.
        directional: directional accuracy of the median.
        mae_bps: mean absolute error of the median, basis points.
        coverage: level → share of outcomes at or below that quantile.
        bands: ``"lo-hi"`` → share of outcomes inside that central band.
        rows: number of rows scored.
    """

    name: str
    pinball_bps: float
    directional: float
    mae_bps: float
    coverage: dict[str, float]
    bands: dict[str, float]
    rows: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "pinball_bps": self.pinball_bps,
            "directional": self.directional,
            "mae_bps": self.mae_bps,
            "coverage": dict(self.coverage),
            "bands": dict(self.bands),
            "rows": self.rows,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Score:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=str(data["name"]),
            pinball_bps=float(data["pinball_bps"]),
            directional=float(data["directional"]),
            mae_bps=float(data["mae_bps"]),
            coverage={str(k): float(v) for k, v in data["coverage"].items()},
            bands={str(k): float(v) for k, v in data["bands"].items()},
            rows=int(data["rows"]),
        )


def score(name: str, pred: FloatArray, y: FloatArray, levels: Sequence[float]) -> Score:
    """Score quantile forecasts ``pred`` (``rows × Q``, ascending levels) against outcomes ``y``."""
    levels = list(levels)
    mid = int(np.argmin([abs(q - 0.5) for q in levels]))
    coverage = {f"{q:g}": float(np.mean(y <= pred[:, i])) for i, q in enumerate(levels)}
    bands = {
        f"{levels[i]:g}-{levels[j]:g}": float(np.mean((y >= pred[:, i]) & (y <= pred[:, j])))
        for i, j in _bands(levels)
    }
    return Score(
        name=name,
        pinball_bps=pinball(pred, y, levels) * _BPS,
        directional=directional_accuracy(pred[:, mid], y),
        mae_bps=float(np.mean(np.abs(y - pred[:, mid]))) * _BPS,
        coverage=coverage,
        bands=bands,
        rows=len(y),
    )


def empirical_quantiles(train_y: FloatArray, levels: Sequence[float]) -> FloatArray:
    """Unconditional quantiles of the training targets at ``levels`` (the ``empirical`` baseline)."""
    return np.asarray(np.quantile(train_y, np.asarray(levels, dtype=np.float64)), dtype=np.float64)


def baseline_predictions(
    frame: FeatureFrame, empirical: FloatArray, levels: Sequence[float]
) -> dict[str, FloatArray]:
    """The naive forecasts for the rows of ``frame``, each ``rows × Q``.

    Args:
        frame: the rows to forecast (their ``last`` column feeds the ``last`` baseline).
        empirical: unconditional training quantiles (see :func:`empirical_quantiles`).
        levels: probability levels.
    """
    q = len(levels)
    rows = len(frame)
    return {
        "zero": np.zeros((rows, q)),
        "last": np.repeat(frame.last[:, None], q, axis=1),
        "empirical": np.tile(empirical, (rows, 1)),
    }


def score_table(
    model_pred: FloatArray, frame: FeatureFrame, empirical: FloatArray, levels: Sequence[float]
) -> list[Score]:
    """The model's score followed by every baseline's, on the same rows."""
    scores = [score("model", model_pred, frame.y, levels)]
    for name, pred in baseline_predictions(frame, empirical, levels).items():
        scores.append(score(name, pred, frame.y, levels))
    return scores
