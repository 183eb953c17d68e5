from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outputs.csvsafe import escape_cell, remove_stale_temps, unescape_cell, write_csv_atomic


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_escaped(cell: str) -> None:
    escaped = escape_cell(cell)
    assert escaped == "'" + cell
    assert unescape_cell(escaped) == cell


def test_plain_cells_and_numbers_are_left_alone() -> None:
    assert escape_cell("PTEN") == "PTEN"
    assert escape_cell(-1.5) == "-1.5"
    assert escape_cell(None) == ""
    assert escape_cell(True) == "true"
    assert unescape_cell("'quoted by a person") == "'quoted by a person"


@given(st.text())
def test_escape_round_trips_and_never_starts_a_formula(text: str) -> None:
    escaped = escape_cell(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(escaped) == text or text.startswith("'")


def test_escaping_is_idempotent() -> None:
    assert escape_cell(escape_cell("=1+1")) == "'=1+1"


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_write_is_atomic_when_the_row_stream_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv_atomic(path, ("a", "b"), [{"a": "1", "b": "x"}])
    before = path.read_bytes()

    def rows():
        yield {"a": "2", "b": "y"}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_csv_atomic(path, ("a", "b"), rows())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_written_table_has_header_utf8_and_escaped_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv_atomic(path, ("gene", "note"), [{"gene": "β-catenin", "note": "=cmd|' /C calc'!A0"}])
    assert _read(path) == [["gene", "note"], ["β-catenin", "'=cmd|' /C calc'!A0"]]


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".knowledge.csv.tmp-abc").write_text("half")
    (tmp_path / "knowledge.csv").write_text("whole")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["knowledge.csv"]
