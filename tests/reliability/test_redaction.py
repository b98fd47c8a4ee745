"""The log redaction filter: resolved secrets never reach a log record, whatever the logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from gekko_agent.ops.redaction import MASK, RedactionFilter, install_redaction, uninstall_redaction

KEY = "sk-test-XYZ-redaction-0001"


@pytest.fixture
def installed() -> Iterator[RedactionFilter]:
    flt = install_redaction([KEY, "ab"])
    yield flt
    uninstall_redaction()


def test_message_and_args_are_scrubbed(installed: RedactionFilter, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("gekko.test.deep.child").info("key=%s and %r", KEY, {"token": KEY})
    assert KEY not in caplog.text and MASK in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)


def test_exception_text_is_scrubbed(installed: RedactionFilter, caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError(f"auth failed with {KEY}")
    except RuntimeError:
        logging.getLogger("litellm").exception("request failed")
    assert KEY not in caplog.text and "auth failed with ***" in caplog.text


def test_stack_info_and_bad_format_strings_are_scrubbed(
    installed: RedactionFilter, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger("x").warning(f"stack {KEY}", stack_info=True)
    logging.getLogger("x").warning("broken %d", KEY)
    assert KEY not in caplog.text
    assert len(caplog.records) == 2


def test_install_twice_adds_secrets_and_short_values_are_ignored(installed: RedactionFilter) -> None:
    again = install_redaction(["second-secret-value"])
    assert again is installed
    assert installed.secrets == {KEY, "second-secret-value"}
    assert installed.scrub("ab second-secret-value") == f"ab {MASK}"


def test_filter_on_a_handler_cleans_a_hand_made_record() -> None:
    flt = RedactionFilter([KEY])
    record = logging.LogRecord("h", logging.INFO, __file__, 1, "value %s", (KEY,), None)
    assert flt.filter(record) and record.getMessage() == f"value {MASK}"


def test_uninstall_restores_the_factory() -> None:
    before = logging.getLogRecordFactory()
    install_redaction([KEY])
    assert logging.getLogRecordFactory() is not before
    uninstall_redaction()
    assert logging.getLogRecordFactory() is before
