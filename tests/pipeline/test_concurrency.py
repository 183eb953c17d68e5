"""Two runs on one store at once: one runs, the other waits or exits with a clear message (issue 7)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.store import DB_NAME, LOCK_NAME

RESISTMINE = Path(sys.executable).with_name("resistmine")


def _start(tmp_path: Path, *extra: str) -> subprocess.Popen:
    command = [str(RESISTMINE), "run", "--offline", "--no-prefect", "--store", str(tmp_path / "store"),
               "--out", str(tmp_path / "out"), *extra]  # fmt: skip
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _holder(tmp_path: Path) -> str:
    try:
        return (tmp_path / "store" / LOCK_NAME).read_text().strip()
    except FileNotFoundError:
        return ""


@pytest.mark.slow
def test_a_second_run_exits_with_a_clear_message_or_waits(tmp_path: Path) -> None:
    first = _start(tmp_path)
    deadline = time.monotonic() + 120
    while _holder(tmp_path) != str(first.pid):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    refused = _start(tmp_path)
    waiting = _start(tmp_path, "--wait-lock", "300")
    _, err = refused.communicate(timeout=300)
    assert refused.returncode == 4, err
    assert err.strip().splitlines()[-1].startswith("resistmine: error: another run holds the store lock")
    assert f"pid {first.pid}" in err
    assert first.wait(timeout=300) == 0, first.communicate()
    assert waiting.wait(timeout=300) == 0, waiting.communicate()
    tables = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}

    both = [_start(tmp_path), _start(tmp_path)]  # started at once
    codes = sorted(p.wait(timeout=300) for p in both)
    assert codes in ([0, 0], [0, 4]), [p.communicate() for p in both]
    with sqlite3.connect(tmp_path / "store" / DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone() == (1,)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == tables
