"""SIGKILL during ingest and fetch: the store stays readable, holds whole batches only, and the next run
completes to exactly the store of an uninterrupted run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, shared_path

BASELINE = ("data", "pubmed_xml", "medline_baseline_samples", "medline16n0902.xml.gz")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESISTMINE_", "NCBI_"))}
    env.update(extra)
    return env


def _snapshot(store_dir: Path) -> dict[str, tuple[int, str, str]]:
    """pmid -> (version, digest, article JSON): what a run leaves, independent of timestamps."""
    with sqlite3.connect(store_dir / "corpus.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone():
            return {}  # killed before the first run created the schema
        rows = conn.execute("SELECT pmid, version, digest, data FROM articles")
        return {str(pmid): (version, digest, data) for pmid, version, digest, data in rows}


def _kill_at_random(command: list[str], env: dict, rng: random.Random, low: float, high: float) -> bool:
    """Start ``command``, SIGKILL it after a random delay; True if it was killed before finishing."""
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(rng.uniform(low, high))
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return killed


@pytest.mark.slow
def test_sigkill_during_ingest(tmp_path):
    baseline = str(shared_path(*BASELINE))
    reference = tmp_path / "reference"
    started = time.perf_counter()
    subprocess.run(_command("ingest", baseline, "--store", str(reference)), cwd=REPO, env=_env(), check=True)
    duration = time.perf_counter() - started
    expected = _snapshot(reference)
    store = tmp_path / "killed"
    rng = random.Random(20260125)
    # kill points within an uninterrupted run's length, however fast parsing and storing have become;
    # attempts go on (bounded) until enough of them landed while the run was still working
    low, high = 0.1 * duration, 0.9 * duration
    kills = attempts = 0
    while kills < 5 and attempts < 30:
        attempts += 1
        command = _command("ingest", baseline, "--store", str(store), "--batch-size", "25", "--force")
        kills += _kill_at_random(command, _env(), rng, low, high)
        if (store / "corpus.sqlite").exists():
            stored = _snapshot(store)
            assert len(stored) % 25 == 0 or len(stored) == 604  # whole batches only
            assert all(expected[pmid] == row for pmid, row in stored.items())  # nothing half-written
    assert kills >= 5
    subprocess.run(_command("ingest", baseline, "--store", str(store)), cwd=REPO, env=_env(), check=True)
    assert _snapshot(store) == expected


@pytest.mark.slow
def test_sigkill_during_fetch(eutils_server, tmp_path):
    pmids = eutils_server.pmids
    config = tmp_path / "resistmine.toml"
    config.write_text("batch_size = 40\n")
    env = _env(NCBI_API_KEY="dummy-key-for-10-per-second")

    def fetch(store: Path) -> list[str]:
        return _command("--config", str(config), "fetch", "--query", "all[sb]", "--store", str(store),
                        "--eutils-url", eutils_server.base_url, "--email", "t@example.org")  # fmt: skip

    reference = tmp_path / "reference"
    started = time.perf_counter()
    subprocess.run(fetch(reference), cwd=REPO, env=env, check=True, capture_output=True)
    duration = time.perf_counter() - started
    expected = {pmid: row[:2] for pmid, row in _snapshot(reference).items()}
    assert len(expected) == len(pmids)
    store = tmp_path / "killed"
    rng = random.Random(7)
    kills = attempts = 0
    while kills < 3 and attempts < 20:
        attempts += 1
        killed = _kill_at_random(fetch(store), env, rng, 0.1 * duration, 0.9 * duration)
        kills += killed
        if (store / "corpus.sqlite").exists():
            stored = {pmid: row[:2] for pmid, row in _snapshot(store).items()}
            assert all(expected[pmid] == row for pmid, row in stored.items())
        if not killed:
            # a run that finished after earlier kills completed the store; the next kill needs work to
            # interrupt, so it starts from an empty store again
            assert {pmid: row[:2] for pmid, row in _snapshot(store).items()} == expected
            shutil.rmtree(store)
    assert kills >= 3
    subprocess.run(fetch(store), cwd=REPO, env=env, check=True, capture_output=True)
    assert {pmid: row[:2] for pmid, row in _snapshot(store).items()} == expected
