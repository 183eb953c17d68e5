"""Bulk mining of PubMed baseline and update files: parse → NER + relations → store, one task per file.

A file is the unit of work and of resumption. Inside a file the work streams in chunks of
``chunk_size`` citations, so memory stays flat however large the file; the store records a file as
done only after every chunk of it is saved, so a killed run resumes at the first unfinished file and
never re-mines a finished one. A file interrupted half-way is mined again from its start: saving is an
idempotent upsert keyed on PMID, version and extractor version, so that costs time but never a
duplicate row.

On one machine the files run one after the other in the flow process, and ``extract_articles``'
``n_process`` worker processes spread each file's abstracts across cores. On a Dask cluster
(``dask_address``, or ``workers`` for a ``LocalCluster``) each file is a Prefect task on a Dask worker
that returns plain, picklable records; the flow process alone writes the store, so SQLite never sees two
writers.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.article import Article
from corpus.errors import InputError

if TYPE_CHECKING:
    from pipeline.config import Settings

DEFAULT_CHUNK_SIZE = 1_000
SOURCE = "bulk"
STAGE = "mine"  # the store's per-file status for this flow (``resistmine ingest`` records "ingest")


@dataclass(frozen=True)
class FileChunk:
    """Up to ``chunk_size`` consecutive records of one file with their extraction results (plain data)."""

    file: str
    records: tuple[Any, ...]  # Article | corpus.pubmed_xml.Deletion, in file order
    results: tuple[Any, ...]  # extractors.api.ArticleResult

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(r for r in self.records if isinstance(r, Article))

    @property
    def deleted(self) -> tuple[str, ...]:
        return tuple(pmid for r in self.records if not isinstance(r, Article) for pmid in r.pmids)

    @property
    def abstracts(self) -> int:
        return sum(1 for article in self.articles if article.abstract)

    @property
    def triples(self) -> int:
        return sum(len(result.triples) for result in self.results)

    def save(self, store: Any) -> None:
        """Apply the records in file order, then the results of the PMIDs still alive afterwards.

        Both are idempotent upserts keyed on PMID (and extractor version), so saving a chunk twice,
        as a resumed run does for the file it was killed in, leaves the store as saving it once.
        """
        if self.records:
            store.apply_batch(self.records, source=f"{SOURCE}:{self.file}")
        alive = _alive_after(self.records)
        results = [r for r in self.results if alive.get(r.pmid, True)]
        if results:
            store.save_results(results)


def _alive_after(records: Iterable[Any]) -> dict[str, bool]:
    """Whether each PMID of the records exists after applying them in order (a later deletion wins)."""
    alive: dict[str, bool] = {}
    for record in records:
        if isinstance(record, Article):
            alive[record.pmid] = True
        else:
            alive.update(dict.fromkeys(record.pmids, False))
    return alive


@dataclass(frozen=True)
class FileOutcome:
    """What one file contributed: counts for the summary, and the chunks when a worker mined it."""

    file: str
    citations: int = 0
    abstracts: int = 0
    deleted: int = 0
    triples: int = 0
    seconds: float = 0.0
    skipped: bool = False
    path: str = ""
    worker: str = ""  # host:pid of the process that mined the file
    chunks: tuple[FileChunk, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class BulkSummary:
    files: tuple[FileOutcome, ...]
    seconds: float
    tables: tuple[str, ...] = ()
    runner: str = "local"

    @property
    def mined(self) -> tuple[str, ...]:
        return tuple(f.file for f in self.files if not f.skipped)

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(f.file for f in self.files if f.skipped)

    @property
    def citations(self) -> int:
        return sum(f.citations for f in self.files)

    @property
    def abstracts(self) -> int:
        return sum(f.abstracts for f in self.files)

    @property
    def triples(self) -> int:
        return sum(f.triples for f in self.files)

    def __str__(self) -> str:
        rate = f", {self.abstracts / self.seconds:.0f} abstracts/s" if self.seconds and self.abstracts else ""
        lines = [
            f"bulk run ({self.runner}): {len(self.mined)} file(s) mined, {len(self.skipped)} already done; "
            f"{self.citations} citations, {self.abstracts} abstracts, {self.triples} triples "
            f"in {self.seconds:.1f} s{rate}",
        ]
        lines += [f"  wrote {path}" for path in self.tables]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runner": self.runner,
            "files_mined": list(self.mined),
            "files_skipped": list(self.skipped),
            "citations": self.citations,
            "abstracts": self.abstracts,
            "triples": self.triples,
            "seconds": round(self.seconds, 2),
            "abstracts_per_second": round(self.abstracts / self.seconds, 1) if self.seconds else None,
            "tables": list(self.tables),
        }


# ---------------------------------------------------------------------------------- plain functions


def file_key(path: Path) -> str:
    """How the store names a file: its base name (PubMed's file names are unique and stable)."""
    return Path(path).name


def check_files(files: Iterable[Path | str]) -> list[Path]:
    paths = [Path(f) for f in files]
    if not paths:
        raise InputError("no input files given")
    for path in paths:
        if not path.is_file():
            raise InputError(f"input file {path} does not exist")
    names = [file_key(p) for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"two input files share the name {duplicates[0]}; the store keys files by name")
    return paths


def _chunks(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def mining_pipeline(model: str | None = None, max_new_words: int | None = None) -> Any:
    """The cached pipeline, rebuilt between files once its vocab has outgrown ``max_new_words``
    (``extractors.api.fresh_pipeline``): what keeps a worker's memory flat over the whole baseline."""
    from extractors.api import MAX_NEW_WORDS, fresh_pipeline

    return fresh_pipeline(model, MAX_NEW_WORDS if max_new_words is None else max_new_words)


def iter_file_chunks(path: Path | str, nlp: Any = None, n_process: int = 1, batch_size: int = 256,
                     chunk_size: int = DEFAULT_CHUNK_SIZE, limit: int | None = None) -> Iterator[FileChunk]:
    """Stream one file as chunks of parsed and mined records; ``limit`` stops after that many abstracts.

    One ``extract_articles`` stream runs over the whole file (so its worker processes start once),
    fed lazily from the parser; each chunk is yielded as soon as the results for its abstracts are
    in. Only citations with an abstract go through the pipeline; the others are stored without results.
    """
    from corpus.pubmed_xml import iter_pubmed_xml
    from extractors.api import extract_articles

    nlp = nlp if nlp is not None else mining_pipeline()
    name = file_key(Path(path))
    pending: deque[tuple[list[Any], int]] = deque()  # parsed chunks (and their abstracts) not all mined yet

    def to_mine() -> Iterator[Article]:
        seen = 0
        for batch in _chunks(iter_pubmed_xml(path), chunk_size):
            if limit is not None:
                kept: list[Any] = []
                for record in batch:
                    if seen >= limit:
                        break
                    kept.append(record)
                    seen += _minable(record)
                batch = kept
            minable = [record for record in batch if _minable(record)]
            pending.append((batch, len(minable)))
            yield from minable
            if limit is not None and seen >= limit:
                return

    results = iter(extract_articles(to_mine(), nlp=nlp, n_process=n_process, batch_size=batch_size))
    ready: deque[Any] = deque()
    exhausted = False
    while True:
        while pending and len(ready) >= pending[0][1]:
            batch, need = pending.popleft()
            yield FileChunk(name, tuple(batch), tuple(ready.popleft() for _ in range(need)))
        if exhausted:
            if pending:
                raise RuntimeError(f"{name}: the pipeline returned fewer results than abstracts")
            return
        try:
            ready.append(next(results))
        except StopIteration:
            exhausted = True


def _minable(record: Any) -> bool:
    return isinstance(record, Article) and bool(record.abstract)


def mine_file_into_store(path: Path, store: Any, nlp: Any = None, n_process: int = 1, batch_size: int = 256,
                         chunk_size: int = DEFAULT_CHUNK_SIZE,
                         progress: Callable[[str], None] | None = None) -> FileOutcome:
    """Mine one file chunk by chunk into ``store``, then record it as done."""
    start = time.perf_counter()
    citations = abstracts = deleted = triples = 0
    for number, chunk in enumerate(iter_file_chunks(path, nlp, n_process, batch_size, chunk_size), 1):
        chunk.save(store)
        citations += len(chunk.articles)
        abstracts += chunk.abstracts
        deleted += len(chunk.deleted)
        triples += chunk.triples
        if progress:
            progress(f"saved {file_key(path)} chunk {number} ({citations} citations)")
    outcome = FileOutcome(file_key(path), citations, abstracts, deleted, triples, time.perf_counter() - start,
                          path=str(path), worker=_worker_id())
    _mark_done(store, outcome, path)
    return outcome


def mine_file(path: str, model: str | None = None, batch_size: int = 256,
              chunk_size: int = DEFAULT_CHUNK_SIZE, max_new_words: int | None = None) -> FileOutcome:
    """Mine one file into memory (on a Dask worker): the caller saves the chunks and marks the file done."""
    start = time.perf_counter()
    nlp = mining_pipeline(model, max_new_words)  # cached per worker process
    chunks = tuple(iter_file_chunks(path, nlp, 1, batch_size, chunk_size))
    return FileOutcome(
        file_key(Path(path)),
        path=str(path),
        worker=_worker_id(),
        citations=sum(len(c.articles) for c in chunks),
        abstracts=sum(c.abstracts for c in chunks),
        deleted=sum(len(c.deleted) for c in chunks),
        triples=sum(c.triples for c in chunks),
        seconds=time.perf_counter() - start,
        chunks=chunks,
    )


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def save_outcome(store: Any, outcome: FileOutcome) -> FileOutcome:
    """Store a worker's chunks, record the file as done, and drop the chunks from the returned record."""
    for chunk in outcome.chunks:
        chunk.save(store)
    _mark_done(store, outcome, outcome.path)
    return replace(outcome, chunks=())


def _mark_done(store: Any, outcome: FileOutcome, path: Path | str) -> None:
    store.mark_file_done(outcome.file, stage=STAGE, path=path, citations=outcome.citations,
                         abstracts=outcome.abstracts, deleted=outcome.deleted, triples=outcome.triples)


def is_done(store: Any, path: Path) -> bool:
    """Mined before, and the file is unchanged since (same size and modification time)."""
    status = store.file_status(file_key(path), stage=STAGE)
    return status is not None and status.done and status.matches(Path(path))


# ------------------------------------------------------------------------------------- Prefect + Dask


@contextmanager
def prefect_api_for_workers(need: bool, warn: Callable[[str], None] | None = None) -> Iterator[None]:
    """Give Dask workers the flow's Prefect API instead of one ephemeral server each.

    Without ``PREFECT_API_URL`` every process that runs a task starts its own ephemeral server
    (~15 s each, and a second SQLite writer on Prefect's database). We start one here and put its
    URL into the settings context, which prefect-dask ships with every task to the workers. A
    remote cluster cannot reach this 127.0.0.1 server: point ``PREFECT_API_URL`` at a real server.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if not need or PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    if warn:
        warn(f"no PREFECT_API_URL: Dask workers report to this run's temporary Prefect server "
             f"{server.api_url}; workers on other hosts cannot reach it, so set PREFECT_API_URL to a "
             "Prefect server they can reach")
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield


def _task_runner(dask_address: str | None, workers: int | None) -> Any:
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if workers:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            # one single-threaded process per worker: spaCy releases the GIL too rarely for threads
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None, "silence_logs": logging.WARNING},
        )
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=1)


def _build_flow(runner: Any, progress: Callable[[str], None] | None) -> Any:
    """The Prefect flow; its parameters are plain values (they are recorded by the Prefect API)."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    mine_file_task = task(mine_file, name="mine-file", cache_policy=NO_CACHE, persist_result=False)
    local_file_task = task(mine_file_into_store, name="mine-file-into-store", cache_policy=NO_CACHE,
                           persist_result=False)
    say = progress or (lambda _message: None)

    @flow(name="bulk-mine", task_runner=runner, persist_result=False)
    def bulk_mine(files: list[str], store_dir: str, model: str | None, n_process: int, batch_size: int,
                  chunk_size: int, distributed: bool, max_new_words: int | None = None) -> list[FileOutcome]:
        from corpus.store import CorpusStore

        store = CorpusStore(store_dir)
        outcomes: dict[str, FileOutcome] = {}
        todo: list[Path] = []
        for name in files:
            path = Path(name)
            if is_done(store, path):
                outcomes[file_key(path)] = FileOutcome(file_key(path), skipped=True)
                say(f"skipped {file_key(path)}: already mined")
            else:
                todo.append(path)
        if distributed:
            futures = [mine_file_task.submit(str(p), model, batch_size, chunk_size, max_new_words)
                       for p in todo]
            # Saved strictly in file order while the workers keep mining: update files must apply in
            # sequence (a later file's newer version or <DeleteCitation> wins), and the finished files
            # stay a prefix of the list, so a restart resumes at the first unfinished one.
            for future in futures:
                outcome = save_outcome(store, future.result())
                outcomes[outcome.file] = outcome
                say(f"done {outcome.file}: {outcome.abstracts} abstracts, {outcome.triples} triples")
        else:
            for path in todo:
                # no reference kept across files: a pipeline that is rebuilt must be free to go
                outcome = local_file_task(path, store, mining_pipeline(model, max_new_words), n_process,
                                          batch_size, chunk_size, progress)
                outcomes[outcome.file] = outcome
                say(f"done {outcome.file}: {outcome.abstracts} abstracts, {outcome.triples} triples")
        return [outcomes[file_key(Path(name))] for name in files]

    return bulk_mine


def run_bulk(files: Sequence[Path | str], settings: Settings, dask_address: str | None = None,
             workers: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE, write_tables: bool = True,
             progress: Callable[[str], None] | None = None) -> BulkSummary:
    """Mine ``files`` into ``settings.store`` (resuming), then write the tables to ``settings.out``."""
    from corpus.store import CorpusStore

    if dask_address and workers:
        raise InputError("give either --dask-address or --workers, not both")
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    processes = settings.n_process
    if type(processes) is not int or processes < 1:
        raise InputError(f"n_process (--processes) must be a whole number of processes (1 or more), "
                         f"not {processes!r}")
    budget = settings.max_new_words
    if budget is not None and (type(budget) is not int or budget < 0):
        raise InputError(f"max_new_words must be a whole number of words (0 or more), not {budget!r}")
    paths = check_files(files)
    distributed = bool(dask_address or workers)
    runner_name = "local"
    if distributed:
        runner_name = f"dask:{dask_address}" if dask_address else f"dask:LocalCluster({workers})"
    start = time.perf_counter()
    store = CorpusStore(settings.store)
    progress = progress or _to_stderr
    with ExitStack() as stack:
        stack.enter_context(store.lock())
        remote = bool(dask_address) and not _is_local(dask_address)
        stack.enter_context(prefect_api_for_workers(distributed, progress if remote else None))
        flow = _build_flow(_task_runner(dask_address, workers), progress)
        outcomes = flow([str(p.resolve()) for p in paths], str(settings.store), settings.model,
                        settings.n_process, settings.batch_size, chunk_size, distributed,
                        settings.max_new_words)
        tables: tuple[str, ...] = ()
        if write_tables:
            tables = write_bulk_tables(store, settings)
    return BulkSummary(tuple(outcomes), time.perf_counter() - start, tables, runner_name)


def write_bulk_tables(store: Any, settings: Settings) -> tuple[str, ...]:
    """The run's tables (``pipeline.mining.write_tables``: CSVs, knowledge.csv, report), then their Parquet
    copies from the same (article, result) stream."""
    from outputs.parquet import PARQUET_DIR, write_parquet
    from outputs.tables import ARTICLES_CSV, ENTITIES_CSV, KNOWLEDGE_CSV, REPORT_HTML, TRIPLES_CSV
    from pipeline.mining import article_results, extraction_version, write_tables

    out = Path(settings.out)
    write_tables(store, out)
    write_parquet(out, article_results(store, extraction_version()))
    names = (ARTICLES_CSV, ENTITIES_CSV, TRIPLES_CSV, KNOWLEDGE_CSV, REPORT_HTML, PARQUET_DIR)
    return tuple(str(out / name) for name in names)


def _is_local(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in {"127.0.0.1", "localhost", "::1", socket.gethostname()}


def _to_stderr(message: str) -> None:
    print(f"resistmine: {message}", file=sys.stderr, flush=True)
