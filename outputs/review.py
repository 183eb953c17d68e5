"""Keep people's review decisions in knowledge.csv across reruns.

Decisions (``review_status``, ``review_note``) are keyed on the stable knowledge key. A rerun:

* carries every decision over to the regenerated row with the same key (a rejected row stays rejected,
  even when it is extracted again);
* keeps rows a person decided on (status not pending, or a note) even when no longer extracted, as the
  person last saw them;
* re-reads the file right before its atomic replace and merges again if a person saved meanwhile, so an
  edit made while a run is writing survives;
* refuses to touch a file it cannot read (bad encoding, broken quoting, ragged rows, unknown status,
  duplicate keys): it raises ``ReviewFileError`` naming the line, and the old file stays as it was.

Other columns are regenerated on every run; edits to them are not kept (the README says so).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.errors import ReviewFileError
from outputs.csvsafe import unescape_cell, write_csv_atomic
from outputs.tables import KNOWLEDGE_COLUMNS, REVIEW_STATUSES

REQUIRED = ("key", "review_status", "review_note")
MAX_MERGE_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class ReviewFile:
    """What a knowledge.csv holds: rows by key (cells unescaped), their order, and the file's digest."""

    rows: dict[str, dict[str, str]]
    digest: str | None

    def decision(self, key: str) -> tuple[str, str] | None:
        row = self.rows.get(key)
        return None if row is None else (row["review_status"], row["review_note"])


@dataclass(frozen=True, slots=True)
class MergeStats:
    rows: int
    decisions_kept: int
    orphans_kept: int
    attempts: int
    counts: dict[str, int]


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def read_review_file(path: Path) -> ReviewFile:
    """Parse knowledge.csv strictly; a missing file is an empty review."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ReviewFile({}, None)
    return parse_review_bytes(path, data)


def parse_review_bytes(path: Path, data: bytes) -> ReviewFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReviewFileError(f"{path} line {line}: not valid UTF-8; fix or delete the file") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ReviewFileError(f"{path} line {line}: contains a NUL byte; fix or delete the file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ReviewFileError(f"{path} line {reader.line_num}: {exc}") from None
    if header is None:
        return ReviewFile({}, _digest(data))
    header = [name.strip() for name in header]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ReviewFileError(f"{path} line 1: header lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise ReviewFileError(f"{path} line 1: header repeats a column name")
    rows: dict[str, dict[str, str]] = {}
    while True:
        line = reader.line_num + 1  # where the next record starts (an unclosed quote spans many lines)
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ReviewFileError(f"{path} line {line}: {exc} (an unclosed quote?)") from None
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise ReviewFileError(
                f"{path} line {line}: {len(cells)} cells where the header has {len(header)}"
            )
        row = {name: unescape_cell(cell) for name, cell in zip(header, cells, strict=True)}
        key = row["key"].strip()
        if not key:
            raise ReviewFileError(f"{path} line {line}: empty key")
        status = row["review_status"].strip().lower() or "pending"
        if status not in REVIEW_STATUSES:
            raise ReviewFileError(
                f"{path} line {line}: review_status {row['review_status']!r} is not one of "
                f"{', '.join(REVIEW_STATUSES)}"
            )
        if key in rows:
            raise ReviewFileError(f"{path} line {line}: key {key!r} appears twice")
        row["key"] = key
        row["review_status"] = status
        rows[key] = row
    return ReviewFile(rows, _digest(data))


def _edited(row: dict[str, str]) -> bool:
    return row["review_status"] != "pending" or bool(row["review_note"].strip())


def merge(new_rows: Iterable[dict[str, Any]], old: ReviewFile) -> tuple[list[dict[str, Any]], int, int]:
    """Regenerated rows with the old decisions; plus decided rows that were not regenerated."""
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    kept = 0
    for row in new_rows:
        row = dict(row)
        decision = old.decision(row["key"])
        if decision is not None:
            row["review_status"], row["review_note"] = decision
            kept += _edited(old.rows[row["key"]])
        seen.add(row["key"])
        merged.append(row)
    orphans = 0
    for key, row in old.rows.items():
        if key not in seen and _edited(row):
            merged.append({name: row.get(name, "") for name in KNOWLEDGE_COLUMNS})
            orphans += 1
    return merged, kept + orphans, orphans


class _ChangedMeanwhile(Exception):
    pass


def write_knowledge(
    path: Path,
    new_rows: list[dict[str, Any]],
    *,
    on_ready: Callable[[Path], None] | None = None,
) -> tuple[list[dict[str, Any]], MergeStats]:
    """Merge decisions into ``new_rows`` and replace ``path`` atomically; returns the rows written.

    ``on_ready(path)`` runs when the new file is complete, before the final re-read: the moment at
    which a person saving the file would race the run (tests use it to model that person).
    """
    for attempt in range(1, MAX_MERGE_ATTEMPTS + 1):
        old = read_review_file(path)
        merged, kept, orphans = merge(new_rows, old)

        def check(_tmp: Path, expected: str | None = old.digest) -> None:
            if on_ready is not None:
                on_ready(path)
            try:
                current = _digest(path.read_bytes())
            except FileNotFoundError:
                current = None
            if current != expected:
                raise _ChangedMeanwhile

        try:
            write_csv_atomic(path, KNOWLEDGE_COLUMNS, merged, before_replace=check)
        except _ChangedMeanwhile:
            continue
        counts = dict.fromkeys(REVIEW_STATUSES, 0)
        for row in merged:
            counts[row["review_status"]] += 1
        return merged, MergeStats(len(merged), kept, orphans, attempt, counts)
    raise ReviewFileError(f"{path} kept changing while the run tried to write it; rerun when it is saved")


def summarize(path: Path) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Counts per review status and the pending rows (for ``resistmine review``)."""
    review = read_review_file(path)
    counts = dict.fromkeys(REVIEW_STATUSES, 0)
    pending = []
    for row in review.rows.values():
        counts[row["review_status"]] += 1
        if row["review_status"] == "pending":
            pending.append(row)
    return counts, pending
