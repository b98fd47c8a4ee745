"""Fuzz the ``gekko`` command line: random and malformed option values for ``backtest``, ``risk
check``, ``config check``, ``ledger query``/``journal``, ``venue-sim`` and ``data show``.

Every input ends in one of three ways, never in a traceback (the commands run in-process through
typer's ``CliRunner`` with ``catch_exceptions=False``, so an uncaught exception fails the example):

* success (exit 0);
* exit 2 with a one-line ``gekko: error: ...`` / ``gekko: config error: ...`` on stderr (for
  ``config check``: one line per problem and a count), or the framework's usage error for a value of
  the wrong type (``Usage:`` and a boxed ``Invalid value for '--opt'`` naming the option);
* exit 1 with one ``gekko: ledger error:`` or ``gekko: venue error:`` line (an operational failure
  such as a ledger file that is not a ledger, as ``gekko_agent/cli/main.py`` documents).

The commands run in a scratch directory, and the repository must not gain or change a data file
(checked when the module's tests are done). Inputs that once crashed a command are pinned below as
regression tests with their exact repro.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.ledger import Ledger
from tests.reliability._strategies import examples

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUNNER = CliRunner()
FUZZ = settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
DATASETS = ["binanceus-btcusd-1m", "oanda-eurusd-1h"]
INSTRUMENTS = ["BTC/USD@binanceus", "EUR/USD@oanda", "BTC/USDC@kraken"]
USAGE_MARKERS = ("Invalid value", "No such option", "Missing option", "Missing argument", "unexpected extra")
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\n"), max_size=24)
NUMBERS = st.one_of(
    st.sampled_from(
        [
            "1",
            "0.5",
            "-1",
            "1e400",
            "-1e400",
            "NaN",
            "sNaN",
            "inf",
            "-inf",
            "",
            "  ",
            "abc",
            "1,5",
            "0x10",
            "1e-30",
            "100000",
            "0.000001",
            "١٢",
            "1_000",
            "--5",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    TEXT,
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2023-03-10",
            "2023-03-10T03:00",
            "2023-03-10T00:00+99:00",
            "2025-01-01",
            "1970-01-01",
            "9999-12-31T23:59",
            "0001-01-01",
            "",
            "yesterday",
            "2023-13-01",
            "2023-03-10T25:00",
            "2023-03-10T03:00Z",
            "-1",
            "2023-03-10T01:00+05:00",
        ]
    ),
    TEXT,
)
# Pinned as regression tests at the end (both once crashed or split the error line): config files that
# are not UTF-8, and line breaks in text a command echoes back.
KNOWN_BAD_TEXT = b"\xff\xfe\x00 not utf-8"


# -- harness ---------------------------------------------------------------------------------------


def _data_files(root: Path) -> dict[str, tuple[int, int]]:
    """Files of the repository that a command could write (not source, caches or other tools')."""
    skip_dirs = {".git", ".venv", "__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    skip_suffixes = {".py", ".pyc", ".md", ".tcss", ".svg", ".raw", ".toml", ".lock"}
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip_dirs]
        for name in filenames:
            path = Path(dirpath) / name
            if path.suffix in skip_suffixes:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            out[str(path.relative_to(root))] = (stat.st_mtime_ns, stat.st_size)
    return out


@pytest.fixture(scope="module", autouse=True)
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run every command in a scratch directory; afterwards the repository has no new or changed data."""
    work = tmp_path_factory.mktemp("cli-fuzz")
    (work / "dir").mkdir()
    (work / "garbage.duckdb").write_bytes(b"not a duckdb file" * 64)
    (work / "bad.csv").write_text("a,b\n1,2\n")
    (work / "empty.csv").write_text("")
    (work / "short.csv").write_text(
        "time,open,high,low,close,volume\n"
        + "".join(f"2023-03-10T00:{m:02d}:00Z,100,101,99,{100 + m % 3},5\n" for m in range(30))
    )
    (work / "junk.yaml").write_text("venues: [\n  - ::\n")
    (work / "afile").write_text("x")
    with Ledger(work / "ledger.duckdb"):
        pass
    before = _data_files(ROOT)
    cwd = Path.cwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(cwd)
    after = _data_files(ROOT)
    # a new data file anywhere, or a changed one outside ``var/`` (runtime state that a running agent,
    # or the simulator the crash test starts in the repository, may write meanwhile)
    written = sorted(
        p for p in after if p not in before or (after[p] != before[p] and not p.startswith("var/"))
    )
    assert written == [], f"the CLI wrote into the repository: {written}"


def cli(*args: str) -> Result:
    """Invoke ``gekko ARGS`` in-process; an uncaught exception propagates (and fails the example)."""
    return RUNNER.invoke(app, list(args), catch_exceptions=False)


def assert_clean(result: Result, *, config_check: bool = False) -> None:
    """Success, or one clear error line (see the module docstring); never a traceback."""
    err = result.stderr
    if currently_in_test_context():
        event(f"exit {result.exit_code}")  # see --hypothesis-show-statistics
    assert "Traceback" not in err + result.stdout, err[-2000:]
    if result.exit_code == 0:
        return
    lines = [line for line in err.split("\n") if line.strip()]  # not splitlines: \x1c-\x1e are text
    assert lines, f"exit {result.exit_code} without a message"
    if result.exit_code == 1:
        assert len(lines) == 1 and lines[0].startswith(("gekko: ledger error:", "gekko: venue error:")), err
        return
    assert result.exit_code == 2, (result.exit_code, err[-2000:])
    if lines[0].startswith("Usage:"):
        assert any(marker in err for marker in USAGE_MARKERS), err
    elif config_check:  # one line per problem, then the count
        assert "problem(s) in" in lines[-1], err
    else:
        assert len(lines) == 1 and lines[0].startswith("gekko: "), err


def _is_zero(text: str) -> bool:
    try:
        return Decimal(text.strip()) == 0
    except (InvalidOperation, ValueError):
        return False


# -- backtest --------------------------------------------------------------------------------------


@st.composite
def backtest_args(draw: st.DrawFn) -> list[str]:
    args = ["backtest"]
    strategy = draw(st.sampled_from(["sma_cross", "momentum", "mean_reversion", "arbitrage", "nope", None]))
    if strategy is not None:
        args += ["--strategy", strategy]
    source = draw(st.sampled_from(["data", "csv", "both", "none"]))
    if source in ("data", "both"):
        args += ["--data", draw(st.one_of(st.sampled_from([*DATASETS, "nope", ""]), TEXT))]
    if source in ("csv", "both"):
        csv = draw(
            st.sampled_from(["short.csv", "bad.csv", "empty.csv", "dir", "missing.csv", "garbage.duckdb"])
        )
        args += ["--csv", csv]
    args += ["--from", draw(TIMES), "--to", draw(TIMES)]
    if draw(st.booleans()):
        args += ["--cash", draw(NUMBERS)]
    if draw(st.booleans()):
        args += ["--fees", draw(NUMBERS)]
    for _ in range(draw(st.integers(0, 2))):
        args += ["--param", draw(st.one_of(st.sampled_from(["fast=5", "fast=0", "slow=x", "=", "k"]), TEXT))]
    if draw(st.integers(0, 3)) == 0:
        grid = draw(
            st.one_of(st.sampled_from(["fast=5,10", "fast=", "x", "fast=a,b", "fast=5 slow=2"]), TEXT)
        )
        args += ["--grid", grid, "--workers", draw(st.sampled_from(["1", "0", "-1", "x"]))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--report", draw(st.sampled_from(["out", "dir", "dir/sub"]))]
    if draw(st.integers(0, 5)) == 0:
        args += ["--brain", draw(st.one_of(st.just("rules"), TEXT))]
    if draw(st.booleans()):
        args.append("--json")
    return args


@FUZZ
@given(backtest_args())
def test_backtest_any_options_exit_cleanly(args: list[str]) -> None:
    assert_clean(cli(*args))


# -- risk check ------------------------------------------------------------------------------------


@st.composite
def risk_args(draw: st.DrawFn) -> list[str]:
    symbol = draw(st.one_of(st.sampled_from([*INSTRUMENTS, "BTC/USD", "@", "", "BTC/USD@nowhere"]), TEXT))
    side = draw(st.one_of(st.sampled_from(["buy", "sell", "BUY", "hold", ""]), TEXT))
    args = ["risk", "check", "--symbol", symbol, "--side", side, "--qty", draw(NUMBERS)]
    if draw(st.booleans()):
        args += ["--price", draw(NUMBERS)]
    if draw(st.booleans()):
        args += ["--cash", draw(NUMBERS)]
    if draw(st.booleans()):
        position = draw(
            st.one_of(st.sampled_from(["BTC/USD@binanceus=0.5", "x=1", "=", "BTC/USD@binanceus=abc"]), TEXT)
        )
        args += ["--position", position]
    if draw(st.booleans()):
        args += [
            "--state",
            draw(st.one_of(st.sampled_from(["active", "reducing", "halted", "HALTED"]), TEXT)),
        ]
    if draw(st.integers(0, 3)) == 0:
        args += ["--config", draw(st.sampled_from(["dir", "missing.yaml", "junk.yaml", "empty.csv"]))]
    return args


@FUZZ
@given(risk_args())
def test_risk_check_any_options_exit_cleanly(args: list[str]) -> None:
    assert_clean(cli(*args))


# -- config check ----------------------------------------------------------------------------------


@FUZZ
@given(
    st.one_of(
        st.sampled_from(["dir", "missing.yaml", "junk.yaml", "empty.csv", "garbage.duckdb", "a" * 300, ""]),
        st.sampled_from(["dir/", "afile/agent.yaml", "a\x00b", "~nobody/agent.yaml", "-"]),
        TEXT,
    )
)
def test_config_check_any_path_exits_cleanly(path: str) -> None:
    assert_clean(cli("config", "check", path), config_check=True)


# -- ledger ----------------------------------------------------------------------------------------

SQL = st.one_of(
    st.sampled_from(
        [
            "select 1",
            "select * from events",
            "select count(*) from events",
            "drop table events",
            "delete from events",
            "insert into events values (1)",
            "select * from nope",
            "",
            ";",
            "select 1; drop table events",
            "attach 'other.duckdb' as o",
            "copy events to 'out.csv'",
            "create table t (x int)",
            "pragma version",
            "select 1/0",
            "select 'x'::int",
        ]
    ),
    TEXT,
)


@FUZZ
@given(SQL, st.sampled_from(["ledger.duckdb", "garbage.duckdb", "missing.duckdb", "dir", "empty.csv"]))
def test_ledger_query_any_sql_exits_cleanly_and_changes_nothing(sql: str, ledger: str) -> None:
    assert_clean(cli("ledger", "query", sql, "--ledger", ledger, "--json"))
    assert not Path("out.csv").exists() and not Path("other.duckdb").exists()
    with Ledger("ledger.duckdb") as book:  # still a ledger, still empty
        assert book.last_seq == 0
        assert book.fetch("select count(*) from events") == [(0,)]


@FUZZ
@given(
    st.lists(st.sampled_from(["--kind", "--decision", "--order", "--limit"]), max_size=3),
    st.lists(st.one_of(st.sampled_from(["order_filled", "0", "-1", "x", ""]), TEXT), min_size=3, max_size=3),
    st.sampled_from(["ledger.duckdb", "garbage.duckdb", "missing.duckdb", "dir"]),
)
def test_ledger_journal_any_filter_exits_cleanly(options: list[str], values: list[str], ledger: str) -> None:
    args = ["ledger", "journal", "--ledger", ledger]
    for option, value in zip(options, values, strict=False):
        args += [option, value]
    assert_clean(cli(*args))


# -- venue-sim -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


SPECS = st.one_of(
    st.sampled_from(
        [
            "",
            "429=0.1",
            "drop=2",
            "skew=fast",
            "latency=-1ms",
            "partial",
            "bogus=1",
            "seed=x",
            "429=nan",
            "skew=-1.5s,drop_accepted=0.1",
            "=",
            ",,,",
            "retry_after=-3",
            "skew=1e300",
        ]
    ),
    TEXT,
)


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    protocol=st.one_of(st.sampled_from(["binance", "coinbase", "oanda", "kraken", ""]), TEXT),
    faults=SPECS,
    port=st.one_of(st.sampled_from([-1, 65536, 99999, 2**40]), st.just(None)),
    seed=st.one_of(st.none(), st.sampled_from(["1", "-5", "x", "1e3"])),
)
def test_venue_sim_bad_options_exit_cleanly_without_serving(
    busy_port: int, protocol: str, faults: str, port: int | None, seed: str | None
) -> None:
    # ``None`` stands for a port in use, so that no draw can start a server (it would serve forever)
    args = ["venue-sim", "--protocol", protocol, "--faults", faults, "--port", str(port or busy_port)]
    if seed is not None:
        args += ["--seed", seed]
    result = cli(*args)
    assert_clean(result)
    assert result.exit_code == 2 and "http://" not in result.stdout, (args, result.stdout, result.stderr)


# -- data show -------------------------------------------------------------------------------------


@FUZZ
@given(
    name=st.one_of(
        st.sampled_from([*DATASETS, "short.csv", "bad.csv", "empty.csv", "dir", "nope", "x.csv"]), TEXT
    ),
    window=st.tuples(st.one_of(st.none(), TIMES), st.one_of(st.none(), TIMES)),
    resample=st.one_of(st.none(), st.sampled_from(["5m", "1h", "7m", "0m", "-5m", "1d", "abc", ""]), TEXT),
    tail=st.sampled_from(["0", "3", "-1", "x", "99999999999999999999"]),
    cache=st.sampled_from([None, "--no-cache", "garbage.duckdb", "dir", "cache.duckdb"]),
)
def test_data_show_any_options_exit_cleanly(
    name: str,
    window: tuple[str | None, str | None],
    resample: str | None,
    tail: str,
    cache: str | None,
) -> None:
    args = ["data", "show", name, "--tail", tail]
    for option, value in zip(("--from", "--to"), window, strict=True):
        if value is not None:
            args += [option, value]
    if resample is not None:
        args += ["--resample", resample]
    if cache == "--no-cache":
        args.append(cache)
    elif cache is not None:
        args += ["--cache", cache]
    assert_clean(cli(*args))


# -- fixed cases -----------------------------------------------------------------------------------


def test_venue_sim_port_out_of_range_is_one_line_error_not_a_wrapped_port() -> None:
    result = cli("venue-sim", "--port", "99999")
    assert result.exit_code == 2, result.stdout  # once served on 99999 - 65536 = 34463
    assert result.stderr.strip() == "gekko: error: venue simulator port 99999: a TCP port is 0..65535"


def test_venue_sim_port_in_use_is_one_line_error(busy_port: int) -> None:
    result = cli("venue-sim", "--port", str(busy_port))
    assert_clean(result)
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.stderr, result.stderr


# -- inputs that crashed (fixed; kept as regressions) and known crashes owned elsewhere -----------

WINDOW = ("--from", "2023-03-10", "--to", "2023-03-10T03:00")
SMA = ("backtest", "--strategy", "sma_cross", "--data", DATASETS[0])
CONFIG = ("--config",)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((*SMA, *WINDOW, "--cash", "0"), id="zero-cash"),  # was ZeroDivisionError (metrics)
        pytest.param(("backtest", "--strategy", "arbitrage", "--data", DATASETS[0], *WINDOW), id="arb-one"),
        pytest.param((*SMA, *WINDOW, "--report", "afile"), id="report-is-file"),  # was FileExistsError
        pytest.param((*SMA, *WINDOW, "--report", "afile/sub"), id="report-under-file"),  # NotADirectoryError
        pytest.param((*SMA, "--from", "2025-01-01", "--json"), id="from-past-data"),  # was 0 bars, exit 0
        pytest.param((*SMA, "--from", "2023-03-20", "--to", "2023-03-10"), id="from-after-to"),
    ],
)
def test_backtest_input_that_once_crashed_is_one_line_error(args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert_clean(result)
    assert result.exit_code == 2, result.stdout[-500:]


@pytest.mark.parametrize(
    "command",
    [
        ("config", "check"),
        ("risk", "check", "--qty", "1", "--side", "buy", "--symbol", INSTRUMENTS[0], "--config"),
    ],
)
def test_config_not_utf8_is_one_line_error(command: tuple[str, ...], scratch: Path) -> None:
    (scratch / "latin.yaml").write_bytes(KNOWN_BAD_TEXT)
    assert_clean(cli(*command, "latin.yaml"), config_check=command[0] == "config")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("config", "check", "\n0"), id="config-check-path"),
        pytest.param(("risk", "check", "--qty", "1", "--side", "buy", "--symbol", "x\ny"), id="risk-symbol"),
        pytest.param(("backtest", "--strategy", "sma_cross", "--csv", "a\nb.csv"), id="backtest-csv"),
        pytest.param(("ledger", "query", "select 1", "--ledger", "a\nb"), id="ledger-path"),
    ],
)
def test_line_break_in_text_stays_in_one_error_line(args: tuple[str, ...]) -> None:
    result = cli(*args)
    problems = [line for line in result.stderr.splitlines() if "problem(s) in" not in line]
    assert result.exit_code == 2 and len(problems) == 1, result.stderr  # config check adds a count line
