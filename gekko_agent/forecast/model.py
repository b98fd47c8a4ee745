"""The torch side of forecasting: the quantile network, the pinball loss, seeds and device choice.

The network maps a standardized feature row to ``len(quantiles)`` values of the standardized forward
return. Monotonicity is built in rather than hoped for: the head emits the lowest quantile and
``Q - 1`` non-negative gaps (``softplus``), and the quantiles are their cumulative sum, so
``q_0.05 <= q_0.25 <= ... <= q_0.95`` for every input.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

from gekko_agent.errors import InvalidInput

__all__ = [
    "DEFAULT_QUANTILES",
    "DEVICES",
    "ModelSpec",
    "QuantileMLP",
    "as_levels",
    "pinball_loss",
    "predict_batches",
    "seed_everything",
    "select_device",
]

log = logging.getLogger(__name__)

DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Probability levels the model predicts unless told otherwise."""

DEVICES = ("auto", "cpu", "cuda", "mps")
"""Values ``--device`` accepts."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Shape of a :class:`QuantileMLP`; stored in the registry so the weights can be rebuilt.

    Attributes:
        n_features: width of the input row.
        quantiles: probability levels of the outputs, strictly increasing in (0, 1).
        hidden: units per hidden layer.
        layers: number of hidden layers.
        dropout: dropout probability after each hidden layer (training only).
    """

    n_features: int
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1

    def __post_init__(self) -> None:
        qs = self.quantiles
        if not qs or any(not 0 < q < 1 for q in qs) or any(b <= a for a, b in itertools.pairwise(qs)):
            raise InvalidInput(f"quantiles must be strictly increasing within (0, 1), got {qs}")
        if self.n_features < 1 or self.hidden < 1 or self.layers < 1:
            raise InvalidInput("n_features, hidden and layers must all be at least 1")
        if not 0 <= self.dropout < 1:
            raise InvalidInput(f"dropout must be within [0, 1), got {self.dropout}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for tuples)."""
        data = asdict(self)
        data["quantiles"] = list(self.quantiles)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSpec:
        """Inverse of :meth:`to_json`."""
        return cls(
            n_features=int(data["n_features"]),
            quantiles=tuple(float(q) for q in data["quantiles"]),
            hidden=int(data["hidden"]),
            layers=int(data["layers"]),
            dropout=float(data["dropout"]),
        )


class QuantileMLP(nn.Module):
    """A small MLP whose outputs are monotone quantiles (cumulative softplus gaps).

    Args:
        spec: the network's shape.
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        blocks: list[nn.Module] = []
        width = spec.n_features
        for _ in range(spec.layers):
            blocks += [nn.Linear(width, spec.hidden), nn.GELU(), nn.Dropout(spec.dropout)]
            width = spec.hidden
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, len(spec.quantiles))
        self.register_buffer("levels", torch.tensor(spec.quantiles, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        """``batch × features`` → ``batch × quantiles``, non-decreasing along the last axis."""
        raw = self.head(self.body(x))
        base = raw[:, :1]
        gaps = functional.softplus(raw[:, 1:])
        return torch.cat((base, base + torch.cumsum(gaps, dim=1)), dim=1)


def pinball_loss(pred: Tensor, target: Tensor, levels: Tensor) -> Tensor:
    """Mean pinball (quantile) loss of ``pred`` (``batch × Q``) against ``target`` (``batch``).

    Args:
        pred: predicted quantiles.
        target: realised values.
        levels: the ``Q`` probability levels.

    Returns:
        A scalar: the mean over rows and levels of ``max(tau * e, (tau - 1) * e)`` with
        ``e = target - pred``.
    """
    err = target.unsqueeze(1) - pred
    return torch.maximum(levels * err, (levels - 1.0) * err).mean()


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so a CPU training run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed)  # legacy global state some libraries still read
    torch.manual_seed(seed)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def select_device(requested: str = "auto") -> torch.device:
    """Pick the device: ``auto`` tries CUDA, then Apple MPS, then CPU; anything else is an override.

    The choice and the reason are logged at INFO.

    Raises:
        InvalidInput: an unknown name, or a device this machine does not have.
    """
    name = requested.strip().lower()
    if name not in DEVICES:
        raise InvalidInput(f"unknown device {requested!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            name, why = "cuda", f"CUDA available ({torch.cuda.get_device_name(0)})"
        elif _mps_available():
            name, why = "mps", "Apple MPS available"
        else:
            name, why = "cpu", "no CUDA or MPS device"
    else:
        why = "requested"
        if name == "cuda" and not torch.cuda.is_available():
            raise InvalidInput("--device cuda: no CUDA device is available on this machine")
        if name == "mps" and not _mps_available():
            raise InvalidInput("--device mps: Apple MPS is not available on this machine")
    log.info("forecast device: %s (%s)", name, why)
    return torch.device(name)


def predict_batches(
    model: QuantileMLP, x: np.ndarray[Any, Any], device: torch.device
) -> np.ndarray[Any, Any]:
    """Run ``model`` in eval mode over a standardized matrix; returns a float64 ``rows × Q`` array."""
    model.eval()
    with torch.inference_mode():
        out = model(torch.as_tensor(x, dtype=torch.float32, device=device))
    return np.asarray(out.detach().cpu().numpy(), dtype=np.float64)


def as_levels(quantiles: Sequence[float], device: torch.device) -> Tensor:
    """The probability levels as a float32 tensor on ``device``."""
    return torch.tensor(list(quantiles), dtype=torch.float32, device=device)
