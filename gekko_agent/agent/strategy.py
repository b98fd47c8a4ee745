"""The Strategy protocol the rules brain runs, and how strategies are found by name.

A strategy is a module in ``strategies/`` (shipped, or dropped by a user into ``./strategies/``
of the working directory) that defines ``Params`` (a pydantic model; unknown keys are rejected)
and ``create(name, instruments, params) -> Strategy``. Strategies see bars and fills and return
:class:`~gekko_agent.domain.OrderIntent` values with a rationale and a confidence; they never
touch a venue or the risk engine.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from gekko_agent.domain import (
    Bar,
    Fill,
    InstrumentId,
    OrderIntent,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    new_id,
)
from gekko_agent.errors import ConfigError

__all__ = ["Strategy", "StrategyContext", "load_strategy"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """What a strategy may know when it decides (read-only).

    Attributes:
        now: the engine clock's time.
        positions: signed base quantity per instrument.
        cash: balances per currency.
    """

    now: datetime
    positions: Mapping[InstrumentId, Decimal]
    cash: Mapping[str, Decimal]

    def position(self, iid: InstrumentId) -> Decimal:
        """Signed position in ``iid`` (0 when none)."""
        return self.positions.get(iid, Decimal(0))

    def intent(
        self,
        strategy: str,
        iid: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
        rationale: str,
        confidence: Decimal,
        *,
        limit_price: Decimal | None = None,
    ) -> OrderIntent:
        """Build an intent stamped with the strategy's name and the current time."""
        return OrderIntent(
            intent_id=new_id("in"),
            instrument_id=iid,
            side=side,
            quantity=Quantity(quantity),
            order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
            limit_price=Price(limit_price) if limit_price is not None else None,
            strategy=strategy,
            rationale=rationale,
            confidence=confidence,
            created_at=self.now,
        )


class Strategy(Protocol):
    """A rules strategy: bars and fills in, intents out."""

    name: str
    instruments: tuple[InstrumentId, ...]

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """React to a closed bar of one of ``instruments``."""
        ...

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """React to a fill of one of this strategy's orders."""
        ...


def _module(name: str, search: Path | None) -> ModuleType:
    if not _NAME.match(name):
        raise ConfigError("agent.yaml", "strategies.name", f"{name!r} is not a valid strategy name")
    local = (search or Path.cwd() / "strategies") / f"{name}.py"
    if local.is_file():
        spec = importlib.util.spec_from_file_location(f"gekko_user_strategy_{name}", local)
        if spec is None or spec.loader is None:
            raise ConfigError(str(local), "", "cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(f"gekko_agent.strategies.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"gekko_agent.strategies.{name}":
            raise
        raise ConfigError(
            "agent.yaml", "strategies.name", f"no strategy {name!r} (built-in, or strategies/{name}.py)"
        ) from None


def load_strategy(
    name: str, instruments: Sequence[InstrumentId], params: Mapping[str, Any], *, search: Path | None = None
) -> Strategy:
    """Find strategy ``name``, validate ``params`` with its ``Params`` model, and create it.

    Raises:
        ConfigError: unknown strategy, or a parameter that is unknown or of the wrong type.
    """
    module = _module(name, search)
    params_model: type[BaseModel] | None = getattr(module, "Params", None)
    create: Callable[..., Strategy] | None = getattr(module, "create", None)
    if params_model is None or create is None:
        raise ConfigError(f"strategies/{name}.py", "", "a strategy module must define `Params` and `create`")
    try:
        parsed = params_model.model_validate(dict(params))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError("agent.yaml", f"strategies.{name}.params.{loc}", msg) from None
    return create(name, tuple(instruments), parsed)
