"""The Prefect flow ``mine``: thin tasks over the plain functions of ``pipeline.mining``.

Network tasks (search, fetch) retry; the others do not, because their failures are not transient.
No task caches its result in Prefect (``NO_CACHE``): the corpus store is the cache. Work done is kept
there keyed on PMID, version and extractor version, survives crashes and is shared with the CLI, while
Prefect's input-hash cache would key on a store handle whose contents change underneath it.

Flow parameters are stored by Prefect and shown in its UI, so they never include the API key: the
flow reads settings (and the key) from the config file and the environment of the process that runs it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from corpus.store import CorpusStore, UpsertStats
from pipeline import mining
from pipeline.config import Settings, load_settings

SUMMARY_ARTIFACT = "resistmine-run-summary"
KNOWLEDGE_ARTIFACT = "resistmine-knowledge"


def _client(settings: Settings) -> Any:
    from corpus.eutils import EutilsClient

    return EutilsClient.from_settings(settings)


@task(name="search PubMed", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE)
def search(settings: Settings, store: CorpusStore) -> mining.SearchPlan:
    plan = mining.plan_search(_client(settings), store, settings)
    get_run_logger().info(
        "window %s – %s: %d PMIDs found, %d to fetch (%d retried)",
        plan.mindate or "start", plan.maxdate, len(plan.found), len(plan.to_fetch), len(plan.retried),
    )  # fmt: skip
    return plan


@task(name="fetch and store", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE)
def fetch(settings: Settings, store: CorpusStore, pmids: tuple[str, ...]) -> mining.FetchOutcome:
    outcome = mining.fetch_into_store(
        _client(settings), store, pmids, settings.query, checkpoint=_checkpoint(), progress=_progress
    )
    if outcome.failed:
        get_run_logger().warning(
            "%d PMIDs not fetched (retried next run): %s", len(outcome.failed), outcome.error
        )
    return outcome


@task(name="store bundled corpus", cache_policy=NO_CACHE)
def ingest_bundled(store: CorpusStore) -> UpsertStats:
    return mining.ingest_bundled(store)


@task(name="extract triples", cache_policy=NO_CACHE)
def extract(settings: Settings, store: CorpusStore) -> int:
    return mining.extract_pending(store, settings=settings, checkpoint=_checkpoint(), progress=_progress)


@task(name="write tables", cache_policy=NO_CACHE)
def tables(store: CorpusStore, out: Path) -> mining.TablesOutcome:
    return mining.write_tables(store, out, checkpoint=_checkpoint())


_CRASH_POINTS: dict[str, mining.Checkpoint] = {}


def _checkpoint() -> mining.Checkpoint:
    """One crash-point counter per process (see ``mining.crash_points_from_env``)."""
    if "run" not in _CRASH_POINTS:
        _CRASH_POINTS["run"] = mining.crash_points_from_env() or mining._noop
    return _CRASH_POINTS["run"]


def _progress(stage: str, done: int, total: int) -> None:
    reporter = mining.PROGRESS.get()
    if reporter is not None:
        reporter(stage, done, total)
    else:
        get_run_logger().info("%s: %d/%d", stage, done, total)


TASK_STEPS = mining.Steps(
    ingest_bundled=ingest_bundled, plan=search, fetch=fetch, extract=extract, tables=tables
)


@flow(name="mine", log_prints=True, timeout_seconds=timedelta(hours=12).total_seconds())
def mine(
    offline: bool = False,
    query: str | None = None,
    mindate: str | None = None,
    maxdate: str | None = None,
    max_records: int | None = None,
    store: str | None = None,
    out: str | None = None,
    config: str | None = None,
    lock_wait: float = 0.0,
) -> dict[str, Any]:
    """Search → fetch → store → extract → tables; ``offline`` mines the store plus the bundled corpus."""
    settings = load_settings(
        config, query=query, mindate=mindate, maxdate=maxdate, max_records=max_records, store=store, out=out
    )
    summary = mining.mine(settings, offline=offline, steps=TASK_STEPS, lock_wait=lock_wait)
    publish(summary)
    for warning in summary.warnings:
        get_run_logger().warning(warning)
    return summary.counts()


def publish(summary: mining.RunSummary) -> None:
    """The run's markdown summary and a table of the knowledge rows (seed, supports, new), as artifacts."""
    create_markdown_artifact(summary.markdown(), key=SUMMARY_ARTIFACT, description="resistmine run summary")
    if summary.tables is not None and summary.tables.top:
        create_table_artifact(
            [dict(row) for row in summary.tables.top],
            key=KNOWLEDGE_ARTIFACT,
            description=f"knowledge rows (first {mining.ARTIFACT_ROWS}): seed, supports, new",
        )
