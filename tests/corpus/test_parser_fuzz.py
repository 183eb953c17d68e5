"""Fuzzing the parsers: random and mutated input gives sane articles or a typed error, never a crash."""

from __future__ import annotations

import gzip
import re

import pytest
from conftest import REPO, shared_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.abstract_export import iter_abstract_export
from corpus.article import Article
from corpus.errors import InputError
from corpus.medline_text import iter_medline_text
from corpus.pubmed_xml import ENGINES, Deletion, iter_pubmed_xml
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


# Edits that mostly keep a document well formed, aimed at what the readers decide: inline markup, entities,
# CDATA, comments and odd spaces inside texts; attributes that select fields; repeated, removed or emptied
# elements (the first-of-a-kind and all-of-a-kind rules).
TEXT_EDITS = [b"<i>x</i>", b"&amp;", b"&#945;", b"<!-- c -->", b"<![CDATA[a<b]]>", b"\r\n", b"<?pi x?>",
              b"  ", b'<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>k</mml:mi></mml:math>',
              b"\xc2\xa0", b"\t", b"<b></b>", b"PMC123 [x]", b"\xe2\x80\x89"]
ATTRIBUTE_EDITS = [b' ValidYN="N"', b' EIdType="doi"', b' MajorTopicYN="Y"', b' Label=""', b' Label="X"',
                   b' Source="NLM"', b' IdType="pmc"', b' IdType="doi"', b' PubStatus="pubmed"',
                   b' RefType="RetractionIn"', b' Version="2"', b' NlmCategory=""']
_ELEMENT = re.compile(rb"<([A-Za-z]+)(?: [^>]*)?>.*?</\1>", re.S)
_TEXT_EDGE = re.compile(rb"<[A-Za-z]+(?: [^>]*)?>(?=[^<])|[^>](?=</)")  # where a text starts or ends
_START_TAG_NAME = re.compile(rb"<[A-Za-z]+")


@st.composite
def edited(draw, original: bytes) -> bytes:
    data = original
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["text", "attribute", "repeat", "remove", "empty"]))
        if kind in ("text", "attribute"):
            where = _TEXT_EDGE if kind == "text" else _START_TAG_NAME
            positions = [m.end() for m in where.finditer(data)]
            if not positions:
                continue
            at = draw(st.sampled_from(positions))
            edit = draw(st.sampled_from(TEXT_EDITS if kind == "text" else ATTRIBUTE_EDITS))
            if kind == "attribute" and edit.split(b"=")[0] in data[at : data.index(b">", at)]:
                continue  # an attribute twice is malformed; that is the other fuzz tests' ground
            data = data[:at] + edit + data[at:]
            continue
        found = list(_ELEMENT.finditer(data, draw(st.integers(0, max(0, len(data) - 1)))))[:40]
        if not found:
            continue
        match = draw(st.sampled_from(found))
        empty = b"<" + match.group(1) + b"/>"
        replacement = {"repeat": match.group(0) * 2, "remove": b"", "empty": empty}[kind]
        data = data[: match.start()] + replacement + data[match.end() :]
    return data


def _records(data: bytes, engine: str) -> tuple[list, str | None]:
    records = []
    try:
        for record in iter_pubmed_xml(data, engine=engine):
            records.append((record, getattr(record, "extra", None)))
    except InputError as exc:
        return records, type(exc).__name__
    return records, None


@pytest.mark.skipif(len(ENGINES) < 2, reason="the C reader is not built here (no C compiler at install)")
@settings(max_examples=400, deadline=None)
@given(st.data())
def test_both_xml_readers_agree_on_edited_and_damaged_records(data):
    sample = _pubmed_sample()
    blob = data.draw(edited(sample) | mutated(sample))
    by_expat, expat_error = _records(blob, "expat")
    by_lxml, lxml_error = _records(blob, "lxml")
    assert expat_error == lxml_error
    # lxml reports damage before handing over what it read in the same block; expat after it
    assert by_expat[: len(by_lxml)] == by_lxml
    assert expat_error is not None or by_expat == by_lxml


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
