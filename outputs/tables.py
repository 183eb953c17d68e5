"""The four curated tables: each table's columns are defined here once (documented in outputs/README.md).

Tables are regenerated from the store on every run, in a stable order (PMID, then offsets), so a rerun
after a crash writes byte-identical files.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from corpus.article import Article
from extractors.mentions import Mention
from extractors.triples import TRIPLE_COLUMNS, Triple
from outputs.csvsafe import escape_cell, fsync_dir, temp_path_for, write_csv_atomic

ARTICLES_CSV = "articles.csv"
ENTITIES_CSV = "entities.csv"
TRIPLES_CSV = "triples.csv"
KNOWLEDGE_CSV = "knowledge.csv"
REPORT_HTML = "report.html"

ARTICLE_COLUMNS: tuple[str, ...] = (
    "pmid",
    "version",
    "title",
    "journal",
    "pub_year",
    "pub_date",
    "doi",
    "pmcid",
    "publication_types",
    "mesh",
    "keywords",
    "language",
    "retracted",
    "source",
    "n_entities",
    "n_triples",
)

ENTITY_COLUMNS: tuple[str, ...] = (
    "pmid",
    "version",
    "start",
    "end",
    "text",
    "label",
    "norm",
    "ids",
    "category",
    "source",
    "score",
)

# The extractor's own columns first, then what the tables add: the article's version and year (for
# first/last year in knowledge.csv) and the two keys (the per-sentence row key and the review key).
TRIPLE_TABLE_COLUMNS: tuple[str, ...] = TRIPLE_COLUMNS + ("version", "pub_year", "row_key", "knowledge_key")

REVIEW_STATUSES = ("pending", "accepted", "rejected")

KNOWLEDGE_COLUMNS: tuple[str, ...] = (
    "key",
    "gene",
    "gene_id",
    "mechanism",
    "effect",
    "therapy_class",
    "therapies",
    "cancer_types",
    "n_articles",
    "n_sentences",
    "pmids",
    "first_year",
    "last_year",
    "score",
    "evidence",
    "evidence_pmid",
    "status",
    "review_status",
    "review_note",
)

LIST_SEPARATOR = ";"


class ResultLike(Protocol):
    """What the store yields per article: ``extractors.api.ArticleResult``."""

    pmid: str
    version: int
    mentions: tuple[Mention, ...]
    triples: tuple[Triple, ...]


@dataclass(frozen=True, slots=True)
class TableCounts:
    articles: int
    entities: int
    triples: int


def article_row(article: Article, result: ResultLike | None) -> dict[str, Any]:
    return {
        "pmid": article.pmid,
        "version": article.version,
        "title": article.title,
        "journal": article.journal,
        "pub_year": article.pub_year,
        "pub_date": article.pub_date,
        "doi": article.doi,
        "pmcid": article.pmcid,
        "publication_types": LIST_SEPARATOR.join(article.publication_types),
        "mesh": LIST_SEPARATOR.join(heading.descriptor for heading in article.mesh),
        "keywords": LIST_SEPARATOR.join(article.keywords),
        "language": article.language,
        "retracted": article.retracted,
        "source": article.source,
        "n_entities": len(result.mentions) if result else 0,
        "n_triples": len(result.triples) if result else 0,
    }


def entity_rows(result: ResultLike) -> Iterator[dict[str, Any]]:
    for mention in sorted(result.mentions, key=lambda m: (m.start, m.end, m.label, m.norm)):
        yield {
            "pmid": result.pmid,
            "version": result.version,
            "start": mention.start,
            "end": mention.end,
            "text": mention.text,
            "label": mention.label,
            "norm": mention.norm,
            "ids": LIST_SEPARATOR.join(mention.ids),
            "category": mention.category,
            "source": mention.source,
            "score": mention.score,
        }


def triple_rows(result: ResultLike, pub_year: int | None) -> Iterator[dict[str, Any]]:
    for triple in sorted(result.triples, key=lambda t: (t.sentence_start, t.gene_start, t.row_key())):
        if triple.pmid != result.pmid:  # the result's PMID is authoritative (a triple may leave it empty)
            triple = replace(triple, pmid=result.pmid)
        row = triple.as_row()
        row.update(
            version=result.version,
            pub_year=pub_year,
            row_key=triple.row_key(),
            knowledge_key=triple.knowledge_key(),
        )
        yield row


def write_article_tables(
    out: Path, pairs: Iterable[tuple[Article, ResultLike | None]], *, checkpoint=None
) -> TableCounts:
    """Write articles.csv, entities.csv and triples.csv from (article, result) pairs in one pass.

    The three files are written to temporary files together and replaced only once all are complete,
    so a crash leaves either the old set or the new one.
    """
    out.mkdir(parents=True, exist_ok=True)
    specs = (
        (ARTICLES_CSV, ARTICLE_COLUMNS),
        (ENTITIES_CSV, ENTITY_COLUMNS),
        (TRIPLES_CSV, TRIPLE_TABLE_COLUMNS),
    )
    temps = {name: temp_path_for(out / name) for name, _ in specs}
    counts = dict.fromkeys(temps, 0)
    handles = {}
    try:
        writers = {}
        for name, columns in specs:
            handles[name] = temps[name].open("w", encoding="utf-8", newline="")
            writers[name] = csv.writer(handles[name], lineterminator="\n")
            writers[name].writerow(columns)
        columns_of = dict(specs)

        def emit(name: str, row: Mapping[str, Any]) -> None:
            writers[name].writerow([escape_cell(row.get(c)) for c in columns_of[name]])
            counts[name] += 1

        for article, result in pairs:
            emit(ARTICLES_CSV, article_row(article, result))
            if result is not None:
                for row in entity_rows(result):
                    emit(ENTITIES_CSV, row)
                for row in triple_rows(result, article.pub_year):
                    emit(TRIPLES_CSV, row)
            if checkpoint is not None:
                checkpoint("tables")
        for handle in handles.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for name, _ in specs:
            os.replace(temps[name], out / name)
        fsync_dir(out)
    except BaseException:
        for handle in handles.values():
            handle.close()
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    return TableCounts(counts[ARTICLES_CSV], counts[ENTITIES_CSV], counts[TRIPLES_CSV])


def split_list(cell: str) -> tuple[str, ...]:
    return tuple(part for part in cell.split(LIST_SEPARATOR) if part)


__all__ = [
    "ARTICLES_CSV",
    "ARTICLE_COLUMNS",
    "ENTITIES_CSV",
    "ENTITY_COLUMNS",
    "KNOWLEDGE_COLUMNS",
    "KNOWLEDGE_CSV",
    "REPORT_HTML",
    "REVIEW_STATUSES",
    "TRIPLES_CSV",
    "TRIPLE_TABLE_COLUMNS",
    "TableCounts",
    "write_article_tables",
    "write_csv_atomic",
]
