"""The quantile network is monotone by construction; the pinball loss and device choice behave."""

from __future__ import annotations

import pytest
import torch

from gekko_agent.errors import InvalidInput
from gekko_agent.forecast import ModelSpec, QuantileMLP, select_device
from gekko_agent.forecast.model import pinball_loss, seed_everything


def test_quantile_mlp_outputs_are_non_decreasing_for_any_input() -> None:
    seed_everything(1)
    model = QuantileMLP(ModelSpec(n_features=6, hidden=8)).eval()
    with torch.no_grad():
        for p in model.head.parameters():
            p.normal_(0.0, 5.0)  # wild weights: monotonicity must not depend on training
        out = model(torch.randn(512, 6) * 10)
    assert out.shape == (512, 5)
    assert bool((out[:, 1:] >= out[:, :-1]).all())


def test_pinball_loss_matches_the_definition() -> None:
    levels = torch.tensor([0.1, 0.5, 0.9])
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    # outcome 1 above every quantile: tau * 1 each -> mean(0.1, 0.5, 0.9) = 0.5
    assert float(pinball_loss(pred, torch.tensor([1.0]), levels)) == pytest.approx(0.5)
    # outcome -1 below: (1 - tau) * 1 each -> mean(0.9, 0.5, 0.1) = 0.5
    assert float(pinball_loss(pred, torch.tensor([-1.0]), levels)) == pytest.approx(0.5)
    assert float(pinball_loss(torch.tensor([[2.0, 2.0, 2.0]]), torch.tensor([2.0]), levels)) == 0.0


@pytest.mark.parametrize(
    ("quantiles", "match"), [((0.5, 0.25), "increasing"), ((0.0, 0.5), "within"), ((), "increasing")]
)
def test_model_spec_with_bad_quantiles_raises(quantiles: tuple[float, ...], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        ModelSpec(n_features=3, quantiles=quantiles)


def test_model_spec_round_trips_through_json() -> None:
    spec = ModelSpec(n_features=4, quantiles=(0.1, 0.9), hidden=12, layers=3, dropout=0.0)
    assert ModelSpec.from_json(spec.to_json()) == spec


def test_select_device_cpu_override_and_auto_fallback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="gekko_agent.forecast")
    assert select_device("cpu").type == "cpu"
    assert "forecast device: cpu (requested)" in caplog.text
    expected = "cuda" if torch.cuda.is_available() else None
    chosen = select_device("auto").type
    assert chosen == expected or (expected is None and chosen in {"mps", "cpu"})


def test_select_device_unknown_name_raises() -> None:
    with pytest.raises(InvalidInput, match="unknown device"):
        select_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_select_device_cuda_without_cuda_raises() -> None:
    with pytest.raises(InvalidInput, match="no CUDA device"):
        select_device("cuda")
