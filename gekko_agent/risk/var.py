"""Value at risk and expected shortfall: historical and parametric, plus an incremental return window.

Definitions (losses are positive, in the account currency, for a horizon ``h`` and return interval ``Δ``;
both methods scale by ``sqrt(h / Δ)``):

* **historical**: with portfolio P&L ``p_t = Σ_f w_f r_{t,f}`` over the T rows and ``k = ceil(T(1-α))``,
  VaR is the k-th largest loss ``-p_t`` and ES is the mean of the k largest losses;
* **parametric** (zero-mean normal): ``σ = sqrt(wᵀΣw)``, VaR ``= z_α σ``, ES ``= σ φ(z_α)/(1-α)``.

Numbers are float64 inside; :func:`to_money_up` turns a result into a Decimal rounded *up* to the cent so
a comparison with a limit never errs on the permissive side.

:class:`RollingReturns` keeps running sums of the returns and their cross products over a fixed
window, so appending a row costs O(N²) and the window's covariance is ready without a pass over it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from statistics import NormalDist

import numpy as np

from gekko_agent.errors import InvalidInput
from gekko_agent.risk.snapshot import FloatArray, ReturnWindow

__all__ = [
    "RollingReturns",
    "VarResult",
    "historical_var_es",
    "horizon_scale",
    "parametric_var_es",
    "tail_count",
    "to_money_up",
]

_CENT = Decimal("0.01")
_NORMAL = NormalDist()


def tail_count(observations: int, confidence: float) -> int:
    """``k = ceil(T (1 - α))``, at least 1: how many worst outcomes form the tail."""
    return max(1, math.ceil(observations * (1.0 - confidence) - 1e-9))


def horizon_scale(horizon_seconds: int, interval_seconds: int) -> float:
    """``sqrt(h / Δ)``."""
    return math.sqrt(horizon_seconds / interval_seconds)


def historical_var_es(
    pnl: FloatArray, confidence: float, scale: float = 1.0, k: int | None = None
) -> tuple[float, float]:
    """Historical VaR and ES of a P&L vector (see the module docstring), scaled by ``scale``.

    ``k`` overrides the tail size (when ``pnl`` holds only the candidate rows of a longer history).
    """
    t = pnl.shape[0]
    k = tail_count(t, confidence) if k is None else k
    losses = np.partition(-pnl, t - k)
    tail = losses[t - k :]
    return float(tail.min()) * scale, float(tail.mean()) * scale


def parametric_var_es(variance: float, confidence: float, scale: float = 1.0) -> tuple[float, float]:
    """Zero-mean normal VaR and ES for a P&L variance, scaled by ``scale``."""
    sigma = math.sqrt(max(variance, 0.0))
    z = _NORMAL.inv_cdf(confidence)
    return z * sigma * scale, sigma * _NORMAL.pdf(z) / (1.0 - confidence) * scale


def to_money_up(value: float) -> Decimal:
    """A float amount as a Decimal rounded up to the cent (conservative for losses)."""
    if not math.isfinite(value):
        raise InvalidInput(f"risk figure {value!r} is not finite")
    return Decimal(value).quantize(_CENT, rounding=ROUND_CEILING)


class VarResult:
    """VaR and ES of one portfolio, per method, in the account currency (Decimal, rounded up).

    Attributes:
        historical: (VaR, ES) by the historical method, or None when not computed.
        parametric: (VaR, ES) by the parametric method, or None when not computed.
    """

    __slots__ = ("historical", "parametric")

    def __init__(
        self, historical: tuple[Decimal, Decimal] | None, parametric: tuple[Decimal, Decimal] | None
    ):
        self.historical = historical
        self.parametric = parametric

    @property
    def var(self) -> Decimal:
        """The larger VaR of the methods computed."""
        return max(x[0] for x in (self.historical, self.parametric) if x is not None)

    @property
    def es(self) -> Decimal:
        """The larger ES of the methods computed."""
        return max(x[1] for x in (self.historical, self.parametric) if x is not None)


class RollingReturns:
    """A fixed-capacity window of factor returns with running moments (mutable; owned by the caller).

    Args:
        factors: factor names (instrument ids or currency codes).
        capacity: most rows kept (the VaR lookback).
        interval_seconds: sampling interval of the rows.
    """

    def __init__(self, factors: Sequence[str], capacity: int, interval_seconds: int) -> None:
        if capacity < 2:
            raise InvalidInput("a return window needs a capacity of at least 2")
        self.factors = tuple(factors)
        self.capacity = capacity
        self.interval_seconds = interval_seconds
        n = len(self.factors)
        # rows live contiguously in buf[lo:hi]; when hi reaches the end the window is moved to the front
        self._buf = np.zeros((2 * capacity, n))
        self._lo = 0
        self._hi = 0
        self._sum = np.zeros(n)
        self._cross = np.zeros((n, n))
        self._version = 0
        self._pushes = 0
        self._cached: ReturnWindow | None = None

    def __len__(self) -> int:
        return self._hi - self._lo

    def push(self, row: Sequence[float] | FloatArray) -> None:
        """Append one row of returns (one per factor), dropping the oldest beyond capacity. O(N²)."""
        r = np.asarray(row, dtype=np.float64).reshape(-1)
        if r.shape[0] != len(self.factors) or not np.all(np.isfinite(r)):
            raise InvalidInput(f"a return row needs {len(self.factors)} finite values")
        if self._hi == self._buf.shape[0]:
            kept = self._hi - self._lo
            self._buf[:kept] = self._buf[self._lo : self._hi]
            self._lo, self._hi = 0, kept
        self._buf[self._hi] = r
        self._hi += 1
        self._sum += r
        self._cross += np.outer(r, r)
        if self._hi - self._lo > self.capacity:
            old = self._buf[self._lo]
            self._lo += 1
            self._sum -= old
            self._cross -= np.outer(old, old)
        self._version += 1
        self._pushes += 1
        self._cached = None
        if self._pushes % 4096 == 0:  # refresh the running sums to stop float drift
            arr = self._buf[self._lo : self._hi]
            self._sum = arr.sum(axis=0)
            self._cross = arr.T @ arr

    def covariance(self) -> FloatArray:
        """Sample covariance (ddof=1) of the window from the running sums. O(N²)."""
        t = len(self)
        n = len(self.factors)
        if t < 2:
            return np.zeros((n, n))
        mean = self._sum / t
        cov: FloatArray = (self._cross - t * np.outer(mean, mean)) / (t - 1)
        return cov

    def window(self) -> ReturnWindow:
        """A read-only :class:`ReturnWindow` of the current rows (one contiguous copy, cached per version)."""
        if self._cached is None:
            arr = self._buf[self._lo : self._hi].copy()
            arr.setflags(write=False)
            cov = self.covariance()
            cov.setflags(write=False)
            self._cached = ReturnWindow(self.factors, arr, self.interval_seconds, cov, self._version)
        return self._cached
