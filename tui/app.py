"""The Gekko dashboard: seven modes, app-wide key bindings, palette commands and coalesced redraws.

How updates flow: the engine (in this asyncio loop, see :mod:`gekko_agent.runtime.dashboard`) calls
:meth:`GekkoApp.engine_changed` after each event. That call only counts the event and, when none is
queued yet, posts one :class:`EngineChanged` message; the handler takes a snapshot and renders the
active screen at most ``refresh_hz`` times a second. A burst of a thousand events therefore costs a
thousand counter increments and a handful of redraws, and the engine never waits for the UI.

Every action goes through the ops :class:`~gekko_agent.ops.CommandService` on channel ``tui`` (the
local operator, trader role), so it is authorized and journaled exactly like a Slack or CLI command.
Halt (``h``) and resume (``u``) work from every screen and always ask for a confirmation.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from gekko_agent.ops import Reply
from gekko_agent.tui.agent import AgentScreen
from gekko_agent.tui.approvals import ApprovalsScreen
from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.forecasts import ForecastsScreen
from gekko_agent.tui.logs import LogsScreen
from gekko_agent.tui.model import DashboardSource, Snapshot
from gekko_agent.tui.overview import OverviewScreen
from gekko_agent.tui.positions import PositionsScreen
from gekko_agent.tui.risk import RiskScreen
from gekko_agent.tui.widgets import ConfirmScreen

__all__ = ["SCREENS_BY_KEY", "EngineChanged", "GekkoApp"]

SCREENS_BY_KEY: dict[str, tuple[str, str]] = {
    "1": ("overview", "Overview"),
    "2": ("positions", "Positions"),
    "3": ("risk", "Risk"),
    "4": ("agent", "Agent"),
    "5": ("approvals", "Approvals"),
    "6": ("forecasts", "Forecasts"),
    "7": ("logs", "Logs"),
}
USER_ID = "local"
SETTLE_AFTER_S = 0.5  # after the first frame: when start-up garbage is collected and the heap frozen


class EngineChanged(Message):
    """The engine did something; at most one of these waits in the queue at a time."""


class GekkoApp(App[None]):
    """The dashboard.

    Args:
        source: snapshots and the command layer.
        engine: a coroutine factory run in this loop once the app is up (the replay of ``gekko demo``);
            None when the engine runs elsewhere or not at all.
        poll: re-read the source ``refresh_hz`` times a second (for sources that cannot notify).
    """

    CSS_PATH = "gekko.tcss"
    TITLE = "Gekko"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "overview": OverviewScreen,
        "positions": PositionsScreen,
        "risk": RiskScreen,
        "agent": AgentScreen,
        "approvals": ApprovalsScreen,
        "forecasts": ForecastsScreen,
        "logs": LogsScreen,
    }
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "halt", "Halt", priority=True),
        Binding("u", "resume", "Resume", priority=True),
        *(Binding(k, f"switch_mode('{m}')", label, show=True) for k, (m, label) in SCREENS_BY_KEY.items()),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        source: DashboardSource,
        engine: Callable[[], Awaitable[object]] | None = None,
        *,
        poll: bool = False,
    ) -> None:
        super().__init__()
        self._poll = poll
        self.source = source
        self._engine = engine
        self.latest: Snapshot | None = None
        self.events = 0
        self.frames = 0
        self.local_log: deque[str] = deque(maxlen=500)
        self._queued = False
        self._last_frame = 0.0
        self._interval = 1.0 / max(source.refresh_hz, 0.1)
        self._froze_heap = False

    # -- updates ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        """First frame at once, then the engine (if any) in this loop."""
        self.refresh_now()
        self.set_timer(SETTLE_AFTER_S, self._settle_heap)
        if self._poll:  # nothing tells us about changes (a ledger another process writes): ask
            self.set_interval(self._interval, self.engine_changed)
        if self._engine is not None:
            self.run_worker(self._run_engine(), name="engine", group="engine", exclusive=True)

    async def _run_engine(self) -> None:
        assert self._engine is not None
        await self._engine()
        self.log_line("engine: replay finished; the dashboard stays open (q quits)")
        self.engine_changed()

    def _settle_heap(self) -> None:
        """Collect the start-up garbage once, then move what is left out of the collector's way.

        The engine's history, the stylesheet and the composed screens are a few hundred thousand
        long-lived objects that every full pass of Python's cyclic collector walks again: on a small
        machine a pass took 80-200 ms, long enough to swallow a key press whenever one fell due.
        :func:`gc.freeze` parks them in the permanent generation, so the passes that still happen walk
        only what was allocated since. Reference counting still frees frozen objects; a frozen object
        in a reference cycle that later dies waits for :func:`gc.unfreeze`, which runs when the app
        exits.
        """
        if self._froze_heap or not self.is_running:
            return
        gc.collect()
        gc.freeze()
        self._froze_heap = True

    def on_unmount(self) -> None:
        """Hand the frozen objects back to the collector."""
        if self._froze_heap:
            gc.unfreeze()
            self._froze_heap = False

    def engine_changed(self) -> None:
        """Called by the engine after each event; never blocks and never renders."""
        self.events += 1
        if not self._queued:
            self._queued = True
            self.post_message(EngineChanged())

    def on_engine_changed(self, _message: EngineChanged) -> None:
        """Render now, or once the refresh interval has passed."""
        wait = self._last_frame + self._interval - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self.refresh_now)
        else:
            self.refresh_now()

    def refresh_now(self) -> None:
        """Take a snapshot and render the active screen."""
        self._queued = False
        self._last_frame = time.monotonic()
        self.latest = self.source.snapshot()
        if not self.is_running or not self.screen_stack:  # a timer that fires while the app closes
            return
        screen = self.screen
        if isinstance(screen, DashboardScreen) and screen.is_mounted:
            screen.render_snapshot(self.latest)
        self.frames += 1

    def log_line(self, line: str) -> None:
        """Add a line to the Logs screen (commands and their outcomes, engine notes)."""
        now = self.latest.status.now if self.latest is not None else None
        self.local_log.append(f"{now:%m-%d %H:%M} {line}" if now is not None else line)

    # -- commands ----------------------------------------------------------------------------------

    async def run_command(self, text: str) -> Reply | None:
        """Run one ops command as the local operator; tell the person what happened."""
        commands = self.source.commands
        if commands is None:
            self.notify(
                "read-only: this dashboard reads a ledger; use chat-ops or `gekko demo` to command",
                severity="warning",
            )
            return None
        reply = await commands.run("tui", USER_ID, text)
        self.log_line(f"> {text} → {reply.title}")
        self.notify(reply.title, severity="information" if reply.ok else "error")
        self.refresh_now()
        return reply

    def confirm(self, question: str, command: str, *, danger: bool = False) -> None:
        """Ask first; run ``command`` only on an explicit yes."""
        if isinstance(self.screen, ConfirmScreen):
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.run_command(command)
            else:
                self.log_line(f"{command}: not confirmed")

        self.push_screen(ConfirmScreen(question, danger=danger), answered)

    def action_halt(self) -> None:
        """Kill switch: stop all new orders (after a confirmation)."""
        self.confirm("Halt trading? No new orders will be sent until you resume.", "halt", danger=True)

    def action_resume(self) -> None:
        """Back to ACTIVE (after a confirmation)."""
        self.confirm("Resume trading? The brain's orders will be sent again.", "resume")

    def _selected(self, mode: str) -> str | None:
        screen = self.screen
        if not isinstance(screen, DashboardScreen) or self.current_mode != mode:
            self.switch_mode(mode)
            self.notify(f"pick a row on the {mode} screen first", severity="warning")
            return None
        ident = screen.selected_id()
        if ident is None:
            self.notify("nothing selected", severity="warning")
        return ident

    def action_approve(self) -> None:
        """Approve the selected waiting order (after a confirmation)."""
        ident = self._selected("approvals")
        if ident is not None:
            self.confirm(f"Approve {ident}? Risk checks it again before it is sent.", f"approve {ident}")

    def action_reject(self) -> None:
        """Reject the selected waiting order (after a confirmation)."""
        ident = self._selected("approvals")
        if ident is not None:
            self.confirm(
                f"Reject {ident}? It will not be sent.", f"reject {ident} rejected in tui", danger=True
            )

    def action_cancel_order(self) -> None:
        """Cancel the selected open order (after a confirmation)."""
        ident = self._selected("positions")
        if ident is not None:
            self.confirm(f"Cancel order {ident}?", f"cancel {ident}", danger=True)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Palette entries: every screen and every action, besides Textual's own."""
        yield from super().get_system_commands(screen)
        for key, (mode, label) in SCREENS_BY_KEY.items():
            yield SystemCommand(
                f"Show {label}", f"switch to the {label} screen (key {key})", self._switcher(mode)
            )
        yield SystemCommand("Halt trading", "kill switch: no new orders (key h)", self.action_halt)
        yield SystemCommand("Resume trading", "back to ACTIVE (key u)", self.action_resume)
        yield SystemCommand("Approve selected order", "on the Approvals screen (key a)", self.action_approve)
        yield SystemCommand("Reject selected order", "on the Approvals screen (key x)", self.action_reject)
        yield SystemCommand(
            "Cancel selected order", "on the Positions screen (key c)", self.action_cancel_order
        )
        yield SystemCommand("Explain selected decision", "on the Agent screen (enter)", self.action_explain)

    def _switcher(self, mode: str) -> Callable[[], object]:
        return lambda: self.switch_mode(mode)

    def action_explain(self) -> None:
        """Drill into the selected decision on the Agent screen."""
        ident = self._selected("agent")
        if ident is not None and isinstance(self.screen, AgentScreen):
            self.screen.explain(ident)
