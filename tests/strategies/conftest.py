"""Fixtures for the strategy tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from gekko_agent.agent.strategy import Strategy, load_strategy
from gekko_agent.config import GekkoConfig, load_config
from tests.strategies.helpers import Book

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def book() -> Book:
    """An empty position book."""
    return Book()


@pytest.fixture
def strategy() -> Callable[..., Strategy]:
    """Load a shipped strategy by name with params, on the given instruments."""

    def build(name: str, instruments: Sequence[str] = ("X/USD@paper",), **params: Any) -> Strategy:
        return load_strategy(name, instruments, params, search=ROOT / "no-user-strategies")

    return build


@pytest.fixture(scope="session")
def base_config() -> GekkoConfig:
    """The shipped agent.yaml."""
    return load_config(ROOT / "agent.yaml")
