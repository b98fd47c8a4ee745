"""Fuzz agent.yaml: random YAML and mutations of the shipped file give one-line ConfigErrors, never raise."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gekko_agent.config import check_config
from gekko_agent.errors import ConfigError
from tests.reliability._strategies import JSON, TEXT, examples, mutate

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TEXT = (ROOT / "agent.yaml").read_text()
SHIPPED: dict[str, Any] = yaml.safe_load(SHIPPED_TEXT)
ENV = {"BINANCEUS_API_KEY": "k", "BINANCEUS_API_SECRET": "s"}


def _check(text: str) -> list[ConfigError]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agent.yaml"
        path.write_text(text)
        _, errors = check_config(path, environ=ENV)
    for err in errors:
        assert isinstance(err, ConfigError)
        assert "\n" not in str(err), str(err)
        assert err.key_path or err.problem.startswith(("invalid YAML", "file not found", "cannot read")), err
    return errors


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    return yaml.safe_dump(mutate(SHIPPED, draw), allow_unicode=True)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_mutated_shipped_config_gives_one_line_errors_with_key_paths(text: str) -> None:
    _check(text)


@settings(max_examples=examples(30), deadline=None)
@given(st.dictionaries(st.sampled_from([*SHIPPED, "extra", "venues"]), JSON, max_size=6))
def test_random_trees_give_one_line_errors_with_key_paths(tree: dict[str, Any]) -> None:
    _check(yaml.safe_dump(tree, allow_unicode=True))


@settings(max_examples=examples(30), deadline=None)
@given(st.data())
def test_corrupted_yaml_text_gives_one_line_errors(data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(SHIPPED_TEXT)))
    junk = data.draw(
        st.one_of(TEXT, st.sampled_from([": :", "\t", "- [", "{", "&a *b", "!!python/object:os.system"]))
    )
    _check(SHIPPED_TEXT[:cut] + junk + SHIPPED_TEXT[cut:])


def test_mutated_shipped_config_names_the_bad_key() -> None:
    errors = _check(SHIPPED_TEXT.replace('max_notional: "15000"', "max_notional: lots"))
    assert [e.key_path for e in errors] == ["risk.order.max_notional"]
