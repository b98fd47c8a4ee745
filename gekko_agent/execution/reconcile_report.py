"""The typed result of a reconciliation: each difference found and what was done about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Difference", "DifferenceKind", "ReconciliationReport"]


class DifferenceKind(StrEnum):
    """What disagreed between the ledger and the venue (see :mod:`gekko_agent.execution.reconcile`)."""

    MISSED_FILL = "missed_fill"
    UNKNOWN_AT_VENUE = "unknown_at_venue"
    CLOSED_AT_VENUE = "closed_at_venue"
    OPEN_AT_VENUE = "open_at_venue"
    STATUS_BEHIND = "status_behind"
    FILLED_QUANTITY = "filled_quantity"
    NOT_IN_LEDGER = "not_in_ledger"
    BALANCE = "balance"
    POSITION = "position"


_QUIET = frozenset({DifferenceKind.STATUS_BEHIND})


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement between the ledger and a venue.

    Attributes:
        kind: what disagreed.
        subject: what it is about: a client order id, a fill id, a currency or an instrument id.
        ledger: the ledger's side, in words or a number.
        venue: the venue's side.
        action: what reconciliation did about it.
    """

    kind: DifferenceKind
    subject: str
    ledger: str
    venue: str
    action: str

    @property
    def needs_alert(self) -> bool:
        """True when the ledger changed materially or a person should look (all but catch-ups)."""
        return self.kind not in _QUIET

    def describe(self) -> str:
        """One line for the journal and the terminal."""
        return f"{self.kind.value} {self.subject}: ledger={self.ledger} venue={self.venue} → {self.action}"

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form."""
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "ledger": self.ledger,
            "venue": self.venue,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """What one reconciliation of one venue found and did.

    Attributes:
        venue: the venue's name.
        started_at: when it began (engine clock).
        differences: every difference, in the order found.
        fills_adopted: venue fills newly journaled.
        orders_marked: ledger orders whose status was changed to the venue's truth.
    """

    venue: str
    started_at: datetime
    differences: tuple[Difference, ...] = ()
    fills_adopted: int = 0
    orders_marked: int = 0

    @property
    def clean(self) -> bool:
        """True when the ledger and the venue agreed on everything."""
        return not self.differences

    def of_kind(self, kind: DifferenceKind) -> tuple[Difference, ...]:
        """The differences of one kind."""
        return tuple(d for d in self.differences if d.kind is kind)

    def headline(self) -> str:
        """One line: venue, verdict and counts."""
        if self.clean:
            return f"{self.venue}: ledger and venue agree"
        return (
            f"{self.venue}: {len(self.differences)} difference(s); {self.fills_adopted} fill(s) adopted, "
            f"{self.orders_marked} order(s) marked"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (``gekko reconcile --json``)."""
        return {
            "venue": self.venue,
            "started_at": self.started_at.isoformat(),
            "clean": self.clean,
            "fills_adopted": self.fills_adopted,
            "orders_marked": self.orders_marked,
            "differences": [d.to_dict() for d in self.differences],
        }
