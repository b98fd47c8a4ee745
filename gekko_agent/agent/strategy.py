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
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

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
from gekko_agent.errors import ConfigError, InvalidInput

__all__ = [
    "Observe",
    "SteppedStrategy",
    "Strategy",
    "StrategyContext",
    "load_strategy",
    "observe_then_decide",
    "strategy_params_model",
]

Observe = Callable[[InstrumentId, float, float, float, float, float, Decimal], bool]
"""``observe(iid, open, high, low, close, volume, held) -> may act`` (see :class:`SteppedStrategy`)."""

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


@runtime_checkable
class SteppedStrategy(Protocol):
    """A strategy whose ``on_bar`` is two steps a backtest may call apart: ``observe``, then ``decide``.

    ``observe`` folds one closed bar into the indicators, from plain floats equal to
    ``float(bar.open)``, ... ``float(bar.volume)``, and says whether ``decide`` could propose anything
    for that bar while ``held`` is the position. ``decide`` proposes for the bar just observed. The
    contract the engine relies on: ``on_bar(bar, ctx)`` returns what ``observe`` then ``decide`` return,
    and ``decide`` returns nothing for a bar ``observe`` answered False (with ``ctx.position`` equal
    to ``held``). A backtest then runs ``observe`` on numpy rows and builds a :class:`Bar` and a
    context only for the bars it answers True (see :mod:`gekko_agent.runtime.quiet`). Implementing it
    is optional; a plain :class:`Strategy` is simply given every bar.
    """

    name: str
    instruments: tuple[InstrumentId, ...]

    def observe(
        self,
        iid: InstrumentId,
        open_: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        held: Decimal,
    ) -> bool:
        """Fold one closed bar of ``iid`` in; True when :meth:`decide` may propose for it."""
        ...

    def decide(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Intents for ``bar``, which :meth:`observe` has just folded in."""
        ...

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """``observe`` then ``decide``."""
        ...

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """React to a fill of one of this strategy's orders."""
        ...


def observe_then_decide(strategy: SteppedStrategy, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
    """``on_bar`` of a :class:`SteppedStrategy`: fold ``bar`` in, then decide on it."""
    strategy.observe(bar.instrument_id, *bar.floats(), ctx.position(bar.instrument_id))
    return strategy.decide(bar, ctx)


def _exec_user_file(local: Path, name: str) -> ModuleType:
    """Import a user's strategy file; any error in it becomes one line naming the file and line."""
    spec = importlib.util.spec_from_file_location(f"gekko_user_strategy_{name}", local)
    if spec is None or spec.loader is None:
        raise ConfigError(str(local), "", "cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[spec.name]
        raise InvalidInput(f"{local}: line {exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:  # a user's file may raise anything while it imports
        del sys.modules[spec.name]
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == local]
        where = f"line {frames[-1].lineno}: " if frames else ""
        raise InvalidInput(f"{local}: {where}{type(exc).__name__}: {exc}") from None
    return module


def _module(name: str, search: Path | None) -> ModuleType:
    if not _NAME.match(name):
        raise ConfigError("agent.yaml", "strategies.name", f"{name!r} is not a valid strategy name")
    local = (search or Path.cwd() / "strategies") / f"{name}.py"
    if local.is_file():
        return _exec_user_file(local, name)
    try:
        return importlib.import_module(f"gekko_agent.strategies.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"gekko_agent.strategies.{name}":
            raise
        raise ConfigError(
            "agent.yaml", "strategies.name", f"no strategy {name!r} (built-in, or strategies/{name}.py)"
        ) from None


def _parts(name: str, module: ModuleType) -> tuple[type[BaseModel], Callable[..., Strategy]]:
    params_model: type[BaseModel] | None = getattr(module, "Params", None)
    create: Callable[..., Strategy] | None = getattr(module, "create", None)
    if params_model is None or create is None:
        raise ConfigError(f"strategies/{name}.py", "", "a strategy module must define `Params` and `create`")
    return params_model, create


def strategy_params_model(name: str, *, search: Path | None = None) -> type[BaseModel]:
    """The ``Params`` model of strategy ``name`` (to see which parameters it takes).

    Raises:
        ConfigError: unknown strategy, or a module without ``Params`` and ``create``.
        InvalidInput: a user's strategy file that does not import (syntax error, ...).
    """
    return _parts(name, _module(name, search))[0]


def load_strategy(
    name: str, instruments: Sequence[InstrumentId], params: Mapping[str, Any], *, search: Path | None = None
) -> Strategy:
    """Find strategy ``name``, validate ``params`` with its ``Params`` model, and create it.

    Raises:
        ConfigError: unknown strategy, or a parameter that is unknown or of the wrong type.
        InvalidInput: a user's strategy file that does not import, or a strategy that refuses the
            instruments or parameters it was given (``arbitrage`` on one instrument).
    """
    params_model, create = _parts(name, _module(name, search))
    try:
        parsed = params_model.model_validate(dict(params))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError("agent.yaml", f"strategies.{name}.params.{loc}", msg) from None
    try:
        return create(name, tuple(instruments), parsed)
    except ValueError as exc:  # a strategy refuses its instruments or parameters this way
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"strategy {name!r} on {', '.join(instruments)}: {problem}") from None
