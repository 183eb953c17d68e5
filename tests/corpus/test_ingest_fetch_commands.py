"""``resistmine ingest`` and ``resistmine fetch`` as real processes: output, exit codes, what is stored."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, shared_path

from corpus.store import CorpusStore

KEY = "SECRET-KEY-0123456789"
BASELINE = ("data", "pubmed_xml", "medline_baseline_samples", "medline16n0902.xml.gz")


def resistmine(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("RESISTMINE_", "NCBI_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True, text=True, cwd=REPO, env=environment, timeout=timeout,
    )  # fmt: skip


def test_ingest_baseline_stores_604_and_a_second_run_nothing_new(tmp_path):
    baseline = str(shared_path(*BASELINE))
    first = resistmine("ingest", baseline, "--store", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "604 records (pubmed-xml): 604 inserted, 0 updated, 0 unchanged, 0 deleted" in first.stdout
    assert CorpusStore(tmp_path).count() == 604
    again = resistmine("ingest", baseline, "--store", str(tmp_path))
    assert again.returncode == 0 and "already ingested, skipped" in again.stdout
    forced = resistmine("ingest", "--force", baseline, "--store", str(tmp_path))
    assert forced.returncode == 0 and "0 inserted, 0 updated, 604 unchanged" in forced.stdout
    assert CorpusStore(tmp_path).count() == 604


def test_ingest_text_formats(tmp_path):
    medline = str(shared_path("data", "pubmed_xml", "biopython", "Medline", "pubmed_result2.txt"))
    seed = str(REPO / "corpus" / "bundled" / "pmid31205532.txt")
    result = resistmine("ingest", medline, seed, "--store", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "4 records (medline-text)" in result.stdout and "1 records (abstract-export)" in result.stdout
    assert CorpusStore(tmp_path).get("31205532").title.startswith("Molecular Mechanisms")


def test_corrupt_gzip_fails_alone_keeps_whole_batches_and_resumes(tmp_path):
    data = shared_path(*BASELINE).read_bytes()
    broken = tmp_path / "medline16n0902.xml.gz"
    broken.write_bytes(data[: len(data) // 2])
    good = str(REPO / "corpus" / "bundled" / "pmid31205532.txt")
    store_dir = tmp_path / "store"
    result = resistmine("ingest", str(broken), good, "--store", str(store_dir), "--batch-size", "100")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("resistmine: error:")]
    assert errors[0].startswith(f"resistmine: error: {broken}: ")
    assert "corrupt or truncated gzip" in errors[0] or "malformed or truncated XML" in errors[0]
    assert errors[-1] == "resistmine: error: 1 of 2 file(s) failed"
    store = CorpusStore(store_dir)
    from_broken = store.count() - 1  # the good file loaded anyway
    assert from_broken % 100 == 0 and 0 < from_broken < 604  # whole batches only, never a half batch
    assert store.file_status(broken.name, stage="ingest") is None  # not done: the next run reads it again
    broken.write_bytes(data)  # the download is repeated
    again = resistmine("ingest", str(broken), "--store", str(store_dir), "--batch-size", "100")
    assert again.returncode == 0 and store.count() == 605


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("garbage.xml", b"\x00\x01\x02\xff" * 1000, "unrecognised format"),
        ("garbage.xml.gz", gzip.compress(b"\x00\x01\x02\xff" * 1000), "unrecognised format"),
        ("latin1.xml", "<PubmedArticleSet><PubmedArticle>caf\xe9".encode("latin-1"), "XML"),
        ("empty.xml", b"", "empty file"),
        (
            "bomb.xml",
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><PubmedArticleSet/>',
            "entities",
        ),
    ],
)
def test_bad_files_give_one_line_and_lose_nothing(tmp_path, name, content, message):
    store_dir = tmp_path / "store"
    seed = str(REPO / "corpus" / "bundled" / "pmid31205532.txt")
    assert resistmine("ingest", seed, "--store", str(store_dir)).returncode == 0
    bad = tmp_path / name
    bad.write_bytes(content)
    result = resistmine("ingest", str(bad), "--store", str(store_dir))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(f"resistmine: error: {bad}: ")
    assert message in result.stderr.splitlines()[0]
    assert "Traceback" not in result.stderr
    assert CorpusStore(store_dir).count() == 1


def test_missing_file(tmp_path):
    result = resistmine("ingest", str(tmp_path / "nope.xml"), "--store", str(tmp_path))
    assert result.returncode == 2 and "no such file" in result.stderr


_HOLD_LOCK = """
import sys, time
from corpus.store import CorpusStore
with CorpusStore(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_run_exits_with_a_clear_message_while_the_store_is_locked(tmp_path):
    command = [sys.executable, "-c", _HOLD_LOCK, str(tmp_path)]
    holder = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = resistmine("ingest", str(shared_path(*BASELINE)), "--store", str(tmp_path))
        assert result.returncode == 4
        assert "another run holds the store lock" in result.stderr
    finally:
        holder.kill()
        holder.wait()


# ----------------------------------------------------------------------------------------- fetch


@pytest.mark.parametrize("bad", ["abc", "-1", "12345678901234567890"])
def test_fetch_refuses_invalid_pmids(eutils_server, tmp_path, bad):
    result = resistmine(
        "fetch", "31205532", "--", bad, "--store", str(tmp_path), "--eutils-url", eutils_server.base_url
    )
    assert result.returncode == 2
    expected = f"resistmine: error: invalid PMID '{bad}': expected a positive whole number of 1 to 10 digits"
    assert result.stderr.strip() == expected
    assert eutils_server.requests == []


def _config(tmp_path: Path, **values) -> str:
    path = tmp_path / "resistmine.toml"
    path.write_text("".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items()))
    return str(path)


