"""The frame every dashboard screen shares: a headline with the trading state, the body, the footer.

A screen renders a :class:`~.model.Snapshot` in :meth:`DashboardScreen.show`; the app calls it on the
active screen only (coalesced, at most ``refresh_hz`` times a second) and again when a screen becomes
active, so hidden screens cost nothing while the engine runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from gekko_agent.tui.model import Snapshot, money
from gekko_agent.tui.widgets import DashboardFooter, StateBadge

if TYPE_CHECKING:
    from gekko_agent.tui.app import GekkoApp

__all__ = ["DashboardScreen", "headline"]


def headline(snap: Snapshot) -> str:
    """``2023-03-10 12:00 · paper · brain rules · equity 100,000.00 USD · today +0.00``."""
    s = snap.status
    parts = [
        f"{s.now:%Y-%m-%d %H:%M}",
        s.mode,
        f"brain {s.brain}",
        f"equity {money(s.equity)} {s.account_currency}",
        f"today {money(s.pnl_today)}",
    ]
    if snap.read_only:
        parts.append(f"read-only ({snap.source})")
    return " · ".join(parts)


class DashboardScreen(Screen[None]):
    """Base of the seven screens: headline on top, footer with the key bindings below.

    Subclasses set ``TITLE``, compose their body in :meth:`body` and render in :meth:`show`.
    """

    TITLE = "Gekko"

    def compose(self) -> ComposeResult:
        """Headline, body, footer."""
        with Horizontal(id="headline"):
            yield StateBadge("…", id="state")
            yield Static(self.TITLE, id="screen-name")
            yield Static("connecting…", id="facts")
        yield from self.body()
        yield DashboardFooter()

    def body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    @property
    def gekko(self) -> GekkoApp:
        """The dashboard app (typed)."""
        return cast("GekkoApp", self.app)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Becoming the active screen: render the latest snapshot at once.

        Textual re-applies the whole stylesheet to a screen each time it becomes active again. A mode
        switch already re-applies it when the CSS changed while the screen was away (a new theme), so
        when the screen's styles are current that pass is skipped: it changed nothing, yet cost
        milliseconds and thousands of short-lived objects per switch (virtual nodes for each table's
        component classes), which made the garbage collector's full passes frequent.
        """
        if self._css_update_count == self.app._css_update_count:
            event.refresh_styles = False
        snap = self.gekko.latest
        if snap is not None:
            self.render_snapshot(snap)

    def render_snapshot(self, snap: Snapshot) -> None:
        """Headline, then the screen's body."""
        self.query_one("#state", StateBadge).show(snap.status.state)
        self.query_one("#facts", Static).update(headline(snap))
        self.show(snap)

    def show(self, snap: Snapshot) -> None:
        """Render the body from ``snap`` (subclasses)."""

    def selected_id(self) -> str | None:
        """The id of the selected row, for actions (screens with a table)."""
        return None
