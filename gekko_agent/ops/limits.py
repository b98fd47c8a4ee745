"""Governed limit changes as commands: ``limits``, ``limit``, ``limit-approve``, ``limit-reject``.

* ``limits [section]`` (anyone configured) lists every risk limit in force by its key path, then the
  changes waiting for people;
* ``limit <key> <value> [reason]`` (trader) sets a limit: a tightening applies at once; a loosening
  waits for a second, different trader when ``risk.governance.two_approvers_to_loosen`` is on;
* ``limit-approve <id>`` / ``limit-reject <id> [reason]`` (trader) decide a waiting change, the
  agent's proposals (``propose_limit_change``) included. Approving one's own change again is refused.

Values are YAML text (``5000``, ``false``, ``"{BTC/USD@paper: 1}"``), validated as agent.yaml's
``risk:`` section would be; a bad key or value gets one line naming the key. Every step is journaled
by the engine (``LimitChangeProposed``, ``LimitChangeDecided``, ``LimitChanged``), and every command
line by the command layer (``CommandIssued``).
"""

from __future__ import annotations

from gekko_agent.errors import UserError
from gekko_agent.ops.port import EngineView
from gekko_agent.ops.replies import Button, Reply
from gekko_agent.risk.governance import HumanActor, LimitProposal, ProposalStatus

__all__ = [
    "LIMIT_USAGE",
    "approve_limit_reply",
    "change_limit_reply",
    "limit_buttons",
    "limit_confirmation",
    "limits_reply",
    "pending_limit_line",
    "reject_limit_reply",
]

LIMIT_USAGE = "limit <key> <value> [reason] — e.g. `limit order.max_notional 5000 calmer markets`"


def pending_limit_line(p: LimitProposal) -> str:
    """One line about a waiting limit change."""
    kind = "loosens" if p.loosening else "tightens"
    got = f"{len(p.approvals)} of {p.needs} approvals"
    why = f"; {p.reason}" if p.reason else ""
    return f"{p.proposal_id}: {p.key} {p.old} → {p.new} ({kind}; {got}) by {p.proposed_by}{why}"


def limit_buttons(p: LimitProposal) -> tuple[Button, Button]:
    """Approve (confirmed when it loosens) and Reject buttons of a waiting change."""
    return (
        Button(f"Approve {p.proposal_id}", f"limit-approve {p.proposal_id}", confirm=p.loosening),
        Button(f"Reject {p.proposal_id}", f"limit-reject {p.proposal_id}", danger=True),
    )


def _pending_buttons(items: list[LimitProposal]) -> tuple[Button, ...]:
    return tuple(b for p in items[:5] for b in limit_buttons(p))


def limits_reply(engine: EngineView, args: list[str]) -> Reply:
    """The limits in force (``key = value``), then the changes waiting for people."""
    prefix = args[0] if args else ""
    rows = engine.limits(prefix)
    if not rows:
        raise UserError(f"no risk limit under {prefix!r}; `limits` lists them all")
    pending = engine.pending_limits()
    lines = [f"{k} = {v}" for k, v in rows]
    if pending:
        lines += ["waiting for approval:", *(pending_limit_line(p) for p in pending)]
    title = f"Risk limits{f' under {prefix}' if prefix else ''} ({len(rows)})"
    return Reply(title, tuple(lines), buttons=_pending_buttons(pending))


def change_limit_reply(engine: EngineView, args: list[str], actor: HumanActor) -> Reply:
    """``limit <key> <value> [reason]``.

    Raises:
        UserError: no key or value, an unknown key or a refused value (one line naming the key).
    """
    if len(args) < 2:
        raise UserError(f"needs a key and a value — usage: {LIMIT_USAGE}")
    key, value, reason = args[0], args[1], " ".join(args[2:])
    p = engine.change_limit(key, value, actor, reason or f"limit by {actor.name}")
    if p.status is ProposalStatus.APPLIED:
        return Reply(
            f"limit {p.key}: {p.old} → {p.new}, in force now",
            (f"by {actor} · the next risk check uses it",),
        )
    return Reply(
        f"limit {p.key}: {p.old} → {p.new} waits for a second trader ({p.proposal_id})",
        (
            f"it loosens risk: {p.needs} different traders must approve; {len(p.approvals)} so far",
            f"another trader runs `limit-approve {p.proposal_id}` (or `limit-reject {p.proposal_id}`)",
        ),
        buttons=limit_buttons(p),
    )


def approve_limit_reply(engine: EngineView, proposal_id: str, actor: HumanActor) -> Reply:
    """``limit-approve <id>``."""
    p = engine.approve_limit(proposal_id, actor)
    if p.status is ProposalStatus.APPLIED:
        return Reply(
            f"limit-approve {p.proposal_id}: {p.key} {p.old} → {p.new}, in force now",
            (f"approved by {', '.join(p.approved_by)} · the next risk check uses it",),
        )
    return Reply(
        f"limit-approve {p.proposal_id}: {len(p.approvals)} of {p.needs} approvals",
        (pending_limit_line(p), "a different trader must approve it too"),
        buttons=limit_buttons(p),
    )


def reject_limit_reply(engine: EngineView, args: list[str], actor: HumanActor) -> Reply:
    """``limit-reject <id> [reason]``."""
    p = engine.reject_limit(args[0], actor, " ".join(args[1:]) or "rejected")
    return Reply(f"limit-reject {p.proposal_id}: dropped; {p.key} stays {p.old}", (f"by {actor}",))


def limit_confirmation(words: list[str], engine: EngineView) -> str | None:
    """The question to ask before a ``limit`` or ``limit-approve`` that loosens risk, else None.

    A command that would fail (unknown key, bad value, no such id) is not asked about: it runs and says
    why in one line.
    """
    name = words[0]
    if name == "limit" and len(words) >= 3:
        try:
            d = engine.limit_diff(words[1], words[2])
        except UserError:
            return None
        if not d.loosening:
            return None
        second = " (a second trader must approve it)" if d.needs > 1 else ""
        return f"Loosen risk limit {d.key}: {d.old} → {d.new}{second}?"
    if name == "limit-approve" and len(words) >= 2:
        p = next((p for p in engine.pending_limits() if p.proposal_id == words[1]), None)
        if p is not None and p.loosening:
            return f"Approve {p.proposal_id}: loosen risk limit {p.key} {p.old} → {p.new}?"
    return None
