"""The dashboard in an 80x24 terminal, and redraw coalescing under a burst of engine events."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from gekko_agent.tui.app import SCREENS_BY_KEY, GekkoApp
from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.widgets import DashboardFooter
from tests.tui.conftest import FixedSource

SIZE = (80, 24)
PANELS = {
    "overview": ("#equity-chart", "#drawdown-chart", "#facts-panel"),
    "positions": ("#positions-table", "#orders-table"),
    "risk": ("#limits-table", "#var-panel", "#breakers-panel", "#denials-table"),
    "agent": ("#decisions-table", "#detail-pane"),
    "approvals": ("#approvals-table", "#approval-detail"),
    "forecasts": ("#forecasts-body",),
    "logs": ("#log",),
}


def _shown_at(screen: DashboardScreen, widget: Widget, x: int, y: int) -> bool:
    """True when the cell at (x, y) belongs to ``widget`` (or a child): nothing covers it."""
    top, _region = screen.get_widget_at(x, y)
    return widget in top.ancestors_with_self


def _check_visible(
    screen: DashboardScreen, selector: str, below: int, min_width: int, min_height: int
) -> None:
    widget = screen.query_one(selector)
    region = widget.region
    assert region.width >= min_width and region.height >= min_height, f"{selector} squeezed to {region}"
    assert Region(0, 0, *SIZE).contains_region(region), f"{selector} at {region} leaves the screen"
    assert region.bottom <= below, f"{selector} at {region} runs under the footer"
    for x, y in ((region.x, region.y), (region.right - 1, region.bottom - 1)):
        assert _shown_at(screen, widget, x, y), f"{selector} is covered at ({x}, {y})"


@pytest.mark.parametrize("key", sorted(SCREENS_BY_KEY))
async def test_every_screen_fits_80x24_with_halt_in_footer(key: str) -> None:
    mode = SCREENS_BY_KEY[key][0]
    app = GekkoApp(FixedSource())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DashboardScreen) and app.current_mode == mode
        footer = screen.query_one(DashboardFooter)
        assert footer.region == Region(0, SIZE[1] - 1, SIZE[0], 1)
        _check_visible(screen, "#state", footer.region.y, len("ACTIVE") + 2, 1)
        _check_visible(screen, "#screen-name", footer.region.y, len(SCREENS_BY_KEY[key][1]), 1)
        _check_visible(screen, "#facts", footer.region.y, 30, 1)
        for selector in PANELS[mode]:
            _check_visible(screen, selector, footer.region.y, 20, 3)  # a border and a row at least
        keys = {k.key: k for k in footer.query(FooterKey)}
        for needed, label in (("h", "Halt"), ("u", "Resume")):
            shown = keys[needed]
            assert label in str(shown.render())
            assert Region(0, 0, *SIZE).contains_region(shown.region)
            assert _shown_at(screen, shown, shown.region.x, shown.region.y)
            assert _shown_at(screen, shown, shown.region.right - 1, shown.region.y)


async def test_burst_of_events_is_coalesced_into_few_frames() -> None:
    source = FixedSource(refresh_hz=10)
    app = GekkoApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        frames, calls = app.frames, source.calls
        for _ in range(1000):
            app.engine_changed()
        await pilot.pause(0.25)
        assert app.events == 1000
        assert 1 <= app.frames - frames <= 4
        assert source.calls - calls == app.frames - frames
