"""Fuzzing the parsers: random and mutated input gives sane articles or a typed error, never a crash."""

from __future__ import annotations

import gzip

from conftest import REPO, shared_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.abstract_export import iter_abstract_export
from corpus.article import Article
from corpus.errors import InputError
from corpus.medline_text import iter_medline_text
from corpus.pubmed_xml import Deletion, iter_pubmed_xml
from corpus.textclean import clean_text

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SNIPPETS = [b"<", b"&", b"]]>", b"<AbstractText Label='X'>", b"</Abstract>", b"\xce\xb3", b"\x00", b"&lol;"]
SEED = (REPO / "corpus" / "bundled" / "pmid31205532.txt").read_bytes()


def _check(article: Article) -> None:
    assert article.pmid.isdigit()
    assert article.text.startswith(article.title)
    for section in article.sections:
        assert 0 <= section.start <= len(article.abstract)
        prefix = f"{section.label}: " if section.label and section.text else (section.label or "")
        assert article.abstract[section.start :].startswith(prefix + section.text)
    assert article.title == article.title.strip() and "  " not in article.abstract


def _run(parse, data: bytes) -> None:
    try:
        for item in parse(data):
            if isinstance(item, Article):
                _check(item)
            else:
                assert isinstance(item, Deletion)
    except InputError:  # ParseError, UnsafeXMLError: typed, one line, named input
        pass


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "delete", "insert", "flip"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "cut":
            del data[position:]
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 200))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=40) | st.sampled_from(SNIPPETS))
        elif data:
            data[position] = draw(st.integers(0, 255))
    return bytes(data)


def _pubmed_sample() -> bytes:
    return shared_path("data", "pubmed_xml", "biopython", "Entrez", "pubmed4.xml").read_bytes()


@FUZZ
@given(st.binary(max_size=2000))
def test_pubmed_xml_random_bytes(data):
    _run(iter_pubmed_xml, data)


@FUZZ
@given(st.data())
def test_pubmed_xml_mutated_real_records(data):
    sample = _pubmed_sample()
    blob = data.draw(mutated(sample))
    _run(iter_pubmed_xml, blob)
    _run(iter_pubmed_xml, gzip.compress(blob)[: data.draw(st.integers(10, 10_000))])


@FUZZ
@given(st.data())
def test_medline_text_mutated(data):
    sample = shared_path("data", "pubmed_xml", "biopython", "Medline", "pubmed_result2.txt").read_bytes()
    _run(lambda b: iter_medline_text(b, name="fuzz"), data.draw(mutated(sample)))


@FUZZ
@given(st.data())
def test_abstract_export_mutated(data):
    _run(lambda b: iter_abstract_export(b, name="fuzz"), data.draw(mutated(SEED)))


@FUZZ
@given(st.text(max_size=300))
def test_text_formats_random_text(text):
    _run(lambda b: iter_medline_text(b, name="fuzz"), text.encode())
    _run(lambda b: iter_abstract_export(b, name="fuzz"), ("1. J. 2020.\n\n" + text).encode())


@FUZZ
@given(st.text(max_size=300))
def test_clean_text_is_trimmed_and_single_spaced(text):
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip() and "  " not in cleaned and "\n" not in cleaned
