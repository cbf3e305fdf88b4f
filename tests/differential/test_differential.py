"""Every entry of the differential table (tests/differential/table_*.py), run against torch.

Test ids are `<table file>:<entry name>`, so `-k table_reduce` runs one table."""

import pytest

from tests.differential.opinfo import entry_test, load_tables

ENTRIES = load_tables()


@pytest.mark.parametrize(
    "name", sorted(ENTRIES), ids=[f"{ENTRIES[n].source[:-3]}:{n}" for n in sorted(ENTRIES)]
)
def test_entry(name: str) -> None:
    entry_test(ENTRIES[name])()
