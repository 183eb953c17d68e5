"""Text cleaning, MEDLINE text, PubMed's abstract export and the bundled seed review."""

from __future__ import annotations

import pytest
from conftest import REPO, shared_path

from corpus.abstract_export import iter_abstract_export
from corpus.bundled import bundled_articles
from corpus.errors import ParseError
from corpus.medline_text import iter_medline_text
from corpus.textclean import clean_text

MEDLINE = ("data", "pubmed_xml", "biopython", "Medline")
SEED = REPO / "corpus" / "bundled" / "pmid31205532.txt"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("blockade of Fc\u00ce\u00b3 receptors", "blockade of Fc\u03b3 receptors"),  # the seed's mojibake
        ("IFN-\u00ce\u00b3 and TNF-\u00ce\u00b1", "IFN-\u03b3 and TNF-\u03b1"),
        ("  two\n  lines\tand\u00a0nbsp ", "two lines and nbsp"),
        ("zero\u200bwidth\x00control", "zerowidthcontrol"),
        (
            "\u201cquoted\u201d 5 \u00b5m \u2264 10 \u03b2-catenin",
            "\u201cquoted\u201d 5 \u00b5m \u2264 10 \u03b2-catenin",
        ),
        ("P &lt; 0.05", "P &lt; 0.05"),  # entities were resolved by the XML parser; text is not re-unescaped
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_seed_abstract_export():
    [article] = list(iter_abstract_export(SEED))
    assert article.pmid == "31205532"
    assert (
        article.title
        == "Molecular Mechanisms and Countermeasures of Immunotherapy Resistance in Malignant Tumor."
    )
    assert article.authors == ("Jiang X", "Li L", "Li Y", "Li Q")
    assert (article.journal, article.pub_year, article.pub_date) == ("J Cancer", 2019, "2019-04-20")
    assert (article.doi, article.pmcid, article.language) == ("10.7150/jca.26481", "PMC6548000", "eng")
    assert article.abstract.startswith("Tumor immunotherapy inhibits the proliferation")
    assert article.abstract.endswith("basis for tolerant patients.")
    assert "Fc\u03b3 receptors" in article.abstract and "Fc\u00ce\u00b3" in article.raw_abstract
    assert "Author information" not in article.abstract and "Conflict of interest" not in article.abstract
    assert "PTEN loss, JAK1/2 loss-of-function mutations" in article.text


def test_the_shipped_seed_is_the_users_file():
    assert SEED.read_bytes() == shared_path("seed", "pmid31205532_pubmed_abstract.txt").read_bytes()


def test_bundled_articles():
    [article] = bundled_articles()
    assert (article.pmid, article.source) == ("31205532", "bundled")
    assert article == bundled_articles()[0]


EXPORT = """1. Front Immunol. 2021 Mar 3;12:601234. doi: 10.3389/fimmu.2021.601234.

[Mechanisms of resistance to PD-1 blockade].

[Article in Chinese]

Wang A(1), Chen B(2).

Author information:
(1)Somewhere.

BACKGROUND: Loss of PTEN promotes resistance to anti-PD-1 therapy.

RESULTS: JAK1 mutations were found
in two patients.

Copyright \u00a9 2021 Wang and Chen.

Retraction in
    Front Immunol. 2022;13:1.

DOI: 10.3389/fimmu.2021.601234
PMID: 33777777

2. Nature. 2020;1(1):1-2.

A record without authors.

Immunotherapy resistance in melanoma.

PMID: 33888888  [Indexed for MEDLINE]
"""


def test_export_with_several_records_structured_abstract_language_and_retraction():
    first, second = list(iter_abstract_export(EXPORT.encode(), name="export.txt"))
    assert first.pmid == "33777777" and second.pmid == "33888888"
    assert first.language == "chi" and first.retracted
    assert first.authors == ("Wang A", "Chen B")
    assert [s.label for s in first.sections] == ["BACKGROUND", "RESULTS"]
    assert first.abstract == (
        "BACKGROUND: Loss of PTEN promotes resistance to anti-PD-1 therapy. "
        "RESULTS: JAK1 mutations were found in two patients."
    )
    assert first.sections[1].start == first.abstract.index("RESULTS:")
    # a short abstract right after the title is not mistaken for an author list
    assert (second.abstract, second.authors, second.pub_year) == (
        "Immunotherapy resistance in melanoma.",
        (),
        2020,
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01binary",
        b"not an export at all",
        b"1. J. 2020.\n\nTitle only, no PMID line.\n",
        b"\xff\xfe\xfa",
    ],
)
def test_broken_exports_raise_a_typed_error(data):
    with pytest.raises(ParseError):
        list(iter_abstract_export(data, name="broken.txt"))


def test_medline_text_records():
    articles = list(iter_medline_text(shared_path(*MEDLINE, "pubmed_result2.txt")))
    assert [a.pmid for a in articles] == ["16403221", "16377612", "14871861", "14630660"]
    scop = articles[0]
    assert scop.title == "A high level interface to SCOP and ASTRAL implemented in python."
    assert [s.label for s in scop.sections] == ["BACKGROUND", "RESULTS", "CONCLUSION"]
    assert scop.abstract.startswith("BACKGROUND: Benchmarking algorithms")
    assert (scop.doi, scop.pmcid, scop.pub_year) == ("10.1186/1471-2105-7-10", "PMC1373603", 2006)
    assert scop.authors[:2] == ("Casbon JA", "Crooks GE")
    first = list(iter_medline_text(shared_path(*MEDLINE, "pubmed_result1.txt")))
    bio = first[0]
    assert bio.pub_date == "2002-09" and bio.journal == "Briefings in bioinformatics"
    assert [m.descriptor for m in bio.mesh if m.major] == [
        "Computational Biology",
        "Programming Languages",
        "Software",
    ]


def test_medline_text_agrees_with_xml_on_the_text():
    # the same paper through two formats gives the same text, so mention offsets agree
    from corpus.pubmed_xml import iter_pubmed_xml

    medline = list(iter_medline_text(shared_path(*MEDLINE, "pubmed_result3.txt")))
    assert medline[0].pmid == "23039619"
    assert [s.label for s in medline[0].sections] == ["PURPOSE", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert all(a.source == "medline-text" for a in medline)
    xml_text = (
        '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">23039619</PMID><Article>'
        f"<ArticleTitle>{medline[0].title}</ArticleTitle><Abstract>"
        + "".join(f'<AbstractText Label="{s.label}">{s.text}</AbstractText>' for s in medline[0].sections)
        + "</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    [from_xml] = list(iter_pubmed_xml(xml_text.encode()))
    assert from_xml.text == medline[0].text


@pytest.mark.parametrize("data", [b"\x00\x01binary", b"PMID- abc\nTI  - x\n", b"\xff\xfe\xfa"])
def test_broken_medline_text_raises_a_typed_error(data):
    with pytest.raises(ParseError):
        list(iter_medline_text(data, name="broken.txt"))


def test_inline_labels_split_but_gene_names_with_colons_do_not():
    from corpus.build import split_labelled

    text = "BACKGROUND: PD-1 blockade fails. PD-L1: a poor marker. AIM: to test. DNA: damaged. RESULTS: none."
    assert split_labelled(text) == [
        ("BACKGROUND", "PD-1 blockade fails. PD-L1: a poor marker."),
        ("AIM", "to test. DNA: damaged."),
        ("RESULTS", "none."),
    ]
