"""The dashboard in an 80x24 terminal, and redraw coalescing under a burst of engine events."""

from __future__ import annotations

from gekko_agent.tui.app import SCREENS_BY_KEY, GekkoApp
from gekko_agent.tui.base import DashboardScreen
from tests.tui.conftest import FixedSource


async def test_every_screen_fits_80x24_with_halt_in_footer() -> None:
    app = GekkoApp(FixedSource())
    async with app.run_test(size=(80, 24)) as pilot:
        for key in SCREENS_BY_KEY:
            await pilot.press(key)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            assert screen.size == (80, 24)
            shown = {key for key, active in screen.active_bindings.items() if active.binding.show}
            assert {"h", "u"} <= shown


async def test_burst_of_events_is_coalesced_into_few_frames() -> None:
    source = FixedSource(refresh_hz=10)
    app = GekkoApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        frames, calls = app.frames, source.calls
        for _ in range(1000):
            app.engine_changed()
        await pilot.pause(0.25)
        assert app.events == 1000
        assert 1 <= app.frames - frames <= 4
        assert source.calls - calls == app.frames - frames
