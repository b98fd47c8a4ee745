"""The wheel: built from the tree, nothing generic at top level, importable on its own."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("gekko_agent-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_has_no_bare_top_level_packages(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"gekko_agent", f"{wheel.name.split('-py3')[0]}.dist-info"}
    for needed in (
        "gekko_agent/tools/__init__.py",
        "gekko_agent/strategies/__init__.py",
        "gekko_agent/tui/__init__.py",
        "gekko_agent/agent.yaml",
        "gekko_agent/data/README.md",
    ):
        assert needed in names, needed


@pytest.mark.slow
def test_wheel_imports_without_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    site_packages = sysconfig.get_paths()["purelib"]
    code = (
        "import gekko_agent, gekko_agent.tools, gekko_agent.domain, gekko_agent.config as c;"
        "print(gekko_agent.__file__); print(c.load_config(c.shipped_config_path()).mode)"
    )
    # -S: no site processing, so the editable install's .pth cannot put the source tree on the path
    env = {"PYTHONPATH": f"{tmp_path / 'site'}:{site_packages}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    first, mode = result.stdout.splitlines()
    assert first.startswith(str(tmp_path / "site"))
    assert mode == "paper"
