from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.config import GekkoConfig, check_config, load_config, parse_config, shipped_config_path

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
    sandbox: true
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
    # catch_exceptions=False: anything but the clean exit (SystemExit 2) propagates and fails the test
    result = CliRunner().invoke(app, ["config", "check", str(path)], env={}, catch_exceptions=False)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"4 problem(s) in {path}"
    problems = lines[:-1]
    assert len(problems) == 4  # one line per problem, nothing else (no traceback, no wrapped text)
    assert all(line.startswith(f"{path}") for line in problems)
    assert any(line.startswith(f"{path}:3: acount: unknown key") for line in problems)
    assert any(
        line.startswith(f"{path}:6: venues.paper.taker_fee_bps:") and "'lots'" in line for line in problems
    )
    assert result.stdout == ""


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


RISKY = """\
venues:
  paper: {kind: paper}
instruments:
  - {symbol: BTC/USD, venue: paper}
  - {symbol: EUR/USD, venue: paper, asset_class: fx}
strategies:
  - {name: sma_cross, instruments: [BTC/USD@paper], budget: "5000"}
risk:
"""


def _errors(risk_section: str) -> list[str]:
    _, errors = parse_config(RISKY + risk_section, "r.yaml")
    return [str(e) for e in errors]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("  var: {max_varr: '1'}\n", "r.yaml:9: risk.var.max_varr: unknown key"),
        (
            "  breakers:\n    daily_loss: {reduce: '0.1'}\n",
            "r.yaml:10: risk.breakers.daily_loss.reduce: unknown key",
        ),
        (
            "  stress:\n    scenarios:\n      - {name: s, asset_class_shocks: {crypto: '-0.2'}}\n",
            "r.yaml:11: risk.stress.scenarios[0].asset_class_shocks: unknown asset class 'crypto'",
        ),
        (
            "  stress:\n    scenarios:\n      - {name: s, sigma_shocks: {forex: 5}}\n",
            "r.yaml:11: risk.stress.scenarios[0].sigma_shocks: unknown asset class 'forex'",
        ),
        (
            "  order: {max_quantity: {ETH/USD@paper: '1'}}\n",
            "risk.order.max_quantity: 'ETH/USD@paper' is not listed under `instruments`",
        ),
        (
            "  position: {max_quantity: {BTC/USD@binanceus: '1'}}\n",
            "risk.position.max_quantity: 'BTC/USD@binanceus' is not listed under `instruments`",
        ),
        (
            "  stress:\n    scenarios:\n      - {name: s, instrument_shocks: {EUR/USD@oanda: '0.1'}}\n",
            "risk.stress.scenarios[0].instrument_shocks: 'EUR/USD@oanda' is not listed under `instruments`",
        ),
    ],
)
def test_risk_keys_that_would_be_ignored_are_rejected_in_one_line(section: str, expected: str) -> None:
    errors = _errors(section)
    assert len(errors) == 1
    assert expected in errors[0]
    assert "\n" not in errors[0]


def test_known_asset_classes_and_instruments_are_accepted() -> None:
    section = (
        "  order: {max_quantity: {BTC/USD@paper: '2'}}\n"
        "  position: {max_quantity: {EUR/USD@paper: '100000'}}\n"
        "  stress:\n    scenarios:\n"
        "      - {name: s, asset_class_shocks: {crypto_spot: '-0.2'}, sigma_shocks: {fx: 5},"
        " instrument_shocks: {BTC/USD@paper: '-0.3'}}\n"
    )
    assert _errors(section) == []


def test_strategy_budget_reaches_the_risk_engine() -> None:
    from gekko_agent.risk import ReasonCode, Resized, RiskEngine
    from gekko_agent.runtime.wiring import risk_config
    from tests.risk.helpers import intent, snapshot, with_equity_marks

    text = RISKY.replace("paper: {kind: paper}", "binanceus: {kind: paper}").replace("@paper", "@binanceus")
    text = text.replace("venue: paper", "venue: binanceus")
    cfg, errors = parse_config(text + "  budgets: {default_budget: '1000000'}\n", "b.yaml")
    assert errors == [] and cfg is not None
    assert cfg.risk.budgets.budgets == {}  # the section as written...
    risk = risk_config(cfg)  # ...and as the composition root enforces it
    assert risk.budgets.budgets == {"sma_cross": Decimal(5000)}
    engine = RiskEngine(risk.model_copy(update={"var": risk.var.model_copy(update={"enabled": False})}))
    snap = with_equity_marks(snapshot(), engine)
    out = engine.check(intent("1", strategy="sma_cross"), snap)  # 1 BTC at 20,000 USD > 5,000 budget
    assert isinstance(out, Resized)
    assert ReasonCode.STRATEGY_BUDGET in out.reasons
    assert "strategy 'sma_cross' has 5,000.00 USD of budget left" in out.explanation  # the binding cap
    assert out.quantity * 20_000 <= 5_000
    other = engine.check(intent("0.3", strategy="other"), snap)  # default budget: 1,000,000
    assert ReasonCode.STRATEGY_BUDGET not in other.reasons


@pytest.mark.parametrize(
    ("venue", "ok"),
    [
        ({"kind": "ccxt", "exchange": "binanceus"}, False),
        ({"kind": "ccxt", "exchange": "binanceus", "sandbox": True}, True),
        ({"kind": "ccxt", "exchange": "binanceus", "api_url": "http://127.0.0.1:9"}, True),
        ({"kind": "oanda", "environment": "live"}, False),
        ({"kind": "oanda", "environment": "practice"}, True),
    ],
)
def test_paper_mode_refuses_a_venue_that_reaches_production(venue: dict[str, object], ok: bool) -> None:
    data = {
        "mode": "paper",
        "venues": {"v": venue},
        "instruments": [{"symbol": "EUR/USD" if venue["kind"] == "oanda" else "BTC/USD", "venue": "v"}],
    }
    if ok:
        GekkoConfig.model_validate(data)
        return
    with pytest.raises(
        ValidationError, match=r"venues\.v: mode paper would send orders to the venue's production"
    ):
        GekkoConfig.model_validate(data)
    GekkoConfig.model_validate({**data, "mode": "live"})
