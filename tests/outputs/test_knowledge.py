from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from table_records import make_article, make_result, make_triple

from outputs.knowledge import knowledge_rows, load_seed, seed_status
from outputs.tables import TRIPLES_CSV, write_article_tables


def _write(tmp_path: Path, pairs) -> Path:
    write_article_tables(tmp_path, pairs)
    return tmp_path / TRIPLES_CSV


def test_seed_knowledge_is_the_seed_reviews_nine_triples() -> None:
    seed = load_seed()
    assert len(seed) == 9
    assert {s.pmid for s in seed} == {"31205532"}
    assert "PTEN|loss|resistance|immune checkpoint blockade" in {s.key for s in seed}


def test_aggregation_counts_articles_years_and_excludes_negated(tmp_path: Path) -> None:
    a1 = make_article("100", year=2018)
    a2 = make_article("200", year=2021)
    a3 = make_article("300", year=2023)
    t1 = make_triple(a1, confidence=0.6)
    t2 = make_triple(a2, confidence=0.9)
    t3 = make_triple(a3, negated=True)
    new = make_triple(a1, gene="CD274", gene_id="HGNC:17635", mechanism="amplification", sentence_id=2)
    path = _write(
        tmp_path, [(a1, make_result(a1, t1, new)), (a2, make_result(a2, t2)), (a3, make_result(a3, t3))]
    )
    rows, evidence = knowledge_rows(path, load_seed())
    by_key = {r["key"]: r for r in rows}
    pten = by_key["PTEN|loss|resistance|immune checkpoint blockade"]
    assert pten["n_articles"] == 2  # the negated statement in PMID 300 does not count
    assert pten["pmids"] == "100;200"
    assert (pten["first_year"], pten["last_year"]) == (2018, 2021)
    assert pten["status"] == "seed"
    assert abs(pten["score"] - (1 - 0.4 * 0.1)) < 1e-4
    assert pten["evidence_pmid"] == "200"  # highest confidence wins
    ev = evidence[pten["key"]]
    assert [ev.sentence[s:e] for s, e, _ in ev.spans] == ["PTEN", "loss", "immune checkpoint blockade"]
    assert by_key["CD274|amplification|resistance|immune checkpoint blockade"]["status"] == "new"
    # every seed row is present, extracted or not, and seed rows come first
    assert len(rows) == 10
    assert [r["status"] for r in rows][:9] == ["seed"] * 9
    assert all(r["review_status"] == "pending" for r in rows)


def test_hedged_statements_count_half(tmp_path: Path) -> None:
    a = make_article("100")
    path = _write(tmp_path, [(a, make_result(a, make_triple(a, hedged=True, confidence=0.8)))])
    rows, _ = knowledge_rows(path, ())
    assert rows[0]["score"] == 0.4


def test_supports_means_same_gene_effect_class_and_direction() -> None:
    seed = {"PTEN|loss|resistance|immune checkpoint blockade"}
    assert seed_status("PTEN|deletion|resistance|immune checkpoint blockade", seed) == "supports"
    assert seed_status("PTEN|amplification|resistance|immune checkpoint blockade", seed) == "new"
    assert seed_status("PTEN|deletion|sensitivity|immune checkpoint blockade", seed) == "new"


def test_empty_triples_table_gives_the_seed_rows(tmp_path: Path) -> None:
    a = make_article("100")
    path = _write(tmp_path, [(a, None)])
    rows, evidence = knowledge_rows(path, load_seed())
    assert len(rows) == 9 and evidence == {}
    assert {r["n_articles"] for r in rows} == {0}


def test_tables_are_byte_identical_on_rewrite_and_sorted(tmp_path: Path) -> None:
    a = make_article("100")
    b = make_article("20")
    pairs = [
        (b, make_result(b, make_triple(b))),
        (a, make_result(a, make_triple(a), replace(make_triple(a)))),
    ]
    write_article_tables(tmp_path / "one", pairs)
    write_article_tables(tmp_path / "two", pairs)
    for name in ("articles.csv", "entities.csv", "triples.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_the_results_pmid_fills_a_triple_that_left_its_own_empty(tmp_path: Path) -> None:
    a = make_article("100")
    path = _write(tmp_path, [(a, make_result(a, make_triple(a, pmid="")))])
    rows, _ = knowledge_rows(path, ())
    assert rows[0]["pmids"] == "100" and rows[0]["n_articles"] == 1
    assert "100:1:PTEN:loss" in path.read_text(encoding="utf-8")
