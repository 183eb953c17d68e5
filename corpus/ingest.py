"""Load local files into the store: PubMed/MEDLINE XML (.xml/.xml.gz), MEDLINE text, abstract exports.

The format is sniffed from the content, not the name. Records are stored in batches, one transaction
each: a file that breaks half-way keeps the batches completed before the damage (PubMed records are
independent) and stores nothing of the broken batch; the file is recorded as done only when all of it
is stored, so a killed or failed ingest resumes at the first unfinished file and re-ingesting a done
file is skipped (or, with ``force``, changes nothing: upserts are idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.article import Article
from corpus.errors import InputError, ParseError
from corpus.pubmed_xml import Deletion, iter_pubmed_xml
from corpus.store import CorpusStore, UpsertStats
from corpus.xmlsafe import open_binary, read_safely

STAGE = "ingest"
FORMATS = ("pubmed-xml", "medline-text", "abstract-export")
DEFAULT_BATCH = 1_000
_MEDLINE = re.compile(rb"^PMID- ?\d", re.MULTILINE)
_EXPORT = re.compile(rb"^\d+\. \S")


@dataclass(frozen=True)
class FileIngest:
    name: str
    format: str
    stats: UpsertStats
    records: int = 0
    without_abstract: int = 0
    not_english: int = 0
    skipped: bool = False


def sniff_format(path: Path) -> str:
    """``pubmed-xml``, ``medline-text`` or ``abstract-export`` from the first bytes (gzip looked through)."""
    stream, name, owned = open_binary(path)
    try:
        head = read_safely(stream, 4096, name)
    finally:
        if owned:
            stream.close()
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise ParseError(f"{name}: empty file")
    if text.startswith(b"<"):
        return "pubmed-xml"
    if _MEDLINE.search(text):
        return "medline-text"
    if _EXPORT.match(text):
        return "abstract-export"
    raise InputError(
        f"{name}: unrecognised format (not PubMed XML, MEDLINE text or a PubMed abstract export)"
    )


def iter_file(path: Path, file_format: str | None = None) -> Iterator[Article | Deletion]:
    """The records of one file, in order, whatever its format."""
    file_format = file_format or sniff_format(path)
    if file_format == "pubmed-xml":
        yield from iter_pubmed_xml(path)
        return
    stream, name, owned = open_binary(path)
    try:
        data = read_safely(stream, -1, name)
    finally:
        if owned:
            stream.close()
    if file_format == "medline-text":
        from corpus.medline_text import iter_medline_text

        yield from iter_medline_text(data, name=name)
    else:
        from corpus.abstract_export import iter_abstract_export

        yield from iter_abstract_export(data, name=name)


def ingest_file(
    store: CorpusStore,
    path: Path,
    batch_size: int = DEFAULT_BATCH,
    force: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> FileIngest:
    """Store one file batch by batch; see the module docstring for what survives a failure."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    status = store.file_status(path.name, stage=STAGE)
    if status is not None and status.done and status.matches(path) and not force:
        return FileIngest(path.name, "", UpsertStats(), skipped=True)
    file_format = sniff_format(path)
    stats = UpsertStats()
    records = without_abstract = not_english = 0
    batch: list[Article | Deletion] = []
    source = f"file:{path.name}"
    for item in iter_file(path, file_format):
        batch.append(item)
        if isinstance(item, Article):
            records += 1
            without_abstract += not item.abstract
            not_english += item.language not in ("eng", "und")
        if len(batch) >= batch_size:
            stats += store.apply_batch(batch, source=source)
            batch = []
            if on_batch:
                on_batch(records)
    if batch:
        stats += store.apply_batch(batch, source=source)
    if on_batch:
        on_batch(records)
    counts = dict(
        records=records,
        inserted=stats.inserted,
        updated=stats.updated,
        unchanged=stats.unchanged,
        deleted=stats.deleted,
    )
    store.mark_file_done(path.name, stage=STAGE, path=path, **counts)
    return FileIngest(path.name, file_format, stats, records, without_abstract, not_english)