def test_fetch_failure_names_missing_pmids_and_the_next_run_completes(eutils_server, tmp_path):
    pmids = eutils_server.pmids[:450]
    config = _config(tmp_path, max_tries=2, timeout=2.0)
    store_dir = str(tmp_path / "store")
    eutils_server.add_fault("503", endpoint="efetch", skip=1, times=2)  # batch 2 fails both tries
    args = (
        "fetch",
        *pmids,
        "--store",
        store_dir,
        "--eutils-url",
        eutils_server.base_url,
        "--email",
        "t@example.org",
    )
    failed = resistmine("--config", config, *args, env={"NCBI_API_KEY": KEY})
    assert failed.returncode == 3
    assert "fetched before the failure: 200 inserted" in failed.stdout
    [error] = [line for line in failed.stderr.splitlines() if line.startswith("resistmine: error:")]
    assert "efetch failed after 2 tries: HTTP 503" in error and "250 PMID(s) not fetched" in error
    assert pmids[200] in error
    assert CorpusStore(store_dir).count() == 200
    done = resistmine("--config", config, *args, env={"NCBI_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert "200 PMIDs already stored" in done.stdout and "fetched: 250 inserted" in done.stdout
    assert CorpusStore(store_dir).count() == 450
    assert [len(r.ids) for r in eutils_server.requests_to("efetch")[-2:]] == [200, 50]
    # the key went to the server on every request and nowhere else
    assert all(r.params.get("api_key") == KEY for r in eutils_server.requests)
    for output in (failed.stdout, failed.stderr, done.stdout, done.stderr):
        assert KEY not in output
    for path in Path(store_dir).rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_fetch_query_bounded_by_max_records(eutils_server, tmp_path):
    result = resistmine(
        "fetch", "--query", "all[sb]", "--max-records", "30", "--store", str(tmp_path),
        "--eutils-url", eutils_server.base_url, "--email", "t@example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        "warning: query matches 617 records; only the first 30 are used (raise --max-records)"
        in result.stderr
    )
    assert "search: 617 records match, 30 PMIDs taken" in result.stdout
    store = CorpusStore(tmp_path)
    assert store.count() == 30
    assert store.provenance(eutils_server.pmids[0]).query == "all[sb]"


def test_fetch_of_a_pmid_that_does_not_exist(eutils_server, tmp_path):
    result = resistmine("fetch", "99999999", "--store", str(tmp_path), "--eutils-url", eutils_server.base_url)
    assert result.returncode == 2
    assert "warning: PubMed has no record for 1 PMID(s): 99999999" in result.stderr
    assert "none of the 1 PMID(s) exists in PubMed" in result.stderr


def test_ingest_applies_delete_citation_blocks(tmp_path):
    earlier = tmp_path / "update0001.xml"
    earlier.write_text(
        '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">26432306</PMID><Article>'
        "<ArticleTitle>To be withdrawn.</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        "</PubmedArticleSet>"
    )
    store_dir = tmp_path / "store"
    assert resistmine("ingest", str(earlier), "--store", str(store_dir)).returncode == 0
    assert "26432306" in CorpusStore(store_dir)
    result = resistmine("ingest", str(shared_path(*BASELINE)), "--store", str(store_dir))
    assert result.returncode == 0
    assert "604 inserted, 0 updated, 0 unchanged, 1 deleted" in result.stdout
    store = CorpusStore(store_dir)
    assert "26432306" not in store and store.count() == 604 and "26432306" in store.deleted_pmids()


def test_fetch_query_with_no_results(eutils_server, tmp_path):
    result = resistmine(
        "fetch", "--query", "zzzqqqxxx", "--store", str(tmp_path), "--eutils-url", eutils_server.base_url,
        "--email", "t@example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "search: 0 records match, 0 PMIDs taken" in result.stdout
    assert "fetched: 0 inserted, 0 updated, 0 unchanged; store holds 0 articles" in result.stdout
    assert eutils_server.requests_to("efetch") == []  # nothing to fetch, nothing asked
