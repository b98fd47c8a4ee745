"""Transport-neutral replies. Commands return these; each medium (terminal, Slack, Telegram, TUI)
renders them its own way and never reaches into the engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from gekko_agent.text import one_line

__all__ = ["Button", "Reply", "Table"]


@dataclass(frozen=True, slots=True)
class Table:
    """A small table that fits a phone: few columns, short cells."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_text(self) -> str:
        """Monospace rendering with aligned columns."""
        cols = [self.headers, *self.rows]
        widths = [max(len(r[i]) for r in cols) for i in range(len(self.headers))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cols]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Button:
    """An action a medium may offer as a button; ``command`` is the text command it runs.

    Attributes:
        label: what the button says.
        command: the command line it sends (e.g. ``approve ap-123``).
        confirm: ask "are you sure?" before running it.
        danger: style it as destructive.
    """

    label: str
    command: str
    confirm: bool = False
    danger: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers.

    Attributes:
        title: one line headline.
        lines: short text lines.
        table: optional table.
        buttons: optional actions.
        ok: False for refusals and errors (media may colour them).
    """

    title: str
    lines: tuple[str, ...] = ()
    table: Table | None = None
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    ok: bool = True

    def __post_init__(self) -> None:
        if not self.title.isprintable():  # a typed command echoed back must not break the headline
            object.__setattr__(self, "title", one_line(self.title))

    def to_text(self) -> str:
        """Plain text rendering (terminal, logs, tests)."""
        parts = [self.title, *self.lines]
        if self.table is not None and self.table.rows:
            parts.append(self.table.to_text())
        if self.buttons:
            parts.append("actions: " + " | ".join(b.command for b in self.buttons))
        return "\n".join(parts)
