"""The mining run as plain functions: search → fetch → store → extract → tables.

Each step runs without Prefect (``pipeline.flows`` wraps them in tasks) and keeps its progress in the
corpus store, so a run killed at any point is finished by the next one:

* the search window starts at the last *successful* run (store state ``mine.last_success``), using
  E-utilities' ``mindate``/``maxdate`` on the entry date (``edat``); PMIDs whose fetch failed are kept in
  ``mine.failed_pmids`` and asked for again next run;
* only PMIDs not yet in the store are fetched, unless the window is on the modification date (``mdat``):
  then revised records are fetched again and replace the stored ones; each fetched batch is stored in one
  transaction;
* extraction covers what the store reports pending for the current extractor version (new articles, newer
  versions, a new extractor), and saves results per chunk;
* the tables are regenerated from the store each run, so a rerun after a crash writes the same files.

The whole run holds the store's run lock: a second run started meanwhile waits ``lock_wait`` seconds
and then exits with a clear message.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus.article import Article
from corpus.errors import FetchError
from corpus.store import CorpusStore, UpsertStats
from outputs.csvsafe import remove_stale_temps
from outputs.knowledge import knowledge_rows, load_seed
from outputs.report import write_report
from outputs.review import MergeStats, read_review_file, write_knowledge
from outputs.tables import KNOWLEDGE_CSV, REPORT_HTML, TRIPLES_CSV, TableCounts, write_article_tables
from pipeline.config import Settings

log = logging.getLogger(__name__)

STATE_LAST_SUCCESS = "mine.last_success"
STATE_FAILED = "mine.failed_pmids"
EXTRACT_CHUNK = 64
CRASH_ENV = "RESISTMINE_CRASH_AT"
ARTIFACT_ROWS = 200
ARTIFACT_COLUMNS = (
    "gene", "mechanism", "effect", "therapy_class", "n_articles", "score", "status", "review_status",
)  # fmt: skip

Progress = Callable[[str, int, int], None]
Checkpoint = Callable[[str], None]

# Who shows progress (the CLI's rich bars); unset, the steps report nothing.
PROGRESS: ContextVar[Progress | None] = ContextVar("resistmine_progress", default=None)


# A search window on this date field also fetches records already stored (``plan_search``).
REFETCHING_DATETYPE = "mdat"


class MaxRecordsWarning(UserWarning):
    """The query matches more records than ``max_records``; only the first ones are mined."""


@dataclass(frozen=True, slots=True)
class SearchPlan:
    count: int
    found: tuple[str, ...]
    to_fetch: tuple[str, ...]
    retried: tuple[str, ...]
    mindate: str | None
    maxdate: str | None


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    stats: UpsertStats
    failed: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TablesOutcome:
    counts: TableCounts
    knowledge: int
    by_status: dict[str, int]
    new_keys: tuple[str, ...]
    review: MergeStats
    top: tuple[dict[str, Any], ...] = ()  # the first knowledge rows, for the run's table artifact


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did; published as the Prefect summary artifact (it never holds a secret)."""

    offline: bool
    query: str | None = None
    mindate: str | None = None
    maxdate: str | None = None
    datetype: str = "edat"
    searched: int = 0
    to_fetch: int = 0
    stored: UpsertStats = field(default_factory=UpsertStats)
    failed_pmids: tuple[str, ...] = ()
    fetch_error: str | None = None
    extracted: int = 0
    tables: TablesOutcome | None = None
    warnings: tuple[str, ...] = ()

    def counts(self) -> dict[str, Any]:
        """Plain counts: the flow's return value (Prefect stores it) and the CLI's last line."""
        written = self.tables
        return {
            "offline": self.offline,
            "stored": self.stored.inserted + self.stored.updated,
            "extracted": self.extracted,
            "failed_pmids": list(self.failed_pmids),
            "articles": written.counts.articles if written else 0,
            "triples": written.counts.triples if written else 0,
            "knowledge": written.knowledge if written else 0,
            "new": len(written.new_keys) if written else 0,
        }

    def markdown(self) -> str:
        lines = ["# resistmine run", ""]
        lines.append(f"- mode: {'offline' if self.offline else 'PubMed'}")
        if not self.offline:
            from corpus.eutils import DATETYPES  # not at import: it loads Biopython

            field_name = DATETYPES.get(self.datetype, self.datetype)
            lines.append(f"- window ({field_name}): {self.mindate or 'start'} – {self.maxdate}")
            lines.append(f"- PMIDs found: {self.searched}; fetched: {self.to_fetch}")
        lines.append(
            f"- stored: {self.stored.inserted} new, {self.stored.updated} updated, "
            f"{self.stored.unchanged} unchanged"
        )
        lines.append(f"- articles extracted: {self.extracted}")
        if self.tables is not None:
            t = self.tables
            lines.append(
                f"- tables: {t.counts.articles} articles, {t.counts.entities} entities, "
                f"{t.counts.triples} triples, {t.knowledge} knowledge rows"
            )
            lines.append(
                "- knowledge: " + ", ".join(f"{n} {status}" for status, n in sorted(t.by_status.items()))
            )
            lines.append(
                "- review: " + ", ".join(f"{n} {status}" for status, n in sorted(t.review.counts.items()))
            )
            if t.new_keys:
                shown = ", ".join(f"`{key}`" for key in t.new_keys[:20])
                more = f" and {len(t.new_keys) - 20} more" if len(t.new_keys) > 20 else ""
                lines.append(f"- new triples: {shown}{more}")
        if self.failed_pmids:
            lines.append(
                f"- **failed** to fetch {len(self.failed_pmids)} PMIDs (retried next run): "
                + ", ".join(self.failed_pmids[:20])
            )
        for warning in self.warnings:
            lines.append(f"- warning: {warning}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- crash points


def crash_points_from_env() -> Checkpoint | None:
    """Fault injection for the crash-safety test: ``RESISTMINE_CRASH_AT=stage:n`` SIGKILLs this process
    at the n-th checkpoint of ``stage`` (fetch, ingest, extract, tables). Unset, nothing happens."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return None
    stage, _, count = spec.partition(":")
    target = int(count or 1)
    seen = {"n": 0}

    def checkpoint(name: str) -> None:
        if name == stage:
            seen["n"] += 1
            if seen["n"] >= target:
                os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def _noop(_: str) -> None:
    return None


# ---------------------------------------------------------------------------------------------- search/fetch


def today_edat(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y/%m/%d")


def failed_pmids(store: CorpusStore) -> tuple[str, ...]:
    return tuple(json.loads(store.get_state(STATE_FAILED, "[]") or "[]"))


def plan_search(
    client: Any, store: CorpusStore, settings: Settings, now: datetime | None = None
) -> SearchPlan:
    """Ask PubMed for records entered since the last successful run (or the configured window)."""
    mindate = settings.mindate or store.get_state(STATE_LAST_SUCCESS)
    maxdate = settings.maxdate or today_edat(now)
    result = client.search(
        settings.query,
        mindate=mindate,
        maxdate=maxdate,
        datetype=settings.datetype,
        max_records=settings.max_records,
    )
    found = tuple(str(p) for p in result.pmids)
    if result.count > len(found) and len(found) >= settings.max_records:
        warnings.warn(
            f"the query matches {result.count} records; only the first {settings.max_records} are mined "
            "(raise --max-records or narrow the query)",
            MaxRecordsWarning,
            stacklevel=2,
        )
    retried = tuple(p for p in failed_pmids(store) if p not in store)
    # A window on the modification date finds revised records as well as new ones, so the stored ones are
    # fetched again: an abstract added after first indexing, or a correction, replaces the stored record
    # and is mined again (the store compares digests; an unchanged record stays as it is).
    wanted = found if settings.datetype == REFETCHING_DATETYPE else store.missing(found)
    to_fetch = tuple(dict.fromkeys([*wanted, *retried]))
    return SearchPlan(result.count, found, to_fetch, retried, mindate, maxdate)


def fetch_into_store(
    client: Any,
    store: CorpusStore,
    pmids: Iterable[str],
    query: str | None = None,
    checkpoint: Checkpoint = _noop,
    progress: Progress | None = None,
) -> FetchOutcome:
    """Fetch ``pmids`` batch by batch, storing each batch in one transaction.

    A batch E-utilities cannot deliver after bounded retries ends the fetch; the PMIDs not fetched are
    recorded in the store so that the next run asks for them again.
    """
    pmids = list(pmids)
    stats = UpsertStats()
    error: str | None = None
    missing: tuple[str, ...] = ()
    done = 0
    try:
        for batch in client.fetch(pmids):
            checkpoint("fetch")
            stats = stats + store.upsert_articles(batch, source="eutils", query=query)
            done += len(batch)
            if progress is not None:
                progress("fetch", done, len(pmids))
            checkpoint("ingest")
    except FetchError as exc:
        error = str(exc)
        missing = tuple(exc.missing_pmids) or tuple(store.missing(pmids))
    still_failed = tuple(p for p in dict.fromkeys([*failed_pmids(store), *missing]) if p not in store)
    store.set_state(STATE_FAILED, json.dumps(list(still_failed)))
    return FetchOutcome(stats, missing, error)


def ingest_bundled(store: CorpusStore) -> UpsertStats:
    """Put the bundled corpus (the seed review) in the store; unchanged articles are left alone."""
    from corpus.bundled import bundled_articles

    return store.upsert_articles(bundled_articles(), source="bundled")


# ---------------------------------------------------------------------------------------------- extraction


def extraction_version() -> str:
    from extractors.api import EXTRACTOR_VERSION

    return EXTRACTOR_VERSION


def extract_pending(
    store: CorpusStore,
    *,
    pmids: Iterable[str] | None = None,
    nlp: Any = None,
    settings: Settings | None = None,
    checkpoint: Checkpoint = _noop,
    progress: Progress | None = None,
) -> int:
    """Run NER and relation extraction on the articles without a current result; returns how many."""
    from extractors.api import extract_articles, load_pipeline

    version = extraction_version()
    pending = store.pending_extraction(version)
    if pmids is not None:
        wanted = {str(p) for p in pmids}
        pending = [p for p in pending if p in wanted]
    if not pending:
        return 0
    if nlp is None:
        nlp = load_pipeline(settings.model if settings else None)
    n_process = settings.n_process if settings else 1
    # Results are saved per chunk (one transaction): a killed run loses at most one chunk of work.
    size = max(1, min(EXTRACT_CHUNK, settings.batch_size if settings else EXTRACT_CHUNK))
    done = 0
    for start in range(0, len(pending), size):
        chunk = pending[start : start + size]
        articles = list(store.iter_articles(chunk))
        results = list(extract_articles(articles, nlp=nlp, n_process=n_process))
        checkpoint("extract")
        store.save_results(results, extractor_version=version)
        done += len(results)
        if progress is not None:
            progress("extract", done, len(pending))
    return done


# ---------------------------------------------------------------------------------------------- tables


def article_results(store: CorpusStore, version: str) -> Iterator[tuple[Article, Any]]:
    """Every stored article with its current result (or ``None``), merged in PMID order."""
    results = store.iter_results(extractor_version=version)
    pending_result = next(results, None)
    for article in store.iter_articles():
        number = int(article.pmid)
        while pending_result is not None and int(pending_result.pmid) < number:
            pending_result = next(results, None)
        result = None
        if pending_result is not None and pending_result.pmid == article.pmid:
            if pending_result.version == article.version:
                result = pending_result
            pending_result = next(results, None)
        yield article, result


def check_review_file(out: Path) -> None:
    """Fail before any work if a person's knowledge.csv cannot be read (it is then never touched)."""
    read_review_file(out / KNOWLEDGE_CSV)


def write_tables(
    store: CorpusStore,
    out: Path,
    *,
    checkpoint: Checkpoint = _noop,
    on_ready: Callable[[Path], None] | None = None,
) -> TablesOutcome:
    """Regenerate the four tables and the report from the store."""
    out = Path(out)
    check_review_file(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    counts = write_article_tables(out, article_results(store, extraction_version()), checkpoint=checkpoint)
    rows, evidence = knowledge_rows(out / TRIPLES_CSV, load_seed())
    checkpoint("tables")
    merged, review = write_knowledge(out / KNOWLEDGE_CSV, rows, on_ready=on_ready)
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    new_keys = tuple(row["key"] for row in rows if row["status"] == "new")
    checkpoint("tables")
    summary = (
        f"{counts.articles} articles, {counts.triples} triples, {len(merged)} knowledge rows "
        f"({', '.join(f'{n} {s}' for s, n in sorted(by_status.items()))}); review: "
        + ", ".join(f"{n} {s}" for s, n in review.counts.items())
    )
    write_report(out / REPORT_HTML, merged, evidence, summary)
    top = tuple({name: row.get(name) for name in ARTIFACT_COLUMNS} for row in merged[:ARTIFACT_ROWS])
    return TablesOutcome(counts, len(merged), by_status, new_keys, review, top)


# ---------------------------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Steps:
    """The run's steps; ``pipeline.flows`` passes the same functions wrapped as Prefect tasks."""

    ingest_bundled: Callable[[CorpusStore], UpsertStats]
    plan: Callable[[Settings, CorpusStore], SearchPlan]
    fetch: Callable[[Settings, CorpusStore, tuple[str, ...]], FetchOutcome]
    extract: Callable[[Settings, CorpusStore], int]
    tables: Callable[[CorpusStore, Path], TablesOutcome]


def plain_steps(
    client: Any = None, nlp: Any = None, now: datetime | None = None, checkpoint: Checkpoint = _noop
) -> Steps:
    def make_client(settings: Settings) -> Any:
        if client is not None:
            return client
        from corpus.eutils import EutilsClient

        return EutilsClient.from_settings(settings)

    def plan(settings: Settings, store: CorpusStore) -> SearchPlan:
        return plan_search(make_client(settings), store, settings, now)

    def fetch(settings: Settings, store: CorpusStore, pmids: tuple[str, ...]) -> FetchOutcome:
        return fetch_into_store(
            make_client(settings), store, pmids, settings.query, checkpoint, PROGRESS.get()
        )

    def extract(settings: Settings, store: CorpusStore) -> int:
        return extract_pending(
            store, nlp=nlp, settings=settings, checkpoint=checkpoint, progress=PROGRESS.get()
        )

    def tables(store: CorpusStore, out: Path) -> TablesOutcome:
        return write_tables(store, out, checkpoint=checkpoint)

    return Steps(ingest_bundled, plan, fetch, extract, tables)


def mine(
    settings: Settings,
    *,
    offline: bool = False,
    steps: Steps | None = None,
    lock_wait: float = 0.0,
) -> RunSummary:
    """One complete run under the store's run lock: the flow and ``resistmine run --no-prefect`` both
    come here, with their own ``steps``."""
    if steps is None:
        steps = plain_steps(checkpoint=crash_points_from_env() or _noop)
    store = CorpusStore(settings.store)
    out = Path(settings.out)
    try:
        check_review_file(out)
        with store.lock(wait=lock_wait):
            plan: SearchPlan | None = None
            outcome = FetchOutcome(UpsertStats(), ())
            caught: list[str] = []
            if offline:
                stored = steps.ingest_bundled(store)
            else:
                with warnings.catch_warnings(record=True) as raised:
                    warnings.simplefilter("always", MaxRecordsWarning)
                    plan = steps.plan(settings, store)
                for w in raised:
                    if issubclass(w.category, MaxRecordsWarning):
                        caught.append(str(w.message))
                    else:  # not ours to report: hand it back to the warnings machinery
                        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                for message in caught:
                    log.warning(message)
                outcome = steps.fetch(settings, store, plan.to_fetch)
                stored = outcome.stats
            extracted = steps.extract(settings, store)
            tables = steps.tables(store, out)
            if plan is not None and plan.maxdate:
                # The window is done even if some PMIDs failed: mine.failed_pmids brings them back next run.
                store.set_state(STATE_LAST_SUCCESS, plan.maxdate)
    finally:
        store.close()
    return RunSummary(
        offline=offline,
        query=None if offline else settings.query,
        mindate=plan.mindate if plan else None,
        maxdate=plan.maxdate if plan else None,
        datetype=settings.datetype,
        searched=len(plan.found) if plan else 0,
        to_fetch=len(plan.to_fetch) if plan else 0,
        stored=stored,
        failed_pmids=outcome.failed,
        fetch_error=outcome.error,
        extracted=extracted,
        tables=tables,
        warnings=tuple(caught),
    )
