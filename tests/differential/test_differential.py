"""Every entry of the differential table (tests/differential/table_*.py), run against torch."""

import pytest

from tests.differential.opinfo import entry_test, load_tables

ENTRIES = load_tables()


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry(name: str) -> None:
    entry_test(ENTRIES[name])()
