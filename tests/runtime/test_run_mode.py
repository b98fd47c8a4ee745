"""``gekko run --mode paper|live`` overrides agent.yaml's mode and is checked by the same rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from gekko_agent.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ["--from", "2023-03-09T00:00", "--to", "2023-03-09T01:00", "--speed", "1000000"]


def _config(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((ROOT / "agent.yaml").read_text())
    data["ledger"] = {"path": str(tmp_path / "gekko.duckdb")}
    data.update(changes)
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["run", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_mode_paper_replays_the_configured_data(tmp_path: Path) -> None:
    code, out, err = _run(["--config", str(_config(tmp_path)), "--mode", "paper", *REPLAY])
    assert code == 0, out + err
    assert "Gekko · paper" in out


def test_run_mode_live_on_paper_venues_is_refused_by_the_config_rules(tmp_path: Path) -> None:
    code, out, err = _run(["--config", str(_config(tmp_path)), "--mode", "live", *REPLAY])
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert "mode live cannot use paper venue(s)" in err and "--mode live" in err


def test_run_mode_paper_on_a_production_venue_is_refused(tmp_path: Path) -> None:
    venue = {
        "kind": "ccxt",
        "exchange": "binanceus",
        "api_key": {"env": "T_KEY"},
        "secret": {"env": "T_SECRET"},
    }
    path = _config(
        tmp_path,
        mode="live",
        venues={"binanceus": venue},
        instruments=[{"symbol": "BTC/USD", "venue": "binanceus"}],
        strategies=[{"name": "sma_cross", "instruments": ["BTC/USD@binanceus"]}],
    )
    env = {"T_KEY": "k", "T_SECRET": "s"}
    code, out, err = _run(["--config", str(path), "--mode", "paper"], env=env)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert "venues.binanceus" in err and "production" in err


def test_run_mode_must_be_paper_or_live(tmp_path: Path) -> None:
    code, out, err = _run(["--config", str(_config(tmp_path)), "--mode", "backtest"])
    assert code == 2, out + err
    assert "--mode: 'backtest' is not paper or live" in err
