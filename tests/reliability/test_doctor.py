"""``gekko doctor``: world-readable files, keys in agent.yaml, secret files in the repo, unset env vars."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gekko_agent.cli.doctor import doctor
from gekko_agent.ops.doctor import diagnose, looks_like_key

ROOT = Path(__file__).resolve().parents[2]
LLM = """
brain:
  kind: llm
  llm: {{model: openai/gpt-4o, api_key: {ref}}}
"""


def _config(tmp: Path, extra: str = "", mode: int = 0o600) -> Path:
    text = (ROOT / "agent.yaml").read_text() + extra
    path = tmp / "agent.yaml"
    path.write_text(text)
    path.chmod(mode)
    return path


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(doctor)
    return app


def test_clean_private_config_has_no_findings_and_exits_0(tmp_path: Path) -> None:
    path = _config(tmp_path)
    assert diagnose(path, environ={}, repo=tmp_path / "repo") == []
    result = CliRunner().invoke(_app(), ["--config", str(path)])
    assert result.exit_code == 0 and "no findings" in result.output


def test_world_readable_config_is_a_finding_and_exits_1(tmp_path: Path) -> None:
    path = _config(tmp_path, mode=0o644)
    [finding] = diagnose(path, environ={}, repo=tmp_path / "repo")
    assert "world-readable" in finding.problem and "chmod 600" in finding.problem
    result = CliRunner().invoke(_app(), ["--config", str(path)])
    assert result.exit_code == 1 and "world-readable" in result.output


@pytest.mark.parametrize(
    ("line", "key_path"),
    [
        ("brain: {kind: rules, llm: {model: x, api_key: sk-live-4f9a8b7c6d5e4f3a2b1c}}", "brain.llm.api_key"),
        ("extra:\n  telegram_token: 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "extra.telegram_token"),
        ("extra:\n  DB_PASSWORD: Tr0ub4dor3xyzQWERTY", "extra.DB_PASSWORD"),
    ],
)
def test_literal_keys_in_agent_yaml_are_found_by_key_path(tmp_path: Path, line: str, key_path: str) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(line + "\n")
    path.chmod(0o600)
    findings = diagnose(path, environ={}, repo=tmp_path / "repo")
    assert any(f.where.endswith(key_path) and "env: NAME" in f.problem for f in findings), findings
    assert all("\n" not in str(f) for f in findings)


@pytest.mark.parametrize("value", ["var/gekko.duckdb", "openai/gpt-4o", "BTC/USD@paper", "15000", "short1"])
def test_ordinary_values_do_not_look_like_keys(value: str) -> None:
    assert not looks_like_key(value)


def test_unset_env_var_of_a_secret_in_use_is_a_finding(tmp_path: Path) -> None:
    path = _config(tmp_path, LLM.format(ref="{env: GEKKO_DOCTOR_KEY}"))
    [finding] = diagnose(path, environ={}, repo=tmp_path / "repo")
    assert finding.where.endswith("brain.llm.api_key") and "GEKKO_DOCTOR_KEY" in finding.problem
    assert diagnose(path, environ={"GEKKO_DOCTOR_KEY": "sk-test"}, repo=tmp_path / "repo") == []


def test_secret_file_inside_repo_and_readable_by_others_is_found(tmp_path: Path) -> None:
    secret = tmp_path / "llm.key"
    secret.write_text("sk-test-file\n")
    secret.chmod(0o644)
    path = _config(tmp_path, LLM.format(ref=f"{{file: {secret}}}"))
    problems = " | ".join(f.problem for f in diagnose(path, environ={}, repo=tmp_path))
    assert "inside the repository" in problems and "readable by other users" in problems
    secret.chmod(0o600)
    assert diagnose(path, environ={}, repo=tmp_path / "elsewhere") == []


def test_missing_secret_file_and_invalid_config_are_one_line_findings(tmp_path: Path) -> None:
    path = _config(tmp_path, LLM.format(ref=f"{{file: {tmp_path / 'nope.key'}}}"))
    [finding] = diagnose(path, environ={}, repo=tmp_path / "repo")
    assert "does not exist" in finding.problem
    path.write_text("risk: {order: {max_notional: lots}}\n")
    findings = diagnose(path, environ={}, repo=tmp_path / "repo")
    assert findings and all("\n" not in str(f) and "gekko config check" in f.problem for f in findings)
    assert diagnose(tmp_path / "missing.yaml", environ={})[0].problem.startswith("cannot read")
