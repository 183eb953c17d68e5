"""Parquet copies of articles, entities and triples beside the CSVs, partitioned by publication year.

At PubMed scale the CSVs are for people and the Parquet files for programs (DuckDB, pandas, Spark): typed
columns, compressed, and one directory per year (``parquet/triples/year=2016/part-0.parquet``, the Hive
layout every engine reads), so a question about recent years reads only those files.

The rows are the CSV rows, built by the same functions in ``outputs.tables``; only the cell escaping
for spreadsheets is left out. ``ParquetTables.tap(pairs)`` passes the (article, result) pairs through
unchanged while it writes them, so the CSV writer and this one share one pass over the store. Memory
stays bounded: rows wait in per-(table, year) buffers that are flushed as row groups. The new dataset is
written beside the old one and swapped in only when complete; a crash leaves the previous dataset.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.article import Article
from outputs.tables import (
    ARTICLE_COLUMNS,
    ENTITY_COLUMNS,
    TRIPLE_TABLE_COLUMNS,
    ResultLike,
    article_row,
    entity_rows,
    triple_rows,
)

PARQUET_DIR = "parquet"
PARTITION = "year"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # Hive's, pyarrow's and DuckDB's name for a missing year
Pair = tuple[Article, ResultLike | None]

_INT = {"version", "pub_year", "n_entities", "n_triples", "start", "end", "sentence_id", "sentence_start",
        "sentence_end", "gene_start", "gene_end", "mechanism_start", "mechanism_end", "therapy_start",
        "therapy_end"}
_FLOAT = {"score", "confidence"}
_BOOL = {"retracted", "negated", "hedged"}


def _type(column: str) -> pa.DataType:
    if column in _INT:
        return pa.int64()
    if column in _FLOAT:
        return pa.float64()
    if column in _BOOL:
        return pa.bool_()
    return pa.string()


def schema_for(columns: Sequence[str]) -> pa.Schema:
    """Typed columns in the CSV's order; anything not numeric or boolean is a string."""
    return pa.schema([pa.field(c, _type(c)) for c in columns])


TABLES: dict[str, tuple[str, ...]] = {
    "articles": ARTICLE_COLUMNS,
    "entities": ENTITY_COLUMNS,
    "triples": TRIPLE_TABLE_COLUMNS,
}


class ParquetTables:
    """Write the three row tables as year-partitioned Parquet datasets under ``out/parquet``.

    Use as a context manager; the datasets replace the old ones on a clean exit only.
    """

    def __init__(self, out: Path | str, row_group_rows: int = 50_000,
                 max_buffered_rows: int = 200_000) -> None:
        self.out = Path(out)
        self.final = self.out / PARQUET_DIR
        self.row_group_rows = row_group_rows
        self.max_buffered_rows = max_buffered_rows
        self.schemas = {name: schema_for(columns) for name, columns in TABLES.items()}
        self.counts = dict.fromkeys(TABLES, 0)
        self._buffers: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        self._writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self._buffered = 0
        self._tmp: Path | None = None

    # -- lifecycle
    def __enter__(self) -> ParquetTables:
        self.out.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{PARQUET_DIR}.tmp-", dir=self.out))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._flush_all()
        finally:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
        assert self._tmp is not None
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return
        for name in TABLES:  # an empty table is still a readable dataset (one empty file)
            if self.counts[name] == 0:
                (self._tmp / name).mkdir(exist_ok=True)
                pq.write_table(self.schemas[name].empty_table(), self._tmp / name / "empty.parquet")
        self._swap_in(self._tmp)

    def _swap_in(self, tmp: Path) -> None:
        old = None
        if self.final.exists():
            old = self.out / f".{PARQUET_DIR}.old-{tmp.name.rsplit('-', 1)[-1]}"
            self.final.rename(old)
        tmp.rename(self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # -- writing
    def add(self, article: Article, result: ResultLike | None) -> None:
        """Add one article's rows to the three tables."""
        year = NULL_PARTITION if article.pub_year is None else str(article.pub_year)
        self._push("articles", year, article_row(article, result))
        if result is not None:
            for row in entity_rows(result):
                self._push("entities", year, row)
            for row in triple_rows(result, article.pub_year):
                self._push("triples", year, row)

    def tap(self, pairs: Iterable[Pair]) -> Iterator[Pair]:
        """Yield ``pairs`` unchanged, writing each one on the way (for one pass shared with the CSVs)."""
        for article, result in pairs:
            self.add(article, result)
            yield article, result

    def _push(self, table: str, year: str, row: Mapping[str, Any]) -> None:
        key = (table, year)
        buffer = self._buffers.setdefault(key, [])
        buffer.append(row)
        self.counts[table] += 1
        self._buffered += 1
        if len(buffer) >= self.row_group_rows:
            self._flush(key)
        elif self._buffered >= self.max_buffered_rows:
            self._flush_all()

    def _flush_all(self) -> None:
        for key in list(self._buffers):
            self._flush(key)

    def _flush(self, key: tuple[str, str]) -> None:
        rows = self._buffers.pop(key, [])
        if not rows:
            return
        self._buffered -= len(rows)
        table, year = key
        schema = self.schemas[table]
        batch = pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)
        writer = self._writers.get(key)
        if writer is None:
            assert self._tmp is not None
            directory = self._tmp / table / f"{PARTITION}={year}"
            directory.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(directory / "part-0.parquet", schema, compression="zstd")
            self._writers[key] = writer
        writer.write_table(batch)


def write_parquet(out: Path | str, pairs: Iterable[Pair]) -> dict[str, int]:
    """Write the three datasets from (article, result) pairs; returns rows per table."""
    with ParquetTables(out) as tables:
        for article, result in pairs:
            tables.add(article, result)
    return dict(tables.counts)


def read_table(out: Path | str, table: str) -> pa.Table:
    """One dataset back as an Arrow table, with ``year`` restored from the partition directories."""
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(pa.schema([(PARTITION, pa.int64())]), flavor="hive")
    dataset = ds.dataset(Path(out) / PARQUET_DIR / table, format="parquet", partitioning=partitioning)
    return dataset.to_table()
