"""Every entry of the differential table (tests/differential/table_*.py), run against torch.

Test ids are `<table file>:<entry name>`, so `-k table_reduce` runs one table. Entries listed in
known_failures.KNOWN_FAILURES are strict xfails: each must still fail, for the reason given."""

import pytest

from tests.differential.known_failures import KNOWN_FAILURES
from tests.differential.opinfo import entry_test, load_tables

ENTRIES = load_tables()


def _param(name: str):
    marks = ()
    if name in KNOWN_FAILURES:
        marks = (pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name]),)
    return pytest.param(name, id=f"{ENTRIES[name].source[:-3]}:{name}", marks=marks)


@pytest.mark.parametrize("name", [_param(n) for n in sorted(ENTRIES)])
def test_entry(name: str) -> None:
    entry_test(ENTRIES[name])()


def test_known_failures_are_entries():
    stale = sorted(set(KNOWN_FAILURES) - set(ENTRIES))
    assert not stale, f"KNOWN_FAILURES names entries that do not exist: {stale}"
