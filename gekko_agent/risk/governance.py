"""Governed limit changes and the human capability.

Who can do what:

* **anyone** (the agent included) may :meth:`LimitGovernor.propose` a change; it only waits in the queue;
* a **human** (a :class:`HumanActor`) may :meth:`~LimitGovernor.change` a limit: tightening applies at
  once; loosening (raising a limit, disabling a check, widening a list) waits for a second person when
  ``governance.two_approvers_to_loosen`` is on (the default), else applies at once too;
* a change applies once enough distinct humans :meth:`~LimitGovernor.approve` it: one, or two for a
  loosening when ``governance.two_approvers_to_loosen`` is on (the human who asked counts as one);
  anyone's approval of their own change again is refused, and a human may :meth:`~LimitGovernor.reject` it.

Every step returns its events for the caller to journal (who, old and new value). ``currency`` and
``governance.*`` are not limits: they change in agent.yaml only.

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
import difflib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from gekko_agent.domain import Event, LimitChanged, LimitChangeDecided, LimitChangeProposed
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.limits import RiskLimits

__all__ = [
    "ActorAuthority",
    "HumanActor",
    "LimitDiff",
    "LimitGovernor",
    "LimitProposal",
    "ProposalStatus",
    "is_loosening",
]

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
# not limits: the currency every money limit is in, and who may change limits, come from agent.yaml only
_FIXED = frozenset({"currency"})
_FIXED_SECTIONS = ("governance.",)
REASON_LIMIT = 300
"""Characters of a proposal's reason kept (an agent's essay is cut, not stored whole)."""


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
class LimitDiff:
    """What changing one limit would do, before anything is queued (for confirmation prompts).

    Attributes:
        key: dotted path in the ``risk:`` section.
        old: the value in force (YAML text).
        new: the value asked for, as validated (YAML text).
        loosening: True when it relaxes risk.
        needs: distinct human approvals it would need.
    """

    key: str
    old: str
    new: str
    loosening: bool
    needs: int


@dataclass(frozen=True, slots=True)
class LimitProposal:
    """A requested limit change.

    Attributes:
        proposal_id: ``lim-<n>``.
        key: dotted path in the ``risk:`` section, e.g. ``order.max_notional``.
        old: the value when proposed (YAML text).
        new: the requested value (YAML text).
        proposed_by: who asked (``agent:<strategy>``, or a human ``name@channel``).
        reason: why.
        created_at: when.
        loosening: True when it relaxes risk.
        needs: distinct human approvals required.
        approvals: human names that approved so far.
        approved_by: the same people as ``name@channel``, for the journal.
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
    approved_by: tuple[str, ...] = ()
    status: ProposalStatus = ProposalStatus.PENDING


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, StrEnum):
        return value.value
    if value is None:
        return "null"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=_text, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _get(tree: Any, parts: list[str], key: str) -> Any:
    node = tree
    for p in parts:
        if not isinstance(node, dict) or p not in node:
            raise InvalidInput(f"risk limit {key!r} does not exist")
        node = node[p]
    return node


