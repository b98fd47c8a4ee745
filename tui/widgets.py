"""Widgets the screens share: a block chart for series, usage bars, a state badge and the confirmation.

The chart is written here rather than taken from Textual's ``Sparkline`` because the overview needs
several rows of resolution (eighth blocks), an inverted mode for drawdowns and a title that states the
range; it renders only when its data or size changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Label, Static

__all__ = ["BlockChart", "ConfirmScreen", "DashboardFooter", "StateBadge", "resample", "usage_bar"]

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_TOP_EIGHTHS = " ▔▔▀▀▀▀██"  # top-anchored partial blocks (coarser: the terminal has only halves)
_STATE_CLASS = {"active": "-active", "reducing": "-reducing", "halted": "-halted"}


def resample(values: Sequence[float], width: int) -> list[float]:
    """Thin or stretch ``values`` to ``width`` columns (the last value of each bucket, so ends match)."""
    if width <= 0 or not values:
        return []
    n = len(values)
    if n <= width:
        return list(values)
    return [values[min(n - 1, ((i + 1) * n) // width - 1)] for i in range(width)]


def usage_bar(share: float | None, width: int = 20) -> Text:
    """A horizontal bar for a limit's usage: green, yellow from 70 %, red from 90 %."""
    if share is None:
        return Text("·" * width, style="dim")
    clipped = max(0.0, min(share, 1.0))
    eighths = round(clipped * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    style = "green" if share < 0.7 else ("yellow" if share < 0.9 else "bold red")
    text = Text(bar.ljust(width, "·"), style=style)
    text.stylize("dim", len(bar))
    return text


class BlockChart(Widget):
    """A multi-row column chart of a numeric series, resampled to the widget's width.

    Args:
        title: shown in the border, followed by the latest value and the range.
        inverted: draw columns hanging from the top (drawdowns: deeper is lower).
        fmt: format of the values in the title.
    """

    DEFAULT_CSS = """
    BlockChart {
        height: 1fr;
        min-height: 3;
        border: round $primary 50%;
        color: $success;
        padding: 0 1;
    }
    BlockChart.-inverted {
        color: $error;
    }
    """

    def __init__(
        self, title: str, *, inverted: bool = False, fmt: str = "{:,.2f}", id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="-inverted" if inverted else "")
        self._title = title
        self._inverted = inverted
        self._fmt = fmt
        self._values: list[float] = []
        self.border_title = title

    @property
    def values(self) -> list[float]:
        """The series currently plotted (before resampling)."""
        return self._values

    def plot(self, values: Sequence[float]) -> None:
        """Replace the series; redraws only when it changed."""
        new = list(values)
        if new == self._values:
            return
        self._values = new
        if new:
            lo, hi, last = min(new), max(new), new[-1]
            f = self._fmt
            self.border_title = f"{self._title} {f.format(last)}"
            self.border_subtitle = f"{f.format(lo)} … {f.format(hi)}"
        else:
            self.border_title, self.border_subtitle = self._title, "no data yet"
        self.refresh()

    def render(self) -> Text:
        """Rows of eighth blocks, top row first."""
        width, height = self.content_size.width, self.content_size.height
        cols = resample(self._values, width)
        if not cols or height <= 0:
            return Text("waiting for data…", style="dim")
        lo, hi = min(cols), max(cols)
        span = hi - lo
        levels = height * 8
        if self._inverted:
            depth = [round((v - lo) / span * levels) if span else 0 for v in cols]
        else:
            depth = [round((v - lo) / span * (levels - 1)) + 1 if span else levels // 2 for v in cols]
        rows: list[str] = []
        for row in range(height):
            line = []
            for d in depth:
                if self._inverted:
                    fill = min(8, max(0, d - row * 8))
                    line.append(_TOP_EIGHTHS[fill])
                else:
                    fill = min(8, max(0, d - (height - 1 - row) * 8))
                    line.append(_EIGHTHS[fill])
            rows.append("".join(line))
        return Text("\n".join(rows))


class DashboardFooter(Footer):
    """Textual's footer, recomposed only when the keys it shows change; it shows them exactly as
    :class:`~textual.widgets.Footer` does.

    ``Footer`` rebuilds its dozen key widgets whenever the screen's bindings are refreshed, which
    Textual does on every screen switch even when nothing changed; and each new key ``data_bind``s the
    footer's ``compact`` reactive, whose watchers Textual drops only when ``compact`` changes (never,
    here). So every switch mounted a dozen widgets and leaked the old ones with their style and line
    caches: the heap grew by thousands of objects a switch and the garbage collector's full passes
    grew with it, to pauses of 200 ms and more in the middle of a key press. This footer skips the
    rebuild when the active bindings are the ones it shows, and drops the watchers of removed keys.
    """

    _shown: object = None

    def _signature(self) -> object:
        """What the footer's content depends on (compared, never hashed)."""
        bindings = self.screen.active_bindings
        return (
            self.show_command_palette,
            [
                (key, binding, enabled, tooltip)
                for key, (_node, binding, enabled, tooltip) in bindings.items()
            ],
        )

    def compose(self) -> ComposeResult:
        """Footer's keys; remembers which bindings they show."""
        self._shown = self._signature() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Recompose only when the keys to show differ from those shown."""
        if (
            self._shown is not None
            and self.is_attached
            and screen is self.screen
            and self._signature() == self._shown
        ):
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        """Rebuild the keys, then forget the watchers of the keys just removed."""
        await super().recompose()
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for name, entries in watchers.items():
            watchers[name] = [
                (node, callback)
                for node, callback in entries
                if not (isinstance(node, Widget) and (node._closing or node._closed))
            ]


class StateBadge(Static):
    """The trading state in a coloured box; its class follows the state."""

    DEFAULT_CSS = """
    StateBadge {
        width: auto;
        padding: 0 1;
        text-style: bold;
        background: $success;
        color: $text;
    }
    StateBadge.-reducing { background: $warning; }
    StateBadge.-halted { background: $error; }
    """

    def show(self, state: str) -> None:
        """Display ``state`` (``active``, ``reducing`` or ``halted``)."""
        self.update(state.upper())
        for name, cls in _STATE_CLASS.items():
            self.set_class(name == state, cls)


class ConfirmScreen(ModalScreen[bool]):
    """Asks a yes/no question; dismisses with True only for an explicit yes.

    Args:
        question: what is about to happen, in one or two lines.
        danger: style the yes button as destructive.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60;
        max-width: 95%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen Label { width: 100%; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align: center middle; }
    ConfirmScreen Button { margin: 0 1; }
    """

    def __init__(self, question: str, *, danger: bool = False) -> None:
        super().__init__()
        self.question = question
        self.danger = danger

    def compose(self) -> ComposeResult:
        """Question and two buttons."""
        with Vertical():
            yield Label(self.question, id="question")
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="error" if self.danger else "primary")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """A key answers."""
        self.dismiss(yes)
