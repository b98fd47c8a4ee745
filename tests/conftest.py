"""Suite-wide fixtures. The network guard is installed for the whole session: any test that
opens a connection to a non-loopback address fails."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gekko_agent.testing.netguard import block_non_loopback

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    with block_non_loopback():
        yield
