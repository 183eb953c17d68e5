"""CSV files that people open in spreadsheets: atomic writes and formula-cell escaping.

A crash never leaves a half-written table: rows go to a temporary file in the same directory, which is
flushed, fsynced and moved over the old file with ``os.replace`` (atomic on POSIX), then the directory is
fsynced. A cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is written with a leading apostrophe, as OWASP recommends; ``unescape_cell`` undoes
it when review columns are read back.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
TMP_MARK = ".tmp-"


def _file_mode() -> int:
    """What ``open()`` would create: 0o666 less the process umask (mkstemp alone gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def escape_cell(value: object) -> str:
    """The text written for ``value``: ``None`` is empty, booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell`` for a cell read back from a table."""
    if text.startswith(ESCAPE) and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def fsync_dir(directory: Path) -> None:
    """Make a rename inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    """A fresh temporary file beside ``path`` (same filesystem, so ``os.replace`` is atomic)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent)
    os.fchmod(fd, _file_mode())
    os.close(fd)
    return Path(name)


def remove_stale_temps(directory: Path) -> int:
    """Delete temporary files a killed writer left behind; returns how many."""
    removed = 0
    if not directory.is_dir():
        return 0
    for candidate in directory.iterdir():
        if candidate.name.startswith(".") and TMP_MARK in candidate.name:
            candidate.unlink(missing_ok=True)
            removed += 1
    return removed


def write_csv_atomic(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, object]],
    *,
    before_replace=None,
) -> int:
    """Write ``rows`` (mappings keyed by ``columns``) to ``path`` atomically; returns the row count.

    ``before_replace(tmp_path)`` runs after the temporary file is complete and durable, just before the
    replace; the review merge uses it to re-read a file a person may have saved meanwhile.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    count = 0
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([escape_cell(row.get(column)) for column in columns])
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return count


def write_text_atomic(path: Path, text: str) -> None:
    """The same guarantee for a text file (the HTML report, the run summary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
