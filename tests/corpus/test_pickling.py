"""Records pickle as their field values and come back equal, bookkeeping fields included."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from corpus.article import AbstractSection, Article, MeshHeading
from corpus.pickling import pickled_as_fields
from extractors.api import ArticleResult
from extractors.mentions import GENE, Mention


def test_records_round_trip_through_pickle():
    article = Article(pmid="31205532", version=2, title="T", abstract="A",
                      sections=(AbstractSection(text="A", label="AIMS"),),
                      mesh=(MeshHeading("Humans", "D006801", False, ("genetics",)),),
                      authors=("Jiang X",), extra={"journal_abbrev": "Mol Cancer", "status": "MEDLINE"})
    mention = Mention(0, 4, "PTEN", GENE, "PTEN", ("HGNC:9588",), "gene", "lexicon:gene", 0.95)
    result = ArticleResult("31205532", 2, (mention,), ())
    for record in (article, mention, result):
        for protocol in (2, pickle.HIGHEST_PROTOCOL):
            assert pickle.loads(pickle.dumps(record, protocol)) == record
    assert pickle.loads(pickle.dumps(article)).extra == article.extra  # extra is compare=False


def test_a_record_that_post_processes_its_fields_is_refused():
    @dataclass(frozen=True)
    class Normalised:
        name: str

        def __post_init__(self) -> None:
            object.__setattr__(self, "name", self.name.upper())

    with pytest.raises(TypeError, match="__post_init__"):
        pickled_as_fields(Normalised)
