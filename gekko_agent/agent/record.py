"""Record and replay model exchanges, keyed by request hash, so an agent run reruns without a model.

``--record DIR`` wraps the real provider in :class:`RecordingLlm`: every request and its answer are
written to ``DIR/<hash>.json``. ``--replay DIR`` uses :class:`ReplayLlm` instead of any provider: it
answers each request from the file of the same hash, and a request it has never seen raises
:class:`~gekko_agent.agent.llm.ReplayMiss` naming the hash and the directory (never a silent
fallback to a live model). The hash covers the messages and tool schemas
(:func:`~gekko_agent.agent.llm.request_hash`), so a replay matches as long as the observation, the
prompt templates and the tools are the same. Registered secrets are masked in what is written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gekko_agent.agent.llm import LlmPort, LlmResponse, Message, ReplayMiss, request_hash
from gekko_agent.secrets import scrub_data

__all__ = ["RecordingLlm", "ReplayLlm", "exchange_path"]


def exchange_path(directory: Path, key: str) -> Path:
    """Where the exchange with request hash ``key`` lives."""
    return directory / f"{key}.json"


class RecordingLlm:
    """Forwards to ``inner`` and writes each exchange to ``directory`` (atomic, one file per request).

    Args:
        inner: the real provider.
        directory: created when missing.
    """

    def __init__(self, inner: LlmPort, directory: Path) -> None:
        self.inner = inner
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.recorded = 0

    @property
    def model(self) -> str:
        """The inner provider's model."""
        return self.inner.model

    async def request(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> LlmResponse:
        """Ask the inner provider and keep the exchange."""
        resp = await self.inner.request(messages, tools)
        key = request_hash(messages, tools)
        doc = {
            "hash": key,
            "model": self.inner.model,
            "request": {"messages": list(messages), "tools": list(tools)},
            "response": resp.to_json(),
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".rec-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(scrub_data(doc), fh, ensure_ascii=False, sort_keys=True, indent=1, default=str)
        os.replace(tmp, exchange_path(self.directory, key))
        self.recorded += 1
        return resp


class ReplayLlm:
    """Answers from recorded exchanges only.

    Args:
        directory: a directory written by :class:`RecordingLlm`.
        model: the model name to report (default: the one recorded first, else ``replay``).

    Raises:
        ReplayMiss: the directory does not exist.
    """

    def __init__(self, directory: Path, model: str | None = None) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ReplayMiss(f"replay directory {self.directory} does not exist")
        self._model = model or self._first_model() or "replay"
        self.replayed = 0

    def _first_model(self) -> str | None:
        for path in sorted(self.directory.glob("*.json")):
            try:
                return str(json.loads(path.read_text(encoding="utf-8")).get("model") or "") or None
            except (OSError, ValueError):
                continue
        return None

    @property
    def model(self) -> str:
        """The recorded model name."""
        return self._model

    async def request(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> LlmResponse:
        """The recorded answer to this exact request.

        Raises:
            ReplayMiss: nothing was recorded for it.
        """
        key = request_hash(messages, tools)
        path = exchange_path(self.directory, key)
        if not path.is_file():
            raise ReplayMiss(
                f"no recorded model answer for request {key[:16]} in {self.directory} "
                f"({len(messages)} messages); record it first with --record"
            )
        self.replayed += 1
        return LlmResponse.from_json(json.loads(path.read_text(encoding="utf-8"))["response"])
