"""The plain mining functions, without Prefect: offline runs, the incremental window, retries, the lock."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest
from leakcheck import SECRET, assert_secret_absent

from corpus.errors import ReviewFileError, StoreError
from corpus.store import CorpusStore
from pipeline import mining
from pipeline.config import Settings

TABLES = ("articles.csv", "entities.csv", "triples.csv", "knowledge.csv", "report.html")


def _settings(tmp_path: Path, **changes) -> Settings:
    base = Settings(store=tmp_path / "store", out=tmp_path / "out", email="resistmine-tests@example.org")
    return base.with_overrides(**changes)


def _knowledge(out: Path) -> dict[str, dict[str, str]]:
    with (out / "knowledge.csv").open(encoding="utf-8", newline="") as handle:
        return {row["key"]: row for row in csv.DictReader(handle)}


def _set_review(out: Path, key: str, status: str, note: str) -> None:
    path = out / "knowledge.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == key:
            row[header.index("review_status")], row[header.index("review_note")] = status, note
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_offline_run_writes_the_tables_with_the_seed_triples_and_keeps_review_edits(tmp_path, nlp) -> None:
    settings = _settings(tmp_path)
    summary = mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp))
    out = settings.out
    assert all((out / name).is_file() for name in TABLES)
    assert summary.extracted == 1 and summary.tables.counts.articles == 1
    knowledge = _knowledge(out)
    seed = [row for row in knowledge.values() if row["status"] == "seed"]
    assert len(seed) == 9
    assert all(row["pmids"] == "31205532" and row["n_articles"] == "1" for row in seed), seed
    assert "PTEN|loss|resistance|immune checkpoint blockade" in knowledge

    before = {name: (out / name).read_bytes() for name in TABLES}
    _set_review(out, "PTEN|loss|resistance|immune checkpoint blockade", "rejected", "-checked by hand")
    _set_review(out, "IDO1|inhibition|countermeasure|immune checkpoint blockade", "accepted", "")
    again = mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp))
    assert again.extracted == 0  # nothing new: results come from the store
    knowledge = _knowledge(out)
    pten = knowledge["PTEN|loss|resistance|immune checkpoint blockade"]
    assert (pten["review_status"], pten["review_note"]) == ("rejected", "'-checked by hand")
    ido1 = knowledge["IDO1|inhibition|countermeasure|immune checkpoint blockade"]
    assert ido1["review_status"] == "accepted"
    for name in ("articles.csv", "entities.csv", "triples.csv"):
        assert (out / name).read_bytes() == before[name]


def test_scheduled_runs_are_incremental_and_retry_failed_pmids(tmp_path, nlp, eutils) -> None:
    settings = _settings(
        tmp_path,
        eutils_url=eutils.base_url,
        query="melanoma",
        maxdate="2024/01/31",
        max_tries=2,
        api_key=SECRET,
    )
    eutils.add_fault("503", endpoint="efetch", times=20)
    first = mining.mine(settings, steps=mining.plain_steps(nlp=nlp))
    assert first.searched == 3 and len(first.failed_pmids) == 3 and first.fetch_error
    with CorpusStore(settings.store) as store:
        assert store.count() == 0
        assert store.get_state(mining.STATE_LAST_SUCCESS) == "2024/01/31"
        assert sorted(mining.failed_pmids(store)) == sorted(first.failed_pmids)
    eutils.clear()

    second = mining.mine(settings.with_overrides(maxdate="2024/02/29"), steps=mining.plain_steps(nlp=nlp))
    search = eutils.requests_to("esearch")[-1].params
    assert search["mindate"] == "2024/01/31" and search["maxdate"] == "2024/02/29"
    assert second.searched == 0  # nothing entered since the last run …
    assert second.to_fetch == 3 and second.failed_pmids == ()  # … but last run's failures are fetched
    with CorpusStore(settings.store) as store:
        assert store.count() == 3 and mining.failed_pmids(store) == ()
    assert second.tables.counts.articles == 3
    assert assert_secret_absent(tmp_path) >= 5


def test_a_modification_date_window_fetches_revised_records_again(tmp_path, nlp, eutils) -> None:
    settings = _settings(tmp_path, eutils_url=eutils.base_url, query="melanoma", maxdate="2024/01/31")
    first = mining.mine(settings, steps=mining.plain_steps(nlp=nlp))
    assert first.to_fetch == 3 and first.stored.inserted == 3
    _, (revised, *_) = eutils.search({"term": "melanoma"})
    eutils.revise(revised, "Loss of PTEN confers resistance to anti-PD-1 therapy in melanoma.", "2024/02/15")
    steps = mining.plain_steps(nlp=nlp)

    # On the entry date the revision is invisible: the record was entered long before.
    by_entry = settings.with_overrides(maxdate="2024/02/29")
    with CorpusStore(settings.store) as store:
        assert steps.plan(by_entry, store).to_fetch == ()

    by_modification = by_entry.with_overrides(datetype="mdat")
    second = mining.mine(by_modification, steps=steps)
    search = eutils.requests_to("esearch")[-1].params
    assert (search["datetype"], search["mindate"], search["maxdate"]) == ("mdat", "2024/01/31", "2024/02/29")
    assert revised in eutils.requests_to("efetch")[-1].ids
    assert second.stored.updated == 1 and second.stored.inserted == 0 and second.extracted == 1
    assert "window (modification date): 2024/01/31 – 2024/02/29" in second.markdown()
    with CorpusStore(settings.store) as store:
        assert "Loss of PTEN" in store.get(revised).abstract
    with (settings.out / "triples.csv").open(encoding="utf-8", newline="") as handle:
        assert any(row["pmid"] == revised and row["gene"] == "PTEN" for row in csv.DictReader(handle))


def test_a_query_past_max_records_is_bounded_with_a_warning(tmp_path, nlp, eutils) -> None:
    eutils.count_override = 2_500_000
    settings = _settings(
        tmp_path, eutils_url=eutils.base_url, query="resistance", max_records=4, maxdate="2024/01/31"
    )
    summary = mining.mine(settings, steps=mining.plain_steps(nlp=nlp))
    assert summary.to_fetch == 4 and summary.tables.counts.articles == 4
    assert any("2500000" in w and "max-records" in w for w in summary.warnings), summary.warnings
    assert "warning" in summary.markdown()


def test_a_second_run_waits_for_or_refuses_the_store_lock(tmp_path, nlp) -> None:
    settings = _settings(tmp_path)
    holder = CorpusStore(settings.store)
    with holder.lock():
        with pytest.raises(StoreError, match="another run holds the store lock"):
            mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp))
    assert not settings.out.exists()  # refused before writing anything

    release = threading.Event()

    def hold() -> None:
        with holder.lock():
            release.set()
            time.sleep(1.5)

    thread = threading.Thread(target=hold)
    thread.start()
    release.wait(5)
    started = time.monotonic()
    summary = mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp), lock_wait=30)
    thread.join()
    assert time.monotonic() - started >= 1.0 and summary.tables.counts.articles == 1
    holder.close()


def test_a_broken_review_file_stops_the_run_before_any_work(tmp_path, nlp) -> None:
    settings = _settings(tmp_path)
    settings.out.mkdir(parents=True)
    broken = b"key,review_status,review_note\nPTEN|loss|resistance|x,maybe,\n"
    (settings.out / "knowledge.csv").write_bytes(broken)
    with pytest.raises(ReviewFileError, match="line 2"):
        mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp))
    assert (settings.out / "knowledge.csv").read_bytes() == broken
    assert sorted(p.name for p in settings.out.iterdir()) == ["knowledge.csv"]


def test_reruns_of_the_table_step_keep_edits_made_between_and_during_them(tmp_path, nlp) -> None:
    settings = _settings(tmp_path)
    mining.mine(settings, offline=True, steps=mining.plain_steps(nlp=nlp))
    keys = sorted(_knowledge(settings.out))
    expected: dict[str, tuple[str, str]] = {}
    edited_during: set[int] = set()
    with CorpusStore(settings.store) as store:
        for run in range(10):
            key = keys[run % len(keys)]
            _set_review(settings.out, key, "accepted", f"=between {run}")
            expected[key] = ("accepted", f"'=between {run}")
            during_key = keys[(run + 3) % len(keys)]

            def person(path: Path, run: int = run, key: str = during_key) -> None:
                if run not in edited_during:  # once per run: the person saves while the run writes
                    edited_during.add(run)
                    _set_review(path.parent, key, "rejected", f"during {run}")

            outcome = mining.write_tables(store, settings.out, on_ready=person)
            expected[during_key] = ("rejected", f"during {run}")
            assert outcome.review.attempts == 2
            knowledge = _knowledge(settings.out)
            assert {
                k: (r["review_status"], r["review_note"]) for k, r in knowledge.items() if k in expected
            } == (expected)
