from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.config import check_config, load_config, parse_config, shipped_config_path

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
version: 1
mode: paper
acount:
  currency: USD
venues:
  paper: {kind: paper, taker_fee_bps: lots}
  binanceus:
    kind: ccxt
    exchange: binanceus
    api_key: {env: GEKKO_TEST_MISSING_KEY}
    secret: {env: GEKKO_TEST_MISSING_SECRET}
instruments:
  - {symbol: BTC/USD, venue: binanceus}
"""


def test_shipped_config_is_valid_without_any_key() -> None:
    cfg, errors = check_config(ROOT / "agent.yaml", environ={})
    assert errors == []
    assert cfg is not None and cfg.mode == "paper" and cfg.brain.kind == "rules"


def test_shipped_copy_is_the_repository_file() -> None:
    assert shipped_config_path().read_text() == (ROOT / "agent.yaml").read_text()


def test_typo_wrong_type_and_missing_env_are_each_one_line(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(BAD)
    result = CliRunner().invoke(app, ["config", "check", str(path)], env={})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert any(f"{path}:3: acount: unknown key" in line for line in lines)
    assert any(f"{path}:6: venues.paper.taker_fee_bps:" in line and "'lots'" in line for line in lines)
    assert "Traceback" not in result.output


def test_missing_env_var_names_key_path(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(BAD.replace("acount", "account").replace("taker_fee_bps: lots", "taker_fee_bps: '5'"))
    result = CliRunner().invoke(app, ["config", "check", str(path)], env={})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        f"{path}: venues.binanceus.api_key: environment variable GEKKO_TEST_MISSING_KEY is not set" in lines
    )
    assert (
        f"{path}: venues.binanceus.secret: environment variable GEKKO_TEST_MISSING_SECRET is not set" in lines
    )


def test_secret_value_is_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(BAD.replace("acount", "account").replace("taker_fee_bps: lots", "taker_fee_bps: '5'"))
    env = {"GEKKO_TEST_MISSING_KEY": "sk-very-secret-1", "GEKKO_TEST_MISSING_SECRET": "sk-very-secret-2"}
    result = CliRunner().invoke(app, ["config", "check", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "sk-very-secret" not in result.output


def test_invalid_yaml_is_one_line_with_line_number() -> None:
    cfg, errors = parse_config("mode: paper\nventures: [1\n", "x.yaml")
    assert cfg is None and len(errors) == 1
    assert str(errors[0]).startswith("x.yaml:") and "invalid YAML" in str(errors[0])


def test_unknown_venue_reference_is_reported() -> None:
    _, errors = parse_config("instruments:\n  - {symbol: BTC/USD, venue: nowhere}\n", "y.yaml")
    assert len(errors) == 1 and "'nowhere' is not a venue" in str(errors[0])


def test_live_mode_refuses_paper_venue() -> None:
    _, errors = parse_config("mode: live\n", "z.yaml")
    assert errors and "mode live cannot use paper venue" in str(errors[0])


def test_llm_brain_without_model_is_an_error() -> None:
    _, errors = parse_config("brain: {kind: llm}\n", "b.yaml")
    assert errors and "brain" in str(errors[0])


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["config", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_loaded_config_is_frozen() -> None:
    cfg = load_config(ROOT / "agent.yaml")
    with pytest.raises(ValidationError, match="frozen"):
        cfg.mode = "live"  # type: ignore[misc]


def test_schema_lists_documented_keys() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    assert "starting_cash" in result.output and "taker_fee_bps" in result.output
