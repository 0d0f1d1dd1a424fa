"""How data-format errors render their place in the file."""

from __future__ import annotations

from backtestr.errors import DataFormatError


def test_a_row_is_shown_for_files_without_lines_and_a_line_wins_over_it() -> None:
    by_row = DataFormatError("/x/t.parquet", "bid -1", row=2, column="bid", hint="Fix it")
    assert str(by_row) == "Invalid data format: t.parquet row 2, column 'bid': bid -1. Fix it"
    by_line = DataFormatError("t.csv", "bad", line=3, row=2)
    assert str(by_line) == "Invalid data format: t.csv line 3: bad"
