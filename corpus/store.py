"""The local corpus store: one SQLite file (``DIR/corpus.sqlite``) holding articles, results and run state.

Why SQLite: it ships with Python, a write is one ACID transaction (a batch is stored whole or not at
all, also under SIGKILL), WAL lets the report read while a run writes, and a single file is easy to back
up. Articles are stored as JSON that round-trips to the same ``Article`` (see :mod:`corpus.jsonio`).

Rules: one row per PMID holding its newest version; re-storing identical content changes nothing; a
higher version (or changed content at the same version) replaces the row; an older version is ignored.
Extraction results are keyed on PMID + extractor version and remember the article content they were
computed from, so :meth:`CorpusStore.pending_extraction` finds what is new or changed. ``lock()`` is the
exclusive run lock (``DIR/run.lock``, ``fcntl.flock``) so two scheduled runs never write at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus.article import Article
from corpus.errors import StoreError
from corpus.jsonio import article_digest, article_from_json, article_to_json, result_from_json, result_to_json
from corpus.pubmed_xml import Deletion

DB_NAME = "corpus.sqlite"
LOCK_NAME = "run.lock"
SCHEMA_VERSION = 1
_CHUNK = 500  # SQLite host-parameter batches

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    pmid INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    data TEXT NOT NULL,
    source TEXT NOT NULL,
    query TEXT,
    fetched_at TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    pmid INTEGER NOT NULL,
    extractor_version TEXT NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (pmid, extractor_version)
);
CREATE TABLE IF NOT EXISTS deletions (
    pmid INTEGER PRIMARY KEY,
    deleted_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    done INTEGER NOT NULL,
    size INTEGER,
    mtime REAL,
    counts TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (stage, name)
);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class UpsertStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    older: int = 0  # a lower version than the stored one: ignored

    def __add__(self, other: UpsertStats) -> UpsertStats:
        return UpsertStats(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.inserted, self.updated, self.unchanged, self.deleted, self.older)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True, slots=True)
class FileStatus:
    name: str
    done: bool
    size: int | None
    mtime: float | None
    counts: dict
    finished_at: str

    def matches(self, path: Path) -> bool:
        """The file on disk is the one recorded (same size and modification time)."""
        try:
            stat = path.stat()
        except OSError:
            return False
        return self.size == stat.st_size and self.mtime == stat.st_mtime


@dataclass(frozen=True, slots=True)
class Provenance:
    pmid: str
    version: int
    source: str
    query: str | None
    fetched_at: str
    first_seen: str


@dataclass(frozen=True, slots=True)
class StoredResult:
    """An extraction result as stored; the same fields as ``extractors.api.ArticleResult``."""

    pmid: str
    version: int
    mentions: tuple
    triples: tuple
    extractor_version: str = ""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CorpusStore:
    """A directory with the corpus database and the run lock. Cheap to create; connects lazily."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self._conn: sqlite3.Connection | None = None
        self._mutex = threading.RLock()
        self._lock_handle: Any = None

    def __reduce__(self):  # picklable for Prefect/Dask: reconnect on the other side
        return (CorpusStore, (self.directory,))

    def __repr__(self) -> str:
        return f"CorpusStore({str(self.directory)!r})"

    # ------------------------------------------------------------------ connection

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                reason = exc.strerror or exc
                raise StoreError(f"cannot create store directory {self.directory}: {reason}") from None
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.executescript(f"BEGIN;{_SCHEMA}COMMIT;")  # the schema appears whole or not at all
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store file {self.path} is unreadable or corrupt ({exc})") from None
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> CorpusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside is committed together or not at all."""
        with self._mutex:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store file {self.path}: cannot start a write ({exc})") from None
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    conn.execute("ROLLBACK")
                    raise StoreError(f"store file {self.path}: commit failed ({exc})") from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._mutex:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store file {self.path} is unreadable or corrupt ({exc})") from None

    # ------------------------------------------------------------------ articles

    def upsert_articles(
        self, articles: Iterable[Article], source: str | None = None, query: str | None = None
    ) -> UpsertStats:
        """Store a batch of articles in one transaction (all or nothing)."""
        return self.apply_batch(articles, source=source, query=query)

    def apply_batch(
        self, items: Iterable[Article | Deletion], source: str | None = None, query: str | None = None
    ) -> UpsertStats:
        """Apply articles and ``Deletion`` records in stream order, in one transaction."""
        items = list(items)  # materialise before the transaction: a parse error leaves the store untouched
        inserted = updated = unchanged = deleted = older = 0
        stamp = now()
        with self.transaction() as conn:
            try:
                for item in items:
                    if isinstance(item, Deletion):
                        deleted += self._delete(conn, item.pmids, source or "deletion", stamp)
                        continue
                    outcome = self._upsert(conn, item, source or item.source or "unknown", query, stamp)
                    if outcome == "inserted":
                        inserted += 1
                    elif outcome == "updated":
                        updated += 1
                    elif outcome == "older":
                        older += 1
                    else:
                        unchanged += 1
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store file {self.path}: write failed ({exc})") from None
        return UpsertStats(inserted, updated, unchanged, deleted, older)

    @staticmethod
    def _upsert(
        conn: sqlite3.Connection, article: Article, source: str, query: str | None, stamp: str
    ) -> str:
        digest = article_digest(article)
        key = int(article.pmid)
        row = conn.execute("SELECT version, digest FROM articles WHERE pmid = ?", (key,)).fetchone()
        if row is not None:
            version, old_digest = row
            if article.version < version:
                return "older"
            if article.version == version and old_digest == digest:
                return "unchanged"
            conn.execute(
                "UPDATE articles SET version=?, digest=?, data=?, source=?, query=?, fetched_at=? "
                "WHERE pmid=?",
                (article.version, digest, article_to_json(article), source, query, stamp, key),
            )
            return "updated"
        conn.execute(
            "INSERT INTO articles (pmid, version, digest, data, source, query, fetched_at, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, article.version, digest, article_to_json(article), source, query, stamp, stamp),
        )
        conn.execute("DELETE FROM deletions WHERE pmid = ?", (key,))
        return "inserted"

    @staticmethod
    def _delete(conn: sqlite3.Connection, pmids: Iterable[str], source: str, stamp: str) -> int:
        count = 0
        for pmid in (int(p) for p in pmids):
            count += conn.execute("DELETE FROM articles WHERE pmid = ?", (pmid,)).rowcount
            conn.execute("DELETE FROM results WHERE pmid = ?", (pmid,))
            conn.execute(
                "INSERT OR REPLACE INTO deletions (pmid, deleted_at, source) VALUES (?, ?, ?)",
                (pmid, stamp, source),
            )
        return count

    def delete(self, pmids: Iterable[str], source: str = "deletion") -> int:
        """Remove articles (and their results), as PubMed's ``<DeleteCitation>`` asks; returns how many."""
        with self.transaction() as conn:
            return self._delete(conn, list(pmids), source, now())

    delete_articles = delete

    def get(self, pmid: str) -> Article | None:
        key = _key(pmid)
        rows = self._query("SELECT data FROM articles WHERE pmid = ?", (key,)) if key is not None else []
        return article_from_json(rows[0][0]) if rows else None

    def __contains__(self, pmid: object) -> bool:
        key = _key(pmid)
        return key is not None and bool(self._query("SELECT 1 FROM articles WHERE pmid = ?", (key,)))

    def iter_articles(self, pmids: Iterable[str] | None = None) -> Iterator[Article]:
        """Articles in PMID order, or those of ``pmids`` that are stored, in the order given."""
        if pmids is None:
            last = -1
            while True:
                rows = self._query(
                    "SELECT pmid, data FROM articles WHERE pmid > ? ORDER BY pmid LIMIT ?", (last, _CHUNK)
                )
                if not rows:
                    return
                for _, data in rows:
                    yield article_from_json(data)
                last = rows[-1][0]
        else:
            for chunk in _chunks(_keys(pmids), _CHUNK):
                marks = ",".join("?" * len(chunk))
                found = dict(self._query(f"SELECT pmid, data FROM articles WHERE pmid IN ({marks})", chunk))
                for key in chunk:
                    if key in found:
                        yield article_from_json(found.pop(key))

    def versions(self, pmids: Iterable[str] | None = None) -> dict[str, int]:
        if pmids is None:
            return {str(p): v for p, v in self._query("SELECT pmid, version FROM articles ORDER BY pmid")}
        result: dict[str, int] = {}
        for chunk in _chunks(_keys(pmids), _CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self._query(f"SELECT pmid, version FROM articles WHERE pmid IN ({marks})", chunk)
            result.update((str(p), v) for p, v in rows)
        return result

    def missing(self, pmids: Iterable[str]) -> list[str]:
        """Those of ``pmids`` not stored, in the order given (what a fetch still has to get)."""
        wanted = list(dict.fromkeys(str(p) for p in pmids))
        have = self.versions(wanted)
        return [p for p in wanted if p not in have]

    def count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM articles")[0][0])

    def provenance(self, pmid: str) -> Provenance | None:
        rows = self._query(
            "SELECT pmid, version, source, query, fetched_at, first_seen FROM articles WHERE pmid = ?",
            (_key(pmid),),
        )
        return Provenance(str(rows[0][0]), *rows[0][1:]) if rows else None

    def deleted_pmids(self) -> set[str]:
        return {str(row[0]) for row in self._query("SELECT pmid FROM deletions")}

    # ------------------------------------------------------------------ extraction results

    def save_results(self, results: Iterable[Any], extractor_version: str | None = None) -> int:
        """Store per-article results (``pmid``, ``version``, ``mentions``, ``triples``) in one transaction.

        A result replaces the earlier one of the same PMID and extractor version. The extractor version
        is the argument, else the result's own ``extractor_version``, else that of its triples, else
        ``extractors.api.EXTRACTOR_VERSION``.
        """
        results = list(results)
        stamp = now()
        default = extractor_version
        with self.transaction() as conn:
            for result in results:
                version_tag = default or _extractor_version(result)
                row = conn.execute(
                    "SELECT version, digest FROM articles WHERE pmid = ?", (int(result.pmid),)
                ).fetchone()
                digest = row[1] if row is not None and row[0] == result.version else None
                conn.execute(
                    "INSERT OR REPLACE INTO results "
                    "(pmid, extractor_version, version, digest, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        int(result.pmid),
                        version_tag,
                        int(result.version),
                        digest,
                        result_to_json(tuple(result.mentions), tuple(result.triples)),
                        stamp,
                    ),
                )
        return len(results)

    def iter_results(
        self, pmids: Iterable[str] | None = None, extractor_version: str | None = None
    ) -> Iterator[StoredResult]:
        """Stored results in PMID order; with ``extractor_version``, only that version's."""
        version_clause = "extractor_version = ? AND " if extractor_version is not None else ""
        version_param = [extractor_version] if extractor_version is not None else []
        columns = "SELECT pmid, version, extractor_version, data FROM results"
        if pmids is not None:
            for chunk in _chunks(_keys(pmids), _CHUNK):
                marks = ",".join("?" * len(chunk))
                rows = self._query(
                    f"{columns} WHERE {version_clause}pmid IN ({marks}) ORDER BY pmid, extractor_version",
                    [*version_param, *chunk],
                )
                yield from (_stored(row) for row in rows)
            return
        last: tuple[int, str] = (-1, "")
        while True:  # keyset pagination on the primary key: each page is an index range scan
            rows = self._query(
                f"{columns} WHERE {version_clause}(pmid, extractor_version) > (?, ?) "
                "ORDER BY pmid, extractor_version LIMIT ?",
                [*version_param, *last, _CHUNK],
            )
            if not rows:
                return
            yield from (_stored(row) for row in rows)
            last = (rows[-1][0], rows[-1][2])

    def pending_extraction(self, extractor_version: str) -> list[str]:
        """PMIDs whose current article has no result from ``extractor_version`` (new, newer or changed)."""
        rows = self._query(
            "SELECT a.pmid FROM articles a LEFT JOIN results r "
            "ON r.pmid = a.pmid AND r.extractor_version = ? AND r.version = a.version "
            "AND (r.digest IS NULL OR r.digest = a.digest) "
            "WHERE r.pmid IS NULL ORDER BY a.pmid",
            (extractor_version,),
        )
        return [str(row[0]) for row in rows]

    # ------------------------------------------------------------------ files and state

    def file_status(self, name: str, stage: str = "mine") -> FileStatus | None:
        rows = self._query(
            "SELECT name, done, size, mtime, counts, finished_at FROM files WHERE stage = ? AND name = ?",
            (stage, str(name)),
        )
        if not rows:
            return None

        name_, done, size, mtime, counts, finished = rows[0]
        return FileStatus(name_, bool(done), size, mtime, json.loads(counts), finished)

    def mark_file_done(
        self, name: str, stage: str = "mine", path: Path | str | None = None, **counts: int
    ) -> None:
        """Record a file as completely processed by ``stage`` (``"ingest"``, ``"mine"``)."""

        size = mtime = None
        if path is not None:
            stat = Path(path).stat()
            size, mtime = stat.st_size, stat.st_mtime
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO files (stage, name, done, size, mtime, counts, finished_at) "
                "VALUES (?, ?, 1, ?, ?, ?, ?)",
                (stage, str(name), size, mtime, json.dumps(counts, sort_keys=True), now()),
            )

    def get_state(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM state WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO state (key, value, updated_at) VALUES (?, ?, ?)",
                (key, str(value), now()),
            )

    # ------------------------------------------------------------------ run lock

    @contextmanager
    def lock(self, wait: float = 0.0, poll: float = 0.2) -> Iterator[None]:
        """Hold the exclusive run lock; raise ``StoreError`` if another process holds it past ``wait`` s."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = open(self.directory / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise StoreError(f"cannot open the run lock in {self.directory}: {exc.strerror or exc}") from None
        deadline = time.monotonic() + max(wait, 0.0)
        try:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = _read_holder(self.directory / LOCK_NAME)
                        raise StoreError(
                            f"another run holds the store lock {self.directory / LOCK_NAME}{holder}; "
                            "wait for it to finish or try again later"
                        ) from None
                    time.sleep(poll)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                handle.flush()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()


def _read_holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def _extractor_version(result: Any) -> str:
    version = getattr(result, "extractor_version", None)
    if version:
        return str(version)
    for triple in getattr(result, "triples", ()):
        if getattr(triple, "extractor_version", None):
            return str(triple.extractor_version)
    from extractors.api import EXTRACTOR_VERSION  # the NER package's constant

    return str(EXTRACTOR_VERSION)


def _stored(row: tuple) -> StoredResult:
    pmid, version, extractor_version, data = row
    mentions, triples = result_from_json(data)
    return StoredResult(str(pmid), int(version), mentions, triples, extractor_version)


def _key(pmid: object) -> int | None:
    """The integer key of a PMID (SQLite's rowid: ordered and indexed); ``None`` if it is not one."""
    text = str(pmid).strip()
    return int(text) if text.isdigit() else None


def _keys(pmids: Iterable[object]) -> list[int]:
    return [k for k in (_key(p) for p in pmids) if k is not None]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
