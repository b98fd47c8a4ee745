"""The runtime face of a trained model: bars in, return quantiles out.

:class:`Forecaster` wraps a registered model and its metadata. Strategies, the agent's tools and the
risk snapshot builder call :meth:`Forecaster.quantiles` with a recent window of bars and get
``{Decimal("0.05"): Decimal("-0.0061"), ...}``: *simple* returns over the model's horizon, ready for
:class:`gekko_agent.risk.snapshot.ForecastQuantiles` (build it with :attr:`Forecaster.horizon_seconds`).

Bars at a shorter interval than the model's are resampled first (UTC-aligned); callers that feed
1-minute bars to a 5-minute model should ask only when a 5-minute bar has just closed, otherwise the
last bucket is partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import torch

from gekko_agent.errors import InvalidInput
from gekko_agent.forecast.features import WARMUP, FloatArray, build_features, make_frame
from gekko_agent.forecast.metrics import Score, score_table
from gekko_agent.forecast.model import QuantileMLP, predict_batches
from gekko_agent.forecast.registry import DEFAULT_MODEL, DEFAULT_REGISTRY, ModelMeta, ModelRegistry
from gekko_agent.forecast.training import standardize
from gekko_agent.market import BarArray, format_interval, resample

__all__ = ["Forecaster"]

_CPU = torch.device("cpu")


@dataclass(frozen=True, slots=True, eq=False)
class Forecaster:
    """A trained quantile model ready for inference (CPU).

    Attributes:
        model: the network, in eval mode.
        meta: its registry metadata (scaling, horizon, levels, metrics).
    """

    model: QuantileMLP
    meta: ModelMeta

    @classmethod
    def from_registry(
        cls, name: str = DEFAULT_MODEL, version: int | None = None, root: Path | str = DEFAULT_REGISTRY
    ) -> Forecaster:
        """Load ``name`` at ``version`` (default: latest) from the registry at ``root``.

        Raises:
            DataNotFound: no such model or version (the message says how to train one).
        """
        model, meta = ModelRegistry(root).load(name, version)
        return cls(model, meta)

    @property
    def levels(self) -> tuple[float, ...]:
        """Probability levels of the outputs, ascending."""
        return self.meta.quantiles

    @property
    def horizon_seconds(self) -> int:
        """How far ahead the forecast looks."""
        return self.meta.horizon_seconds

    @property
    def min_bars(self) -> int:
        """Bars (at the model's interval) a window needs for one forecast."""
        return WARMUP + 1

    def align(self, bars: BarArray) -> BarArray:
        """``bars`` at the model's interval (resampled when they are shorter).

        Raises:
            InvalidInput: the bars are longer than, or do not divide, the model's interval.
        """
        if bars.interval == self.meta.interval:
            return bars
        if bars.interval > self.meta.interval or self.meta.interval % bars.interval:
            raise InvalidInput(
                f"model {self.meta.name!r} wants {format_interval(self.meta.interval)} bars; "
                f"{format_interval(bars.interval)} bars cannot be turned into them"
            )
        return resample(bars, self.meta.interval)

    def _predict(self, x: FloatArray) -> FloatArray:
        mean = np.asarray(self.meta.feature_mean, dtype=np.float64)
        std = np.asarray(self.meta.feature_std, dtype=np.float64)
        return predict_batches(self.model, standardize(x, mean, std), _CPU) * self.meta.target_scale

    def predict_log(self, bars: BarArray) -> tuple[np.ndarray[tuple[int], np.dtype[np.int64]], FloatArray]:
        """Log-return quantiles at every bar that has a full lookback.

        Returns:
            ``(ts, quantiles)``: open times of those bars and a ``rows × Q`` matrix.
        """
        aligned = self.align(bars)
        x = build_features(aligned)
        ok = np.all(np.isfinite(x), axis=1)
        return aligned.ts[ok], self._predict(x[ok]) if bool(ok.any()) else np.empty((0, len(self.levels)))

    def quantiles(self, bars_window: BarArray) -> dict[Decimal, Decimal]:
        """Forecast simple-return quantiles over the horizon after the window's last bar.

        Args:
            bars_window: the most recent bars, oldest first; at least :attr:`min_bars` at the model's
                interval (more is fine, only the tail is used).

        Returns:
            probability level → simple return, e.g. ``{Decimal("0.05"): Decimal("-0.00612345"), ...}``.

        Raises:
            InvalidInput: too few bars, or bars at an interval the model cannot use.
        """
        aligned = self.align(bars_window)
        if len(aligned) < self.min_bars:
            raise InvalidInput(
                f"model {self.meta.name!r} needs {self.min_bars} bars of "
                f"{format_interval(self.meta.interval)}, got {len(aligned)}"
            )
        tail = aligned[len(aligned) - self.min_bars :]
        row = self._predict(build_features(tail)[-1:])[0]
        simple = np.expm1(row)
        return {Decimal(f"{q:g}"): Decimal(f"{r:.8f}") for q, r in zip(self.levels, simple, strict=True)}

    def evaluate(
        self, bars: BarArray, first_ns: int | None = None, last_ns: int | None = None
    ) -> list[Score]:
        """Score the model and the naive baselines on the rows of ``bars`` that have a target.

        Rows are computed from all of ``bars`` (so earlier bars serve as lookback and later ones as
        targets) and then kept only when their time is within ``[first_ns, last_ns]``. The ``empirical``
        baseline uses the training quantiles stored with the model, so evaluating the stored test range
        reproduces the numbers recorded at training time.

        Raises:
            InvalidInput: too few bars, or no row in the range.
        """
        frame = make_frame(self.align(bars), self.meta.horizon)
        lo = 0 if first_ns is None else int(np.searchsorted(frame.ts, first_ns, side="left"))
        hi = len(frame) if last_ns is None else int(np.searchsorted(frame.ts, last_ns, side="right"))
        if hi - lo < 1:
            raise InvalidInput("no bar in the requested range has both a full lookback and a target")
        frame = frame.take(lo, hi)
        empirical = np.asarray(self.meta.empirical_quantiles, dtype=np.float64)
        return score_table(self._predict(frame.x), frame, empirical, self.levels)
