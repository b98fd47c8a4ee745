"""SVG snapshots of every screen on fixed data (pytest-textual-snapshot): dark (the default) and light
themes, the 80x24 layout and the halt confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from gekko_agent.tui.app import SCREENS_BY_KEY, GekkoApp
from tests.tui.conftest import FixedSource, fixed_snapshot


@pytest.mark.parametrize("key", sorted(SCREENS_BY_KEY))
def test_screen_matches_snapshot(snap_compare: Any, key: str) -> None:
    app = GekkoApp(FixedSource())
    press = [key, "enter"] if SCREENS_BY_KEY[key][0] == "agent" else [key]
    assert snap_compare(app, press=press, terminal_size=(120, 40))


def test_no_model_panel_matches_snapshot(snap_compare: Any) -> None:
    app = GekkoApp(FixedSource(fixed_snapshot(forecasts=False)))
    assert snap_compare(app, press=["6"], terminal_size=(120, 40))


def test_halted_overview_at_80x24_matches_snapshot(snap_compare: Any) -> None:
    app = GekkoApp(FixedSource(fixed_snapshot(state="halted")))
    assert snap_compare(app, terminal_size=(80, 24))


async def _light(pilot: Pilot[None]) -> None:
    pilot.app.theme = "textual-light"


@pytest.mark.parametrize("key", ["1", "3", "4"])
def test_light_theme_screen_matches_snapshot(snap_compare: Any, key: str) -> None:
    app = GekkoApp(FixedSource())
    assert snap_compare(app, press=[key], terminal_size=(120, 40), run_before=_light)


def test_halt_confirmation_matches_snapshot(snap_compare: Any) -> None:
    app = GekkoApp(FixedSource())
    assert snap_compare(app, press=["h"], terminal_size=(80, 24))
