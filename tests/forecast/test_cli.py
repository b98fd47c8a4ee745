"""``gekko forecast train | evaluate | predict`` end to end on the bundled data (tiny epochs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gekko_agent.cli.forecast import app
from gekko_agent.errors import DataNotFound, InvalidInput

runner = CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the market cache and the default registry land here
    return tmp_path


def test_train_evaluate_predict_round_trip(in_tmp: Path) -> None:
    result = runner.invoke(app, ["train", "--epochs", "2", "--seed", "1", "--name", "cli", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "held-out test" in result.output
    assert "empirical" in result.output
    assert (in_tmp / "var" / "models" / "cli" / "v1" / "weights.pt").is_file()

    result = runner.invoke(app, ["evaluate", "--name", "cli", "--version", "1"])
    assert result.exit_code == 0, result.output
    for name in ("model", "zero", "last", "empirical"):
        assert name in result.output

    result = runner.invoke(app, ["predict", "--name", "cli", "--at", "2023-03-10T12:00"])
    assert result.exit_code == 0, result.output
    assert "2023-03-10 12:00" in result.output
    assert "q0.95" in result.output


def test_train_with_unknown_dataset_raises_data_not_found(in_tmp: Path) -> None:
    result = runner.invoke(app, ["train", "--data", "no-such-data", "--epochs", "1"])
    assert isinstance(result.exception, DataNotFound)


def test_train_with_unknown_device_raises_invalid_input(in_tmp: Path) -> None:
    result = runner.invoke(app, ["train", "--epochs", "1", "--device", "tpu"])
    assert isinstance(result.exception, InvalidInput)


def test_evaluate_unknown_model_raises_data_not_found(in_tmp: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--name", "ghost"])
    assert isinstance(result.exception, DataNotFound)
    assert "gekko forecast train" in str(result.exception)
