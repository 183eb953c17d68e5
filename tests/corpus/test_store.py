"""The corpus store: idempotent upserts, versions, atomic batches, results, file status, lock, corruption."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import pytest
from conftest import REPO, shared_path

from corpus.article import Article
from corpus.bundled import bundled_articles
from corpus.errors import ParseError, StoreError
from corpus.pubmed_xml import Deletion, iter_pubmed_xml
from corpus.store import CorpusStore, StoredResult, UpsertStats
from extractors.mentions import GENE, Mention
from extractors.triples import TRIPLE_COLUMNS, Triple


@pytest.fixture(scope="module")
def baseline() -> list[Article | Deletion]:
    return list(
        iter_pubmed_xml(
            shared_path("data", "pubmed_xml", "medline_baseline_samples", "medline16n0902.xml.gz")
        )
    )


def test_articles_round_trip_exactly(tmp_path, baseline):
    store = CorpusStore(tmp_path)
    articles = [a for a in baseline if isinstance(a, Article)] + bundled_articles()
    assert store.upsert_articles(articles, source="test") == UpsertStats(inserted=605)
    by_pmid = {a.pmid: a for a in articles}
    stored = list(store.iter_articles())
    assert len(stored) == store.count() == 605
    assert [a.pmid for a in stored] == sorted(by_pmid, key=int)
    for article in stored:
        original = by_pmid[article.pmid]
        assert article == original and article.extra == original.extra


def test_reingest_changes_nothing_and_keeps_provenance(tmp_path, baseline):
    store = CorpusStore(tmp_path)
    first = store.apply_batch(baseline, source="file:a", query=None)
    before = store.provenance("17942999")
    assert first == UpsertStats(inserted=604)
    assert store.apply_batch(baseline, source="file:b") == UpsertStats(unchanged=604)
    assert store.provenance("17942999") == before


def test_newer_version_replaces_older_and_older_is_ignored(tmp_path):
    store = CorpusStore(tmp_path)
    [seed] = bundled_articles()
    assert store.upsert_articles([seed]).inserted == 1
    v2 = replace(seed, version=2, title="Corrected title.")
    assert store.upsert_articles([v2], source="eutils", query="q") == UpsertStats(updated=1)
    assert store.upsert_articles([seed]) == UpsertStats(older=1)
    assert store.get(seed.pmid) == v2
    assert store.versions([seed.pmid, "1"]) == {seed.pmid: 2}
    provenance = store.provenance(seed.pmid)
    assert (provenance.version, provenance.source, provenance.query) == (2, "eutils", "q")
    # same version, revised content (PubMed adds MeSH without a new version): replaced
    revised = replace(v2, keywords=("immunotherapy",))
    assert store.upsert_articles([revised]) == UpsertStats(updated=1)
    assert store.get(seed.pmid).keywords == ("immunotherapy",)


def test_one_batch_applies_its_records_in_stream_order(tmp_path):
    # each record of a batch sees what the records before it wrote
    store = CorpusStore(tmp_path)
    [seed] = bundled_articles()
    v2 = replace(seed, version=2, title="Corrected title.")
    other = replace(seed, pmid="123456", title="Another article.")
    batch = [seed, v2, seed, other, Deletion((other.pmid,)), other, v2]
    assert store.apply_batch(batch, source="file") == UpsertStats(
        inserted=3, updated=1, unchanged=1, deleted=1, older=1
    )
    assert store.get(seed.pmid) == v2 and store.get(other.pmid) == other
    assert store.deleted_pmids() == set()  # re-inserted after its deletion
    later = [replace(v2, keywords=("ici",)), Deletion((seed.pmid,))]
    assert store.apply_batch(later) == UpsertStats(updated=1, deleted=1)
    assert store.get(seed.pmid) is None and store.deleted_pmids() == {seed.pmid}


def test_deletion_removes_article_and_results(tmp_path):
    store = CorpusStore(tmp_path)
    [seed] = bundled_articles()
    store.upsert_articles([seed])
    store.save_results([StoredResult(seed.pmid, 1, (), ())], extractor_version="x1")
    assert store.apply_batch([Deletion((seed.pmid, "999"))]) == UpsertStats(deleted=1)
    assert store.get(seed.pmid) is None and list(store.iter_results()) == []
    assert store.deleted_pmids() == {seed.pmid, "999"}


def test_a_batch_is_stored_whole_or_not_at_all(tmp_path, baseline):
    store = CorpusStore(tmp_path)
    store.upsert_articles(bundled_articles())

    def broken_stream():
        yield from (a for a in baseline[:300] if isinstance(a, Article))
        raise ParseError("stream.xml: malformed or truncated XML")

    with pytest.raises(ParseError):
        store.upsert_articles(broken_stream())
    assert store.count() == 1  # nothing of the broken batch, nothing already stored lost
    # a failure inside the transaction (an invalid record) rolls the whole batch back too
    bad = [a for a in baseline[:10] if isinstance(a, Article)] + [object()]
    with pytest.raises(AttributeError):
        store.apply_batch(bad)
    assert store.count() == 1


def _triple(pmid: str, extractor_version: str = "t1") -> Triple:
    values = {name: "" for name in TRIPLE_COLUMNS}
    values.update(
        pmid=pmid, sentence_id=0, negated=False, hedged=False, confidence=0.9,
        extractor_version=extractor_version, sentence_start=0, sentence_end=10, gene_start=0, gene_end=4,
        mechanism_start=5, mechanism_end=9, therapy_start=20, therapy_end=30, gene="PTEN", mechanism="loss",
        effect="resistance", therapy="anti-PD-1",
    )  # fmt: skip
    return Triple(**values)


def test_results_round_trip_replace_and_pending(tmp_path):
    store = CorpusStore(tmp_path)
    [seed] = bundled_articles()
    other = replace(seed, pmid="42", title="Other.")
    store.upsert_articles([seed, other])
    assert store.pending_extraction("t1") == ["42", seed.pmid]
    mention = Mention(0, 4, "PTEN", GENE, "PTEN", ("HGNC:9588",), "", "lexicon", 1.0)
    result = StoredResult(seed.pmid, 1, (mention,), (_triple(seed.pmid),))
    assert store.save_results([result]) == 1  # extractor version taken from the triples
    assert store.pending_extraction("t1") == ["42"]
    assert store.pending_extraction("t2") == ["42", seed.pmid]
    [back] = list(store.iter_results(extractor_version="t1"))
    assert (back.pmid, back.version, back.mentions, back.triples) == (
        seed.pmid,
        1,
        (mention,),
        result.triples,
    )
    store.save_results([StoredResult(seed.pmid, 1, (), ())], extractor_version="t1")  # re-extraction replaces
    assert [r.triples for r in store.iter_results([seed.pmid])] == [()]
    store.upsert_articles([replace(seed, version=2)])  # a new version needs extracting again
    assert store.pending_extraction("t1") == ["42", seed.pmid]


def test_state_and_file_status(tmp_path):
    store = CorpusStore(tmp_path)
    assert store.get_state("last_run") is None
    store.set_state("last_run", "2026/01/31")
    assert CorpusStore(tmp_path).get_state("last_run") == "2026/01/31"
    source = tmp_path / "f.xml"
    source.write_text("<PubmedArticleSet/>")
    assert store.file_status("f.xml", stage="ingest") is None
    store.mark_file_done("f.xml", stage="ingest", path=source, records=3)
    status = store.file_status("f.xml", stage="ingest")
    assert status.done and status.counts == {"records": 3} and status.matches(source)
    assert store.file_status("f.xml") is None  # another stage ("mine") has its own record
    source.write_text("<PubmedArticleSet></PubmedArticleSet>")
    assert not status.matches(source)


def test_missing_lists_what_is_not_stored(tmp_path):
    store = CorpusStore(tmp_path)
    store.upsert_articles(bundled_articles())
    assert store.missing(["5", "31205532", "5", "7"]) == ["5", "7"]


_HOLD_LOCK = """
import sys, time
from corpus.store import CorpusStore
with CorpusStore(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(directory, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(directory), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_second_run_is_refused_while_another_process_holds_the_lock(tmp_path):
    holder = _holder(tmp_path, 30)
    try:
        start = time.monotonic()
        with pytest.raises(StoreError, match=r"another run holds the store lock .*run.lock \(pid \d+\)"):
            with CorpusStore(tmp_path).lock():
                pass
        assert time.monotonic() - start < 1.0  # refused at once, not after a hang
    finally:
        holder.kill()
        holder.wait()
    with CorpusStore(tmp_path).lock():  # a killed holder's lock is released by the kernel
        pass


def test_lock_waits_for_a_run_that_finishes(tmp_path):
    holder = _holder(tmp_path, 0.5)
    try:
        start = time.monotonic()
        with CorpusStore(tmp_path).lock(wait=10, poll=0.05):
            waited = time.monotonic() - start
        assert 0.2 < waited < 5
    finally:
        holder.wait()


def test_corrupt_store_file_is_reported_and_left_alone(tmp_path):
    garbage = b"this is not a database" * 100
    (tmp_path / "corpus.sqlite").write_bytes(garbage)
    with pytest.raises(StoreError, match="corpus.sqlite"):
        CorpusStore(tmp_path).count()
    assert (tmp_path / "corpus.sqlite").read_bytes() == garbage


def test_store_pickles_by_directory(tmp_path):
    import pickle

    store = CorpusStore(tmp_path)
    store.upsert_articles(bundled_articles())
    assert pickle.loads(pickle.dumps(store)).count() == 1
