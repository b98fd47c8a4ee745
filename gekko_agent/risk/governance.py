"""Governed limit changes and the human capability.

Who can do what:

* **anyone** (the agent included) may :meth:`LimitGovernor.propose` a change; it only waits in the queue;
* a **human** (a :class:`HumanActor`) may :meth:`~LimitGovernor.change` a limit: tightening applies at
  once, loosening (raising a limit, disabling a check, widening a list) waits for approval;
* a change applies once enough distinct humans :meth:`~LimitGovernor.approve` it: one, or two for a
  loosening when ``governance.two_approvers_to_loosen`` is on (the human who asked counts as one).

A :class:`HumanActor` can only be minted by an :class:`ActorAuthority`, which the composition root builds
for the human channels (CLI, TUI, chat-ops) and never passes to the agent or its tools. Every method
that lifts a halt or loosens a limit takes a ``HumanActor``, so code without the authority cannot call
it. (Python cannot make this unforgeable; ``tests/risk/test_state_governance.py`` checks that no
agent-facing package imports the authority.)

Which way is looser: for most numeric limits a higher value is looser; for the keys in
``_HIGHER_IS_TIGHTER`` a *lower* value is looser (a shorter rate window counts fewer orders, a shorter
VaR horizon gives a smaller VaR); a change of ``_ANY_CHANGE_LOOSENS`` keys can loosen either way; any
shape the rules do not cover (lists, strings, enums) counts as loosening.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from gekko_agent.domain import LimitChanged
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.limits import RiskLimits

__all__ = ["ActorAuthority", "HumanActor", "LimitGovernor", "LimitProposal", "ProposalStatus", "is_loosening"]

_CAPABILITY = object()
# numeric limits where a *higher* value is *stricter* (everywhere else higher is looser)
_HIGHER_IS_TIGHTER = frozenset(
    {
        "var.confidence",  # a deeper tail quantile: larger VaR/ES
        "var.min_observations",  # more history required before new exposure
        "var.horizon_seconds",  # VaR and sigma shocks scale with sqrt(horizon)
        "rate.submit_window_seconds",  # a longer window counts more submits against the same maximum
        "rate.cancel_window_seconds",
        "cash.fee_rate",
        "cash.margin_buffer",
        "price_band.market_slippage",
    }
)
# limits whose change in either direction can loosen: fewer returns drop old crises from the tail, more
# returns dilute a recent one (``var.lookback``)
_ANY_CHANGE_LOOSENS = frozenset({"var.lookback"})


@dataclass(frozen=True, slots=True)
class HumanActor:
    """A person acting through a human channel. Only :class:`ActorAuthority` can create one.

    Attributes:
        name: the operator's user name.
        channel: ``cli``, ``tui``, ``slack``, ``telegram``…
    """

    name: str
    channel: str
    _capability: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._capability is not _CAPABILITY:
            raise InvalidInput("a HumanActor can only be minted by the ops layer's ActorAuthority")

    def __str__(self) -> str:
        return f"{self.name}@{self.channel}"


class ActorAuthority:
    """Mints :class:`HumanActor` values for configured operators (built at the composition root only).

    Args:
        operators: user names allowed to command risk; empty admits any name (local CLI use only, where
            the person at the terminal is the operator).
    """

    def __init__(self, operators: Iterable[str] = ()) -> None:
        self._operators = frozenset(operators)

    def human(self, name: str, channel: str) -> HumanActor:
        """The actor for ``name`` on ``channel``; raises InvalidInput for names not configured."""
        if not name or (self._operators and name not in self._operators):
            raise InvalidInput(f"{name!r} is not a configured risk operator")
        return HumanActor(name, channel, _CAPABILITY)


class ProposalStatus(StrEnum):
    """Where a limit change stands."""

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class LimitProposal:
    """A requested limit change.

    Attributes:
        proposal_id: ``lim-<n>``.
        key: dotted path in the ``risk:`` section, e.g. ``order.max_notional``.
        old: the value when proposed (YAML text).
        new: the requested value (YAML text).
        proposed_by: who asked (an agent name, or a human ``name@channel``).
        reason: why.
        created_at: when.
        loosening: True when it relaxes risk.
        needs: distinct human approvals required.
        approvals: human names that approved so far.
        status: pending, applied or rejected.
    """

    proposal_id: str
    key: str
    old: str
    new: str
    proposed_by: str
    reason: str
    created_at: datetime
    loosening: bool
    needs: int
    approvals: tuple[str, ...] = ()
    status: ProposalStatus = ProposalStatus.PENDING


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, StrEnum):
        return value.value
    if value is None:
        return "null"
    return str(value)


def _get(tree: Any, parts: list[str], key: str) -> Any:
    node = tree
    for p in parts:
        if not isinstance(node, dict) or p not in node:
            raise InvalidInput(f"risk limit {key!r} does not exist")
        node = node[p]
    return node


def is_loosening(key: str, old: Any, new: Any) -> bool:
    """True when changing ``key`` from ``old`` to ``new`` relaxes risk (unknown shapes count as loosening)."""
    if old == new:
        return False
    if key in _ANY_CHANGE_LOOSENS:
        return True
    if isinstance(old, bool) or isinstance(new, bool):
        return bool(old) and not bool(new)
    if new is None:
        return True
    if old is None:
        return False
    if isinstance(old, (Decimal, int)) and isinstance(new, (Decimal, int)):
        return bool(new < old) if key in _HIGHER_IS_TIGHTER else bool(new > old)
    return True


class LimitGovernor:
    """Holds the limits in force and the queue of proposed changes (see the module docstring).

    Args:
        config: the ``risk:`` section loaded from agent.yaml.
        instruments: the configured instrument ids; when given, a change that keys a limit or shock by
            another id is refused (as loading agent.yaml would refuse it).
    """

    def __init__(self, config: RiskConfig, instruments: Iterable[str] | None = None) -> None:
        self._config = config
        self._instruments = None if instruments is None else frozenset(instruments)
        self._limits = RiskLimits.from_config(config)
        self._proposals: dict[str, LimitProposal] = {}
        self._values: dict[str, Any] = {}

    @property
    def config(self) -> RiskConfig:
        """The ``risk:`` section in force."""
        return self._config

    @property
    def limits(self) -> RiskLimits:
        """The limits in force, ready for :meth:`RiskEngine.replace_limits`."""
        return self._limits

    def pending(self) -> list[LimitProposal]:
        """Proposals waiting for approval, oldest first."""
        return [p for p in self._proposals.values() if p.status is ProposalStatus.PENDING]

    def current(self, key: str) -> Any:
        """The value of ``key`` in force (raises InvalidInput for an unknown key)."""
        return _get(self._config.model_dump(mode="python"), key.split("."), key)

    def propose(self, key: str, value: str, proposer: str, reason: str, ts: datetime) -> LimitProposal:
        """Queue a change (anyone, the agent included, may call this); nothing changes until approved."""
        return self._queue(key, value, proposer, reason, ts, approvals=())

    def change(
        self, key: str, value: str, actor: HumanActor, reason: str, ts: datetime
    ) -> tuple[LimitProposal, list[LimitChanged]]:
        """A human changes a limit: applied now when enough approvals (tightening: one), else queued."""
        proposal = self._queue(key, value, str(actor), reason, ts, approvals=(actor.name,))
        return self._maybe_apply(proposal, actor, ts)

    def approve(
        self, proposal_id: str, actor: HumanActor, ts: datetime
    ) -> tuple[LimitProposal, list[LimitChanged]]:
        """Add ``actor``'s approval; applies the change once enough distinct humans approved."""
        p = self._get_pending(proposal_id)
        if actor.name in p.approvals:
            raise InvalidInput(
                f"{actor.name} already approved {proposal_id}; a second approver must be someone else"
            )
        p = dataclasses.replace(p, approvals=(*p.approvals, actor.name))
        self._proposals[proposal_id] = p
        return self._maybe_apply(p, actor, ts)

    def reject(self, proposal_id: str, actor: HumanActor) -> LimitProposal:
        """Drop a pending proposal."""
        p = dataclasses.replace(self._get_pending(proposal_id), status=ProposalStatus.REJECTED)
        self._proposals[proposal_id] = p
        return p

    def _get_pending(self, proposal_id: str) -> LimitProposal:
        p = self._proposals.get(proposal_id)
        if p is None or p.status is not ProposalStatus.PENDING:
            raise DataNotFound(f"no pending limit proposal {proposal_id!r}")
        return p

    def _queue(
        self, key: str, value: str, proposer: str, reason: str, ts: datetime, approvals: tuple[str, ...]
    ) -> LimitProposal:
        import yaml  # only on the (rare) limit-change path

        old = self.current(key)
        parsed = yaml.safe_load(value) if value.strip() else None
        tree = self._config.model_dump(mode="python")
        parts = key.split(".")
        parent = _get(tree, parts[:-1], key)
        parent[parts[-1]] = parsed
        try:
            candidate = RiskConfig.model_validate(tree)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(f"risk.{key}: {first['msg']}") from None
        if self._instruments is not None:
            unknown = candidate.unknown_instruments(set(self._instruments))
            if unknown:
                raise InvalidInput(unknown[0])
        new = _get(candidate.model_dump(mode="python"), parts, key)
        loosening = is_loosening(key, old, new)
        needs = 2 if loosening and self._config.governance.two_approvers_to_loosen else 1
        pid = f"lim-{len(self._proposals) + 1}"
        self._values[pid] = candidate
        p = LimitProposal(pid, key, _text(old), _text(new), proposer, reason, ts, loosening, needs, approvals)
        self._proposals[pid] = p
        return p

    def _maybe_apply(
        self, p: LimitProposal, actor: HumanActor, ts: datetime
    ) -> tuple[LimitProposal, list[LimitChanged]]:
        if len(set(p.approvals)) < p.needs:
            return p, []
        old_now = _text(self.current(p.key))
        candidate: RiskConfig = self._values.pop(p.proposal_id)
        tree = self._config.model_dump(mode="python")
        parts = p.key.split(".")
        _get(tree, parts[:-1], p.key)[parts[-1]] = _get(candidate.model_dump(mode="python"), parts, p.key)
        self._config = RiskConfig.model_validate(tree)
        self._limits = RiskLimits.from_config(self._config)
        applied = dataclasses.replace(p, status=ProposalStatus.APPLIED)
        self._proposals[p.proposal_id] = applied
        who = "+".join(p.approvals)
        event = LimitChanged(
            ts=ts, key=p.key, old=old_now, new=p.new, actor=who, reason=p.reason or p.proposal_id
        )
        return applied, [event]
