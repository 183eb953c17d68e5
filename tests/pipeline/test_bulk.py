"""Bulk mining of baseline files: chunking keeps results aligned, and a SIGKILLed run resumes exactly.

``nlp`` and ``prefect_harness`` are the session fixtures of tests/pipeline/conftest.py.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from baseline_files import BASELINE, split_baseline

from corpus.article import Article
from corpus.pubmed_xml import Deletion, iter_pubmed_xml
from corpus.store import CorpusStore
from pipeline.bulk import (
    STAGE,
    _alive_after,
    is_done,
    iter_file_chunks,
    mine_file_into_store,
    run_bulk,
    write_bulk_tables,
)
from pipeline.config import Settings

REPO = Path(__file__).resolve().parents[2]
TABLES = ("articles.csv", "entities.csv", "triples.csv", "knowledge.csv")

RUN_SCRIPT = """
import json, sys
from pathlib import Path
from pipeline.bulk import run_bulk
from pipeline.config import Settings

*files, store, out = sys.argv[1:]
summary = run_bulk(files, Settings(store=Path(store), out=Path(out)), chunk_size=25,
                   progress=lambda message: print(message, flush=True))
print("SUMMARY " + json.dumps(summary.as_dict()), flush=True)
"""


@pytest.fixture(scope="module")
def sample_files(shared_dir, tmp_path_factory) -> list[Path]:
    return split_baseline(shared_dir / BASELINE, tmp_path_factory.mktemp("baseline"), 3)


@pytest.fixture(scope="module")
def prefect_env(prefect_harness, tmp_path_factory) -> dict[str, str]:
    """The session's Prefect test server, for subprocesses (through PREFECT_API_URL)."""
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(REPO),
    }


def test_a_later_deletion_wins_and_a_later_article_revives():
    records = [Article(pmid="1"), Deletion(("1", "2")), Article(pmid="2"), Article(pmid="3")]
    assert _alive_after(records) == {"1": False, "2": True, "3": True}


@pytest.mark.parametrize(("chunk_size", "n_process"), [(37, 1), (37, 2)])
def test_chunks_cover_the_file_in_order_with_aligned_results(nlp, sample_files, chunk_size, n_process):
    path = sample_files[-1]  # holds the sample's <DeleteCitation>
    whole = list(iter_file_chunks(path, nlp, chunk_size=10_000))
    chunks = list(iter_file_chunks(path, nlp, n_process=n_process, batch_size=16, chunk_size=chunk_size))

    assert len(whole) == 1 and len(chunks) == -(-len(whole[0].records) // chunk_size)
    assert [r for c in chunks for r in c.records] == list(iter_pubmed_xml(path))
    assert any(isinstance(r, Deletion) for c in chunks for r in c.records)
    for chunk in chunks:  # each chunk carries exactly the results of its own abstracts, in order
        assert [r.pmid for r in chunk.results] == [a.pmid for a in chunk.articles if a.abstract]
    assert [r for c in chunks for r in c.results] == list(whole[0].results)


def test_limit_stops_after_that_many_abstracts(nlp, sample_files):
    chunks = list(iter_file_chunks(sample_files[0], nlp, chunk_size=20, limit=30))
    assert sum(c.abstracts for c in chunks) == 30
    assert sum(len(c.results) for c in chunks) == 30


def _reference(sample_files, nlp, root: Path) -> tuple[CorpusStore, Path]:
    """The uninterrupted result: every file mined by the plain function, tables written."""
    store = CorpusStore(root / "store")
    for path in sample_files:
        mine_file_into_store(path, store, nlp, chunk_size=25)
    out = root / "out"
    write_bulk_tables(store, Settings(store=root / "store", out=out))
    return store, out


@pytest.mark.slow
def test_a_killed_run_resumes_at_the_unfinished_file_without_loss_or_duplicates(
    nlp, sample_files, prefect_env, tmp_path
):
    store_dir, out = tmp_path / "store", tmp_path / "out"
    command = [sys.executable, "-c", RUN_SCRIPT, *map(str, sample_files), str(store_dir), str(out)]
    second = sample_files[1].name

    # 1. start a real run and SIGKILL it once the first chunk of the second file is committed
    process = subprocess.Popen(
        command, env=prefect_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line.strip())
            if line.startswith(f"saved {second} chunk 1 "):
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, seen

    store = CorpusStore(store_dir)
    first_status = store.file_status(sample_files[0].name, stage=STAGE)
    assert is_done(store, sample_files[0])
    assert not is_done(store, sample_files[1]), "the kill came too late to land mid-file"
    partial = store.count()
    assert 202 < partial < 404  # file 1 whole, part of file 2
    store.close()
    time.sleep(0.01)  # distinct finished_at stamps if anything were redone

    # 2. the rerun skips the finished file and completes the rest
    done = subprocess.run(command, env=prefect_env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.rsplit("SUMMARY ", 1)[1])
    assert summary["files_skipped"] == [sample_files[0].name]
    assert summary["files_mined"] == [p.name for p in sample_files[1:]]
    store = CorpusStore(store_dir)
    assert store.file_status(sample_files[0].name, stage=STAGE) == first_status  # not mined again

    # 3. the store and every table equal those of an uninterrupted run
    reference_store, reference_out = _reference(sample_files, nlp, tmp_path / "reference")
    assert store.count() == reference_store.count()
    assert list(store.iter_articles()) == list(reference_store.iter_articles())
    assert list(store.iter_results()) == list(reference_store.iter_results())
    rows = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT pmid) FROM results").fetchone()
    assert rows[0] == rows[1] > 0
    for name in TABLES:
        assert (out / name).read_bytes() == (reference_out / name).read_bytes(), name
    triples = (out / "triples.csv").read_text(encoding="utf-8").splitlines()
    assert len(triples) == len(set(triples))


def test_a_pipeline_rebuilt_before_every_file_writes_the_same_tables(nlp, sample_files, prefect_harness,
                                                                     tmp_path):
    from extractors.api import _BUILT_WORDS, load_pipeline, new_words

    list(iter_file_chunks(sample_files[0], nlp, chunk_size=50, limit=5))
    assert new_words(nlp) > 0
    settings = Settings(store=tmp_path / "store", out=tmp_path / "out", max_new_words=0)
    existing = set(_BUILT_WORDS)  # other tests' fixtures may hold pipelines of their own
    run_bulk(sample_files, settings, chunk_size=25, progress=lambda _message: None)

    assert load_pipeline() is not nlp  # every file past the budget of 0 new words got a new pipeline
    gc.collect()
    built_by_the_run = set(_BUILT_WORDS) - existing
    assert built_by_the_run == {load_pipeline()}, (
        f"{len(built_by_the_run) - 1} pipelines the run outgrew are still referenced"
    )
    _, reference_out = _reference(sample_files, nlp, tmp_path / "reference")
    for name in TABLES:
        assert (tmp_path / "out" / name).read_bytes() == (reference_out / name).read_bytes(), name
