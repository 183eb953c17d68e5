"""Parquet copies of the row tables: same rows as the CSV builders, typed, partitioned by year, atomic."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from table_records import Result

from corpus.article import Article
from extractors.mentions import GENE, THERAPY, Mention
from extractors.triples import Triple
from outputs.parquet import NULL_PARTITION, PARQUET_DIR, ParquetTables, read_table, write_parquet
from outputs.tables import entity_rows, triple_rows

TITLE = "PTEN loss promotes resistance to anti-PD-1 therapy."
ABSTRACT = "Loss of PTEN in melanoma cells increased resistance to pembrolizumab."


def _triple(pmid: str) -> Triple:
    return Triple(
        pmid=pmid,
        sentence_id=0,
        gene="PTEN",
        gene_id="HGNC:9588",
        gene_text="PTEN",
        mechanism="loss",
        mechanism_text="loss",
        effect="resistance",
        therapy="anti-PD-1",
        therapy_class="anti-PD-1",
        therapy_text="anti-PD-1",
        therapy_scope="sentence",
        cancer_type="melanoma",
        negated=False,
        hedged=False,
        evidence=TITLE,
        sentence_start=0,
        sentence_end=len(TITLE),
        gene_start=0,
        gene_end=4,
        mechanism_start=5,
        mechanism_end=9,
        therapy_start=32,
        therapy_end=41,
        confidence=0.9,
        extractor_version="test",
    )


def _pairs() -> list[tuple[Article, Result | None]]:
    pairs: list[tuple[Article, Result | None]] = []
    for number, year in enumerate((2016, 2016, 2019, None, 2019)):
        pmid = str(1000 + number)
        article = Article(pmid=pmid, title=TITLE, abstract=ABSTRACT, pub_year=year, journal="J")
        mentions = (
            Mention(0, 4, "PTEN", GENE, "PTEN", ("HGNC:9588",)),
            Mention(32, 41, "anti-PD-1", THERAPY, "anti-PD-1", category="anti-PD-1", score=0.75),
        )
        triples = (_triple(pmid),) if number % 2 == 0 else ()
        result = None if number == 4 else Result(pmid, 1, mentions, triples)
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
