"""Parquet copies of the row tables: same rows as the CSV builders, typed, partitioned by year, atomic."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from table_records import Result, make_article, make_triple

from corpus.article import Article
from extractors.mentions import GENE, THERAPY, Mention
from outputs.parquet import NULL_PARTITION, PARQUET_DIR, ParquetTables, read_table, write_parquet
from outputs.tables import entity_rows, triple_rows


def _pairs() -> list[tuple[Article, Result | None]]:
    """Five articles over two years and none; four with results, two of those with a triple."""
    pairs: list[tuple[Article, Result | None]] = []
    for number, year in enumerate((2016, 2016, 2019, None, 2019)):
        article = make_article(str(1000 + number), year=year)
        t = make_triple(article)
        mentions = (
            Mention(t.gene_start, t.gene_end, t.gene_text, GENE, t.gene, (t.gene_id,)),
            Mention(t.therapy_start, t.therapy_end, t.therapy_text, THERAPY, t.therapy,
                    category=t.therapy_class, score=0.75),
        )
        triples = (t,) if number % 2 == 0 else ()
        result = None if number == 4 else Result(article.pmid, 1, mentions, triples)
        pairs.append((article, result))
    return pairs


def test_rows_round_trip_typed_and_partitioned_by_year(tmp_path):
    pairs = _pairs()
    counts = write_parquet(tmp_path, pairs)
    assert counts == {"articles": 5, "entities": 8, "triples": 2}

    years = sorted(p.name for p in (tmp_path / PARQUET_DIR / "entities").iterdir())
    assert years == ["year=2016", "year=2019", f"year={NULL_PARTITION}"]

    triples = read_table(tmp_path, "triples").to_pylist()
    expected = [row for article, result in pairs if result for row in triple_rows(result, article.pub_year)]
    assert sorted((row["pmid"], row["year"]) for row in triples) == [("1000", 2016), ("1002", 2019)]
    for row in triples:
        want = next(e for e in expected if e["pmid"] == row["pmid"])
        assert {k: row[k] for k in want} == want  # same values and Python types as the CSV rows
    entities = read_table(tmp_path, "entities")
    assert entities.schema.field("start").type == "int64"
    assert entities.schema.field("score").type == "double"
    by_pmid = [r for r in entities.to_pylist() if r["pmid"] == "1003"]
    assert [r["year"] for r in by_pmid] == [None, None]
    assert by_pmid[0] | {"year": None} == next(entity_rows(pairs[3][1])) | {"year": None}


def test_small_buffers_write_several_row_groups_with_the_same_rows(tmp_path):
    pairs = _pairs() * 3
    with ParquetTables(tmp_path, row_group_rows=2, max_buffered_rows=3) as tables:
        passed = list(tables.tap(pairs))
    assert passed == pairs
    path = tmp_path / PARQUET_DIR / "entities" / "year=2016" / "part-0.parquet"
    assert pq.ParquetFile(path).num_row_groups > 1
    assert read_table(tmp_path, "entities").num_rows == 24
    assert read_table(tmp_path, "articles").num_rows == 15


def test_a_failed_write_keeps_the_previous_dataset(tmp_path):
    write_parquet(tmp_path, _pairs())
    with pytest.raises(RuntimeError), ParquetTables(tmp_path, row_group_rows=1) as tables:
        for article, result in _pairs()[:2]:
            tables.add(article, result)
        raise RuntimeError("killed mid-write")
    assert read_table(tmp_path, "articles").num_rows == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [PARQUET_DIR]  # no temporary directory left


def test_a_rerun_replaces_rather_than_appends(tmp_path):
    write_parquet(tmp_path, _pairs())
    write_parquet(tmp_path, _pairs()[:2])
    assert read_table(tmp_path, "articles").num_rows == 2
    assert read_table(tmp_path, "triples").num_rows == 1
    assert not (tmp_path / PARQUET_DIR / "articles" / "year=2019").exists()
