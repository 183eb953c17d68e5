"""Small real records for the table tests: one sentence of the seed review, with its offsets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from corpus.article import Article
from extractors.mentions import Mention
from extractors.triples import Triple

TITLE = "Molecular Mechanisms and Countermeasures of Immunotherapy Resistance in Malignant Tumor."
SENTENCE = "PTEN loss causes resistance to immune checkpoint blockade in melanoma."


@dataclass(frozen=True)
class Result:
    """The shape of ``extractors.api.ArticleResult``."""

    pmid: str
    version: int
    mentions: tuple[Mention, ...]
    triples: tuple[Triple, ...]


def make_article(
    pmid: str = "31205532", title: str = TITLE, abstract: str = SENTENCE, year: int = 2019
) -> Article:
    return Article(
        pmid=pmid, title=title, abstract=abstract, pub_year=year, journal="J Cancer", source="test"
    )


def make_triple(article: Article, **changes) -> Triple:
    text = article.text
    s0 = text.index(SENTENCE) if SENTENCE in text else len(article.title) + 1
    sentence = text[s0 : s0 + len(SENTENCE)] if SENTENCE in text else article.abstract
    base = Triple(
        pmid=article.pmid,
        sentence_id=1,
        gene="PTEN",
        gene_id="HGNC:9588",
        gene_text="PTEN",
        mechanism="loss",
        mechanism_text="loss",
        effect="resistance",
        therapy="immune checkpoint blockade",
        therapy_class="immune checkpoint blockade",
        therapy_text="immune checkpoint blockade",
        therapy_scope="sentence",
        cancer_type="melanoma",
        negated=False,
        hedged=False,
        evidence=sentence,
        sentence_start=s0,
        sentence_end=s0 + len(sentence),
        gene_start=s0,
        gene_end=s0 + 4,
        mechanism_start=s0 + 5,
        mechanism_end=s0 + 9,
        therapy_start=s0 + 31,
        therapy_end=s0 + 57,
        confidence=0.9,
        extractor_version="test-1",
    )
    return replace(base, **changes)


def make_result(article: Article, *triples: Triple) -> Result:
    mentions = tuple(
        Mention(t.gene_start, t.gene_end, t.gene_text, "GENE", t.gene, (t.gene_id,), source="test")
        for t in triples
    )
    return Result(article.pmid, article.version, mentions, triples)
