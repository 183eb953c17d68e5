"""SIGKILL real runs at random points of fetch, ingest, extraction and table writing (issue 7).

Every time, the next run completes and the store and the tables equal those of an uninterrupted run:
no loss, no duplicate, no half-written CSV.
"""

from __future__ import annotations

import csv
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leakcheck import SECRET, assert_secret_absent

from corpus.store import DB_NAME

WORKER = Path(__file__).with_name("crash_worker.py")
QUERY = "resistance"  # 19 records of the shared samples
BATCH = 5  # 4 fetch batches, 4 extraction chunks
STAGES = ("fetch", "ingest", "extract", "tables")
EARLIER = "2015/10/31"  # the maxdate of an earlier complete run that half the kills start from


def checkpoints(new_records: int, total: int) -> dict[str, int]:
    """How often each stage passes a crash point in a run that has ``new_records`` to fetch."""
    batches = -(-new_records // BATCH)
    return {"fetch": batches, "ingest": batches, "extract": batches, "tables": total + 2}


KILLS = 20
TABLES = ("articles.csv", "entities.csv", "triples.csv", "knowledge.csv", "report.html")


class Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert json.loads(self.process.stdout.readline()) == {"ready": True}
        self.seconds: list[float] = []

    def run(self, **job) -> dict:
        start = time.monotonic()
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        outcome = json.loads(self.process.stdout.readline())
        self.seconds.append(time.monotonic() - start)
        return outcome

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def snapshot_store(directory: Path) -> dict:
    """The store's content, without the timestamps of when things were written."""
    with sqlite3.connect(f"file:{directory / DB_NAME}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {
            "articles": conn.execute(
                "SELECT pmid, version, digest, data FROM articles ORDER BY pmid"
            ).fetchall(),
            "results": conn.execute(
                "SELECT pmid, extractor_version, version, digest, data FROM results ORDER BY pmid"
            ).fetchall(),
            "state": conn.execute("SELECT key, value FROM state ORDER BY key").fetchall(),
        }


def snapshot_tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in TABLES}


def assert_whole_csvs(out: Path) -> None:
    """Whatever a killed run left is complete: every CSV parses with a full header and full rows."""
    if not out.exists():
        return
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, strict=True))
        assert rows and all(len(r) == len(rows[0]) for r in rows), path
        assert path.read_bytes().endswith(b"\n"), path


@pytest.mark.slow
def test_twenty_kills_then_a_rerun_equals_an_uninterrupted_run(tmp_path: Path, eutils) -> None:
    job = {
        "eutils_url": eutils.base_url,
        "query": QUERY,
        "maxdate": "2025/12/31",
        "batch_size": BATCH,
        "api_key": SECRET,  # NCBI's faster rate; and the key must not reach any file (checked at the end)
    }
    worker = Worker()
    try:
        base = tmp_path / "baseline"
        assert worker.run(store=str(base / "store"), out=str(base / "out"), **job) == {"exit": 0}
        expected_store = snapshot_store(base / "store")
        expected_tables = snapshot_tables(base / "out")
        assert len(expected_store["articles"]) == 19

        total = len(expected_store["articles"])
        earlier = eutils.search({"term": QUERY, "maxdate": EARLIER})[0]
        assert 0 < earlier < total
        rng = random.Random(2026)
        stages = [stage for stage in STAGES for _ in range(KILLS // len(STAGES))]
        killed = []
        for i, stage in enumerate(stages):
            run = tmp_path / f"run{i}"
            dirs = {"store": str(run / "store"), "out": str(run / "out")}
            new_records = total
            if i % 2:  # half the kills hit a store and tables that already hold an earlier complete run
                assert worker.run(**dirs, **{**job, "maxdate": EARLIER}) == {"exit": 0}
                new_records = total - earlier
            point = f"{stage}:{rng.randint(1, checkpoints(new_records, total)[stage])}"
            outcome = worker.run(**dirs, crash_at=point, **job)
            assert outcome == {"signal": signal.SIGKILL}, (point, outcome)
            killed.append(point)
            assert_whole_csvs(run / "out")
            assert worker.run(**dirs, **job) == {"exit": 0}, point
            assert snapshot_store(run / "store") == expected_store, point
            assert snapshot_tables(run / "out") == expected_tables, point
            assert not [p for p in (run / "out").iterdir() if p.name.startswith(".")], point
        assert len(killed) == KILLS
        searched = assert_secret_absent(tmp_path, SECRET)
        print(
            f"\n{KILLS} kills at {killed}; {len(worker.seconds)} runs in {sum(worker.seconds):.1f} s "
            f"(slowest {max(worker.seconds):.1f} s); API key absent from all {searched} files written"
        )
    finally:
        worker.close()
