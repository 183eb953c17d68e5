"""The seed review (PMID 31205532) through the real pipeline: exactly the nine curated triples.

The expected rows are ``../shared/seed/seed_triples.tsv``; the text is the bundled copy of the abstract.
"""

from __future__ import annotations

import csv

import pytest
from conftest import shared_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seed_triples():
    from corpus.bundled import bundled_articles
    from extractors.api import extract_articles, load_pipeline

    [article] = [a for a in bundled_articles() if a.pmid == "31205532"]
    [result] = list(extract_articles([article], load_pipeline()))
    return article, result.triples


def test_seed_yields_exactly_the_nine_curated_triples(seed_triples):
    _, triples = seed_triples
    with shared_path("seed", "seed_triples.tsv").open(encoding="utf-8") as handle:
        expected = {
            (r["gene"], r["mechanism"], r["effect"], r["therapy"])
            for r in csv.DictReader(handle, delimiter="\t")
        }
    found = {(t.gene, t.mechanism, t.effect, t.therapy_class) for t in triples}
    assert found == expected
    assert len(expected) == 9


def test_seed_triples_point_into_the_text(seed_triples):
    article, triples = seed_triples
    text = article.text
    for t in triples:
        assert text[t.gene_start : t.gene_end] == t.gene_text
        assert text[t.mechanism_start : t.mechanism_end] == t.mechanism_text
        assert text[t.therapy_start : t.therapy_end] == t.therapy_text
        assert text[t.sentence_start : t.sentence_end] == t.evidence
        assert not t.negated and not t.hedged
    by_gene = {(t.gene, t.effect): t for t in triples}
    assert by_gene[("PTEN", "resistance")].therapy_scope == "abstract"
    assert by_gene[("IDO1", "countermeasure")].therapy_scope == "sentence"
    assert {by_gene[("JAK1", "resistance")].gene_text, by_gene[("JAK2", "resistance")].gene_text} == {
        "JAK1/2"
    }
