"""A model registry on disk: named models, numbered versions, weights beside their metadata.

Layout (default root ``var/models/``)::

    var/models/<name>/v1/weights.pt     torch state_dict (loaded with weights_only=True)
    var/models/<name>/v1/meta.json      ModelMeta: features, horizon, quantiles, data ranges,
                                        dataset, scaling, metrics, git commit, times, torch version
    var/models/<name>/v2/...

Versions only grow; saving never overwrites. The newest version is the highest number.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.forecast.features import FEATURE_NAMES
from gekko_agent.forecast.metrics import Score
from gekko_agent.forecast.model import ModelSpec, QuantileMLP
from gekko_agent.forecast.training import TrainResult
from gekko_agent.market import format_ts

__all__ = ["DEFAULT_MODEL", "DEFAULT_REGISTRY", "ModelMeta", "ModelRegistry", "git_commit"]

DEFAULT_REGISTRY = Path("var/models")
"""Where models are stored unless told otherwise (relative to the working directory)."""

DEFAULT_MODEL = "quantile-mlp"
"""Name ``gekko forecast train`` saves under, and the ``ml_forecast`` strategy loads, by default."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^v(\d+)$")


def git_commit(cwd: Path | None = None) -> str | None:
    """``git rev-parse HEAD`` of ``cwd`` (default: this package's checkout), or None outside git."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [git, "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


@dataclass(frozen=True, slots=True)
class ModelMeta:
    """Everything stored beside a model's weights.

    Attributes:
        name: model name.
        version: version number (1, 2, ...).
        created_at: ISO 8601 time of saving (UTC).
        dataset: bundled dataset name (or a CSV path) the model was trained on.
        instrument_id: instrument of that data.
        interval: bar length in seconds the model expects.
        horizon: bars ahead the forecast looks.
        quantiles: probability levels of the outputs.
        features: feature names, in input order.
        spec: network shape (:class:`ModelSpec` as JSON).
        feature_mean: training means used to standardize inputs.
        feature_std: training standard deviations used to standardize inputs.
        target_scale: multiplier from network output to log return.
        empirical_quantiles: unconditional training quantiles (the ``empirical`` baseline).
        ranges: ``train``/``val``/``test`` → ``[first_ns, last_ns]`` open times of their rows.
        metrics: ``test`` → list of :class:`Score` JSON (model first, then baselines).
        training: seed, epochs run, best epoch, device, seconds, settings.
        git_commit: commit of the code that trained it, when known.
        torch_version: torch version that trained it.
    """

    name: str
    version: int
    created_at: str
    dataset: str
    instrument_id: str
    interval: int
    horizon: int
    quantiles: tuple[float, ...]
    features: tuple[str, ...]
    spec: dict[str, Any]
    feature_mean: list[float]
    feature_std: list[float]
    target_scale: float
    empirical_quantiles: list[float]
    ranges: dict[str, list[int]]
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    git_commit: str | None = None
    torch_version: str = ""

    @property
    def horizon_seconds(self) -> int:
        """How far ahead the forecast looks, in seconds."""
        return self.horizon * self.interval

    def test_scores(self) -> list[Score]:
        """The held-out scores stored at training time."""
        return [Score.from_json(s) for s in self.metrics.get("test", [])]

    def range_text(self, part: str) -> str:
        """``2023-03-01 04:05 → 2023-03-15 16:00`` for ``train``, ``val`` or ``test``."""
        lo, hi = self.ranges[part]
        return f"{format_ts(lo)} → {format_ts(hi)}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["quantiles"] = list(self.quantiles)
        data["features"] = list(self.features)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelMeta:
        """Inverse of :meth:`to_json`."""
        fields = dict(data)
        fields["quantiles"] = tuple(float(q) for q in data["quantiles"])
        fields["features"] = tuple(str(f) for f in data["features"])
        return cls(**fields)


class ModelRegistry:
    """Saves and loads versioned models under ``root``.

    Args:
        root: the registry directory (created on first save).
    """

    def __init__(self, root: Path | str = DEFAULT_REGISTRY) -> None:
        self.root = Path(root).expanduser()

    @staticmethod
    def _check_name(name: str) -> str:
        if not _NAME.match(name):
            raise InvalidInput(f"model name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
        return name

    def names(self) -> list[str]:
        """Names of the stored models, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def versions(self, name: str) -> list[int]:
        """Version numbers of ``name``, ascending (empty when none)."""
        folder = self.root / self._check_name(name)
        if not folder.is_dir():
            return []
        found = (_VERSION.match(p.name) for p in folder.iterdir() if (p / "meta.json").is_file())
        return sorted(int(m.group(1)) for m in found if m)

    def _resolve(self, name: str, version: int | None) -> Path:
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise DataNotFound(
                f"no model {name!r} in {self.root} (models there: {known}); "
                f"train one with `gekko forecast train --name {name}`"
            )
        chosen = versions[-1] if version is None else version
        if chosen not in versions:
            raise DataNotFound(f"model {name!r} has no version {chosen} (versions: {versions})")
        return self.root / name / f"v{chosen}"

    def meta(self, name: str, version: int | None = None) -> ModelMeta:
        """Metadata of ``name`` at ``version`` (default: the latest).

        Raises:
            DataNotFound: no such model or version.
        """
        path = self._resolve(name, version) / "meta.json"
        return ModelMeta.from_json(json.loads(path.read_text(encoding="utf-8")))

    def load(self, name: str, version: int | None = None) -> tuple[QuantileMLP, ModelMeta]:
        """The network (CPU, eval mode) and metadata of ``name`` at ``version`` (default: latest).

        Raises:
            DataNotFound: no such model or version.
        """
        folder = self._resolve(name, version)
        meta = self.meta(name, int(folder.name[1:]))
        model = QuantileMLP(ModelSpec.from_json(meta.spec))
        state = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return model.eval(), meta

    def save(
        self, name: str, result: TrainResult, *, dataset: str, instrument_id: str, interval: int
    ) -> ModelMeta:
        """Store ``result`` as the next version of ``name`` and return its metadata."""
        folder = self.root / self._check_name(name)
        version = (self.versions(name) or [0])[-1] + 1
        split = result.split
        meta = ModelMeta(
            name=name,
            version=version,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            dataset=dataset,
            instrument_id=instrument_id,
            interval=interval,
            horizon=result.config.horizon,
            quantiles=result.config.quantiles,
            features=FEATURE_NAMES,
            spec=result.spec.to_json(),
            feature_mean=[float(v) for v in result.feature_mean],
            feature_std=[float(v) for v in result.feature_std],
            target_scale=result.target_scale,
            empirical_quantiles=[float(v) for v in result.empirical],
            ranges={
                part: [int(f.ts[0]), int(f.ts[-1])]
                for part, f in (("train", split.train), ("val", split.val), ("test", split.test))
            },
            metrics={"test": [s.to_json() for s in result.scores]},
            training={
                "seed": result.config.seed,
                "epochs_run": len(result.history),
                "best_epoch": result.best_epoch,
                "device": result.device,
                "seconds": round(result.seconds, 3),
                "config": {k: v for k, v in asdict(result.config).items() if k != "quantiles"},
            },
            git_commit=git_commit(),
            torch_version=str(torch.__version__),
        )
        target = folder / f"v{version}"
        staging = folder / f".v{version}.tmp"
        shutil.rmtree(staging, ignore_errors=True)  # left by a save that crashed half-way
        staging.mkdir(parents=True)
        torch.save(result.model.state_dict(), staging / "weights.pt")
        (staging / "meta.json").write_text(json.dumps(meta.to_json(), indent=2) + "\n", encoding="utf-8")
        staging.rename(target)
        return meta
