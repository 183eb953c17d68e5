from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from corpus.errors import ReviewFileError
from outputs.review import read_review_file, summarize, write_knowledge
from outputs.tables import KNOWLEDGE_COLUMNS


def _rows(*keys: str) -> list[dict]:
    rows = []
    for key in keys:
        gene, mechanism, effect, therapy_class = key.split("|")
        rows.append(
            {
                "key": key,
                "gene": gene,
                "mechanism": mechanism,
                "effect": effect,
                "therapy_class": therapy_class,
                "n_articles": 1,
                "evidence": "PTEN loss causes resistance.",
                "status": "new",
                "review_status": "pending",
                "review_note": "",
            }
        )
    return rows


KEYS = [f"G{i}|loss|resistance|immune checkpoint blockade" for i in range(12)]


def _edit(path: Path, key: str, status: str, note: str) -> None:
    """What a person does in a spreadsheet: change one row's review cells and save the whole file."""
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    header = table[0]
    for cells in table[1:]:
        if cells[header.index("key")] == key:
            cells[header.index("review_status")] = status
            cells[header.index("review_note")] = note
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table)


def _decisions(path: Path) -> dict[str, tuple[str, str]]:
    review = read_review_file(path)
    return {
        k: (r["review_status"], r["review_note"])
        for k, r in review.rows.items()
        if r["review_status"] != "pending" or r["review_note"]
    }


def test_decisions_survive_reruns_and_rejected_stays_rejected(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.csv"
    write_knowledge(path, _rows(*KEYS[:3]))
    _edit(path, KEYS[0], "rejected", "=not a formula, a note")
    _edit(path, KEYS[1], "Accepted ", "")
    rows, stats = write_knowledge(path, _rows(*KEYS[:3]))
    assert _decisions(path) == {KEYS[0]: ("rejected", "=not a formula, a note"), KEYS[1]: ("accepted", "")}
    assert stats.decisions_kept == 2
    # the note that looks like a formula is escaped on disk
    assert "'=not a formula" in path.read_text(encoding="utf-8")
    # no longer extracted: decided rows are kept, undecided ones go
    rows, stats = write_knowledge(path, _rows(KEYS[2]))
    assert {r["key"] for r in rows} == set(KEYS[:3])
    assert stats.orphans_kept == 2
    rows, _ = write_knowledge(path, _rows(KEYS[3]))
    assert {r["key"] for r in rows} == {KEYS[0], KEYS[1], KEYS[3]}
    assert summarize(path)[0] == {"pending": 1, "accepted": 1, "rejected": 1}


def test_an_edit_saved_while_the_run_writes_survives(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.csv"
    write_knowledge(path, _rows(*KEYS[:3]))
    saved = []

    def person_saves(p: Path) -> None:
        if not saved:
            _edit(p, KEYS[2], "accepted", "saved during the run")
            saved.append(1)

    _, stats = write_knowledge(path, _rows(*KEYS[:4]), on_ready=person_saves)
    assert stats.attempts == 2
    assert _decisions(path) == {KEYS[2]: ("accepted", "saved during the run")}


BROKEN = [
    (b"key,review_status,review_note\nA|b|c|d,pending,\nB|b|c|d,maybe,\n", 3, "maybe"),
    (b"key,review_status,review_note\nA|b|c|d,pending\n", 2, "2 cells"),
    (b'key,review_status,review_note\nA|b|c|d,pending,"unclosed\nB,pending,\n', 2, "unclosed quote"),
    (b"key,review_status,review_note\nA|b|c|d,pending,\nA|b|c|d,accepted,\n", 3, "twice"),
    (b"key,review_status,review_note\nA|b|c|d,pending,ok\nB|b|c|d,pending,caf\xe9\n", 3, "UTF-8"),
    (b"gene,status\nPTEN,pending\n", 1, "lacks"),
    (b"key,review_status,review_note\nA|b|c|d,pending,a\x00b\n", 2, "NUL"),
]


@pytest.mark.parametrize(("content", "line", "words"), BROKEN)
def test_a_broken_file_is_reported_with_its_line_and_never_overwritten(
    tmp_path: Path, content: bytes, line: int, words: str
) -> None:
    path = tmp_path / "knowledge.csv"
    path.write_bytes(content)
    with pytest.raises(ReviewFileError, match=rf"line {line}\b.*{words}"):
        write_knowledge(path, _rows(*KEYS[:2]))
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["knowledge.csv"]


def test_a_spreadsheet_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.csv"
    path.write_bytes(
        b"\xef\xbb\xbfkey,review_status,review_note\r\n" + KEYS[0].encode() + b",Rejected,no\r\n"
    )
    write_knowledge(path, _rows(KEYS[0]))
    assert _decisions(path) == {KEYS[0]: ("rejected", "no")}


def test_hundred_reruns_interleaved_with_edits_lose_no_decision(tmp_path: Path) -> None:
    """Each rerun extracts a random subset; a person edits between runs and sometimes during one."""
    rng = random.Random(7)
    path = tmp_path / "knowledge.csv"
    expected: dict[str, tuple[str, str]] = {}
    during = 0
    for run in range(100):
        if path.exists():
            for _ in range(rng.randint(0, 2)):
                present = list(read_review_file(path).rows)
                key = rng.choice(present)
                decision = (rng.choice(["accepted", "rejected", "pending"]), f"run {run} +note")
                if decision == ("pending", ""):
                    continue
                _edit(path, key, *decision)
                expected[key] = decision
        edits_during: list[tuple[str, tuple[str, str]]] = []

        def person(p: Path, run: int = run, log=edits_during) -> None:
            if log or rng.random() > 0.3 or not p.exists():
                return
            key = rng.choice(list(read_review_file(p).rows))
            decision = ("rejected", f"during run {run}")
            _edit(p, key, *decision)
            log.append((key, decision))

        extracted = rng.sample(KEYS, rng.randint(1, len(KEYS)))
        write_knowledge(path, _rows(*extracted), on_ready=person)
        for key, decision in edits_during:
            expected[key] = decision
            during += 1
        assert _decisions(path) == {k: v for k, v in expected.items() if v != ("pending", "")}, f"run {run}"
        header = next(csv.reader(path.open(encoding="utf-8")))
        assert tuple(header) == KNOWLEDGE_COLUMNS
    assert during >= 10
    assert len(expected) >= 10