def _leaves(node: BaseModel, values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(key path, dumped value) of every field that is not itself a section, in declaration order."""
    for name in type(node).model_fields:
        key = f"{prefix}{name}"
        child = getattr(node, name)
        if isinstance(child, BaseModel):
            yield from _leaves(child, values[name], f"{key}.")
        else:
            yield key, values[name]


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

    Every step returns the events to journal: :class:`~gekko_agent.domain.LimitChangeProposed` when a
    change is queued, :class:`~gekko_agent.domain.LimitChangeDecided` for each approval or rejection, and
    :class:`~gekko_agent.domain.LimitChanged` when a change applies (then :attr:`limits` are new).

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
        self._values: dict[str, RiskConfig] = {}
        self._next_id = 1

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

    def entries(self, prefix: str = "") -> list[tuple[str, str]]:
        """The limits in force as (key path, value text), all or those under ``prefix``.

        ``currency`` (the unit of every money limit) comes first; ``governance.*`` is left out.
        """
        want = prefix.strip().removeprefix("risk.").strip(".")
        return [
            (k, _text(v))
            for k, v in _leaves(self._config, self._config.model_dump(mode="python"))
            if not k.startswith(_FIXED_SECTIONS) and (not want or k == want or k.startswith(f"{want}."))
        ]

    def current(self, key: str) -> Any:
        """The value of ``key`` in force (raises InvalidInput for an unknown key)."""
        key = key.removeprefix("risk.")
        return _get(self._config.model_dump(mode="python"), key.split("."), key)

    def diff(self, key: str, value: str) -> LimitDiff:
        """What setting ``key`` to ``value`` would do; queues nothing (raises InvalidInput when invalid)."""
        key, _, old, new, loosening, needs = self._validate(key, value)
        return LimitDiff(key, _text(old), _text(new), loosening, needs)

    def propose(
        self, key: str, value: str, proposer: str, reason: str, ts: datetime
    ) -> tuple[LimitProposal, list[Event]]:
        """Queue a change (anyone, the agent included, may call this); nothing changes until approved."""
        p = self._queue(key, value, proposer, reason, ts, approver=None)
        return p, [self._proposed_event(p, ts)]

    def change(
        self, key: str, value: str, actor: HumanActor, reason: str, ts: datetime
    ) -> tuple[LimitProposal, list[Event]]:
        """A human changes a limit: applied now when enough approvals (tightening: one), else queued."""
        p = self._queue(key, value, str(actor), reason, ts, approver=actor)
        if len(p.approvals) >= p.needs:
            return self._apply(p, ts, waited=False)
        return p, [self._proposed_event(p, ts)]

    def approve(self, proposal_id: str, actor: HumanActor, ts: datetime) -> tuple[LimitProposal, list[Event]]:
        """Add ``actor``'s approval; applies the change once enough distinct humans approved.

        The direction is judged again against the value in force now, so a proposal that became a
        loosening since it was asked (another change applied meanwhile) needs the loosening approvals.
        """
        p = self._get_pending(proposal_id)
        if actor.name in p.approvals:
            raise InvalidInput(
                f"{actor.name} already approved {proposal_id}; a second approver must be someone else"
            )
        candidate = self._values[proposal_id]
        parts = p.key.split(".")
        old = self.current(p.key)
        loosening = is_loosening(p.key, old, _get(candidate.model_dump(mode="python"), parts, p.key))
        p = dataclasses.replace(
            p,
            old=_text(old),
            loosening=p.loosening or loosening,
            needs=max(p.needs, self._needs(loosening)),
            approvals=(*p.approvals, actor.name),
            approved_by=(*p.approved_by, str(actor)),
        )
        decided = LimitChangeDecided(
            ts=ts,
            proposal_id=p.proposal_id,
            key=p.key,
            old=p.old,
            new=p.new,
            decision="approved",
            actor=str(actor),
            approvals=p.approved_by,
            needs=p.needs,
        )
        if len(p.approvals) < p.needs:
            self._proposals[proposal_id] = p
            return p, [decided]
        applied, events = self._apply(p, ts, waited=True)  # raises before changing anything
        return applied, [decided, *events]

    def reject(
        self, proposal_id: str, actor: HumanActor, ts: datetime, reason: str = ""
    ) -> tuple[LimitProposal, list[Event]]:
        """Drop a pending proposal."""
        p = dataclasses.replace(self._get_pending(proposal_id), status=ProposalStatus.REJECTED)
        self._proposals[proposal_id] = p
        self._values.pop(proposal_id, None)
        event = LimitChangeDecided(
            ts=ts,
            proposal_id=p.proposal_id,
            key=p.key,
            old=_text(self.current(p.key)),
            new=p.new,
            decision="rejected",
            actor=str(actor),
            reason=reason,
            approvals=p.approved_by,
            needs=p.needs,
        )
        return p, [event]

    def reapply(self, changes: Iterable[LimitChanged]) -> tuple[list[str], list[str]]:
        """Re-install limit changes people made in an earlier process, oldest first (on restart).

        Each was approved when it was made, so none needs approving again. A change applies only when
        the value in force still equals the value it replaced: when agent.yaml was edited since, the
        file wins and the change is reported as skipped.

        Returns:
            (``key=value`` of each change re-applied, one line per change skipped and why).
        """
        import yaml  # only on restart

        applied: list[str] = []
        skipped: list[str] = []
        for change in changes:
            key = change.key
            try:
                now = _text(self.current(key))
            except InvalidInput:
                skipped.append(f"{key}: no longer a risk limit")
                continue
            if now != change.old:
                skipped.append(
                    f"{key}: agent.yaml has {now} (the journal changed {change.old} -> {change.new})"
                )
                continue
            try:
                config = self._with(key, yaml.safe_load(change.new))
            except ValidationError as exc:
                skipped.append(f"{key}: {exc.errors()[0]['msg']}")
                continue
            self._config, self._limits = config, RiskLimits.from_config(config)
            applied.append(f"{key}={change.new}")
        return applied, skipped

    def restore_pending(
        self, journaled: Iterable[LimitChangeProposed | LimitChangeDecided]
    ) -> tuple[list[LimitProposal], list[str]]:
        """Put back the proposals an earlier process left waiting, from its journal (on restart).

        Call after :meth:`reapply`. ``journaled`` is every ``LimitChangeProposed`` and
        ``LimitChangeDecided`` in journal order. A proposal that was rejected, or approved by as many
        people as it needed (it applied then), is over. One still waiting is queued again under its
        id with the approvals it had, after being judged against the limits in force now: when it is
        no longer valid (agent.yaml changed since, or the value is already in force) it is dropped and
        reported. New proposals are numbered after every id in the journal, so an id never names two.

        Returns:
            (the proposals waiting again, one line per proposal dropped and why).
        """
        waiting: dict[str, LimitChangeProposed] = {}
        approved: dict[str, tuple[tuple[str, ...], int]] = {}
        for event in journaled:
            number = event.proposal_id.removeprefix("lim-")
            if number.isdecimal():
                self._next_id = max(self._next_id, int(number) + 1)
            if isinstance(event, LimitChangeProposed):
                waiting[event.proposal_id] = event
                approved[event.proposal_id] = (event.approvals, event.needs)
            elif event.proposal_id in waiting:
                if event.decision == "approved" and len(event.approvals) < event.needs:
                    approved[event.proposal_id] = (event.approvals, event.needs)
                else:  # rejected, or approved by enough people: applied then
                    del waiting[event.proposal_id]
        restored: list[LimitProposal] = []
        dropped: list[str] = []
        for pid, asked in waiting.items():
            if pid in self._proposals:
                continue
            try:
                key, candidate, old, new, loosening, needs = self._validate(asked.key, asked.new)
            except InvalidInput as exc:
                dropped.append(f"{pid} ({asked.key} -> {asked.new}): {exc}")
                continue
            by, journaled_needs = approved[pid]
            p = LimitProposal(
                pid,
                key,
                _text(old),
                _text(new),
                asked.actor,
                asked.reason,
                asked.ts,
                asked.loosening or loosening,
                max(journaled_needs, needs),
                approvals=tuple(who.rpartition("@")[0] or who for who in by),
                approved_by=by,
            )
            self._values[pid] = candidate
            self._proposals[pid] = p
            restored.append(p)
        return restored, dropped

    def _with(self, key: str, value: Any) -> RiskConfig:
        """The config in force with ``key`` set to ``value`` (raises ValidationError when invalid)."""
        tree = self._config.model_dump(mode="python")
        parts = key.split(".")
        _get(tree, parts[:-1], key)[parts[-1]] = value
        return RiskConfig.model_validate(tree)

    def _changeable(self, key: str) -> bool:
        return key not in _FIXED and not key.startswith(_FIXED_SECTIONS)

    def _needs(self, loosening: bool) -> int:
        return 2 if loosening and self._config.governance.two_approvers_to_loosen else 1

    def _get_pending(self, proposal_id: str) -> LimitProposal:
        p = self._proposals.get(proposal_id)
        if p is None or p.status is not ProposalStatus.PENDING:
            raise DataNotFound(f"no pending limit change {proposal_id!r} (see `limits`)")
        return p

    def _validate(self, key: str, value: str) -> tuple[str, RiskConfig, Any, Any, bool, int]:
        """(key, candidate config, old value, new value, loosening, approvals needed) or InvalidInput."""
        import yaml  # only on the (rare) limit-change path

        key = key.strip().removeprefix("risk.")
        self._check_key(key)
        old = self.current(key)
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise InvalidInput(f"risk.{key}: cannot read {value!r} as a value") from None
        try:
            candidate = self._with(key, parsed)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(f"risk.{key}: {first['msg']}") from None
        if self._instruments is not None:
            unknown = candidate.unknown_instruments(set(self._instruments))
            if unknown:
                raise InvalidInput(unknown[0])
        new = _get(candidate.model_dump(mode="python"), key.split("."), key)
        if new == old:
            raise InvalidInput(f"risk.{key} is already {_text(old)}")
        loosening = is_loosening(key, old, new)
        return key, candidate, old, new, loosening, self._needs(loosening)

    def _check_key(self, key: str) -> None:
        """Refuse unknown keys (naming the closest known one), whole sections and agent.yaml-only keys."""
        known = [k for k, _ in _leaves(self._config, self._config.model_dump(mode="python"))]
        inside_mapping = any(key.startswith(f"{k}.") for k in known)  # order.max_quantity.<instrument>
        if key not in known and not inside_mapping:
            if any(k.startswith(f"{key}.") for k in known):
                raise InvalidInput(f"risk.{key} is a section; name one of its limits (see `limits {key}`)")
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise InvalidInput(f"unknown risk limit {key!r} ({hint}`limits` lists them)")
        if not self._changeable(key):
            raise InvalidInput(f"risk.{key} is changed in agent.yaml only, not by a limit command")

    def _queue(
        self, key: str, value: str, proposer: str, reason: str, ts: datetime, approver: HumanActor | None
    ) -> LimitProposal:
        key, candidate, old, new, loosening, needs = self._validate(key, value)
        pid = f"lim-{self._next_id}"
        self._next_id += 1
        self._values[pid] = candidate
        p = LimitProposal(
            pid,
            key,
            _text(old),
            _text(new),
            proposer,
            reason[:REASON_LIMIT],
            ts,
            loosening,
            needs,
            approvals=(approver.name,) if approver is not None else (),
            approved_by=(str(approver),) if approver is not None else (),
        )
        self._proposals[pid] = p
        return p

    def _apply(self, p: LimitProposal, ts: datetime, waited: bool) -> tuple[LimitProposal, list[Event]]:
        """Install ``p``'s value of its key into the config in force (other keys stay as they are now)."""
        old_now = _text(self.current(p.key))
        candidate = self._values[p.proposal_id]
        try:
            config = self._with(p.key, _get(candidate.model_dump(mode="python"), p.key.split("."), p.key))
        except ValidationError as exc:  # another change applied since makes this one invalid now
            raise InvalidInput(
                f"risk.{p.key}: {exc.errors()[0]['msg']} with the limits in force now"
            ) from None
        self._config, self._limits = config, RiskLimits.from_config(config)
        del self._values[p.proposal_id]
        applied = dataclasses.replace(p, old=old_now, status=ProposalStatus.APPLIED)
        self._proposals[p.proposal_id] = applied
        reason = " ".join(x for x in (p.reason, f"[{p.proposal_id}]" if waited else "") if x)
        event = LimitChanged(
            ts=ts, key=p.key, old=old_now, new=p.new, actor="+".join(p.approved_by), reason=reason
        )
        return applied, [event]

    def _proposed_event(self, p: LimitProposal, ts: datetime) -> LimitChangeProposed:
        return LimitChangeProposed(
            ts=ts,
            proposal_id=p.proposal_id,
            key=p.key,
            old=p.old,
            new=p.new,
            actor=p.proposed_by,
            reason=p.reason,
            loosening=p.loosening,
            needs=p.needs,
            approvals=p.approved_by,
        )
