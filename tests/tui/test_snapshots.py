"""SVG snapshots of every screen on fixed data (pytest-textual-snapshot), and the 80x24 layout."""

from __future__ import annotations

from typing import Any

import pytest

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


def test_halt_confirmation_matches_snapshot(snap_compare: Any) -> None:
    app = GekkoApp(FixedSource())
    assert snap_compare(app, press=["h"], terminal_size=(80, 24))
