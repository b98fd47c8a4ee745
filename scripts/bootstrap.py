#!/usr/bin/env python3
"""Set up Gekko's virtual environment from the committed lock file.

One command on a fresh machine with only Python (>= 3.11) and pip:

    python3 scripts/bootstrap.py          # runtime
    python3 scripts/bootstrap.py --dev    # runtime + tests, lint, type check
    python3 scripts/bootstrap.py --bench  # the above + the benchmarks' optional peers (vectorbt)

It creates ``.venv``, installs torch with pip (so a machine's pip configuration can pick the
CPU build; set ``GEKKO_TORCH_INDEX`` to a wheel index URL to choose another build), then every
other dependency at the exact versions in ``uv.lock`` with uv, then Gekko itself (editable).
It does nothing when the environment already matches the lock, so it is cheap to run again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(*args: str | Path, quiet: bool = True) -> None:
    cmd = [str(a) for a in args]
    print("+", " ".join(cmd), flush=True)
    quiet_out = subprocess.DEVNULL if quiet else None
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=quiet_out)  # noqa: S603 - fixed argv, no shell


def _locked_version(name: str) -> str:
    import tomllib

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    for pkg in lock["package"]:
        if pkg["name"] == name:
            return str(pkg["version"])
    raise SystemExit(f"bootstrap: uv.lock has no entry for {name!r}")


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs on whatever python3 the user has
        print("bootstrap: Gekko needs Python >= 3.11", file=sys.stderr)
        return 2
    bench = "--bench" in argv
    dev = bench or "--dev" in argv
    digest = hashlib.sha256((ROOT / "uv.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    kind = "bench" if bench else "dev" if dev else "run"
    stamp = VENV / f".gekko-{kind}-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return 0
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run(PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv")
    torch = [
        PY,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        f"torch=={_locked_version('torch')}",
    ]
    if index := os.environ.get("GEKKO_TORCH_INDEX"):
        torch += ["--index-url", index]
    _run(*torch)
    uv = BIN / "uv"
    reqs = VENV / "requirements.lock.txt"
    export = [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--prune", "torch", "-o", reqs]
    if dev:
        export += ["--extra", "dev"]
    if bench:
        export += ["--extra", "bench"]
    _run(*export)
    _run(uv, "pip", "install", "--quiet", "--python", PY, "-r", reqs)
    _run(uv, "pip", "install", "--quiet", "--python", PY, "--no-deps", "-e", ".")
    for old in VENV.glob(".gekko-*"):
        old.unlink()
    stamp.touch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
