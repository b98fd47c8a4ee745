"""What one set of limits implies before any snapshot is seen: the engine builds it once per limits.

A :class:`LimitPlan` holds the stress legs (scenario, direction, name), the static part of each leg's
price shock per instrument (everything but sigma shocks, which need the snapshot's return history), and
the normal-distribution constants of the VaR confidence. Every snapshot's
:class:`~gekko_agent.risk.view.PortfolioView` reads them instead of deriving them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gekko_agent.domain import ZERO, AssetClass, InstrumentId
from gekko_agent.risk.limits import RiskLimits, StressScenario
from gekko_agent.risk.var_cache import normal_constants

__all__ = ["LegPlan", "LimitPlan", "StressLeg"]


@dataclass(frozen=True, slots=True)
class StressLeg:
    """One stress leg (a scenario, or one direction of its sigma shocks) and the portfolio's loss in it."""

    name: str
    scenario: StressScenario
    direction: int
    loss: Decimal


@dataclass(frozen=True, slots=True)
class LegPlan:
    """One stress leg before valuation: its scenario, direction (±1 for sigma shocks) and name.

    Attributes:
        scenario: the scenario.
        direction: +1, or -1 for the downward leg of a scenario with sigma shocks.
        name: the scenario's name, with `` (+)`` / `` (-)`` for sigma legs.
        zero: the leg with a loss of exactly ``ZERO`` (shared by every snapshot with nothing at risk).
    """

    scenario: StressScenario
    direction: int
    name: str
    zero: StressLeg


class LimitPlan:
    """Per-limits constants (see the module docstring); the static shocks are filled on first use.

    Args:
        limits: the limits in force.
    """

    __slots__ = ("_static", "es_factor", "legs", "limits", "z")

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self.z, _, self.es_factor = normal_constants(float(limits.var_confidence))
        legs: list[LegPlan] = []
        for sc in limits.scenarios:
            for direction in (1, -1) if sc.sigma_shocks else (1,):
                suffix = "" if not sc.sigma_shocks else (" (+)" if direction > 0 else " (-)")
                name = sc.name + suffix
                legs.append(LegPlan(sc, direction, name, StressLeg(name, sc, direction, ZERO)))
        self.legs: tuple[LegPlan, ...] = tuple(legs)
        self._static: dict[tuple[InstrumentId, AssetClass], tuple[Decimal | None, ...]] = {}

    def static_shocks(self, iid: InstrumentId, cls: AssetClass) -> tuple[Decimal | None, ...]:
        """Per leg, the price shock of a known instrument ``iid`` of asset class ``cls`` when it does not
        depend on the snapshot; None where it is a sigma shock (see ``PortfolioView.price_shock``)."""
        key = (iid, cls)
        shocks = self._static.get(key)
        if shocks is None:
            shocks = self._static[key] = tuple(_static_shock(leg.scenario, iid, cls) for leg in self.legs)
        return shocks


def _static_shock(sc: StressScenario, iid: InstrumentId, cls: AssetClass) -> Decimal | None:
    if iid in sc.instrument_shocks:
        return sc.instrument_shocks[iid]
    if cls.value in sc.asset_class_shocks:
        return sc.asset_class_shocks[cls.value]
    if cls.value in sc.sigma_shocks:
        return None
    return ZERO
