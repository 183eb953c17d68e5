"""PubMed XML parsing on real NCBI files: fields, date shapes, structured abstracts, streaming, damage.

Every test here runs once per XML reader built (expat from C, lxml).
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tracemalloc

import pytest
from conftest import REPO, shared_path

from corpus import pubmed_xml
from corpus.article import Article
from corpus.build import pub_date
from corpus.errors import ParseError, UnsafeXMLError
from corpus.pubmed_xml import ENGINES, Deletion, iter_pubmed_xml, parse_pubmed_xml

SAMPLES = ("data", "pubmed_xml", "medline_baseline_samples")
BASELINE = (*SAMPLES, "medline16n0902.xml.gz")
CURRENT = (*SAMPLES, "test_current_medline.xml.gz")


@pytest.fixture(autouse=True, params=ENGINES)
def engine(request, monkeypatch) -> str:
    monkeypatch.setattr(pubmed_xml, "DEFAULT_ENGINE", request.param)
    return request.param


def _baseline() -> list[Article | Deletion]:
    return list(iter_pubmed_xml(shared_path(*BASELINE)))


def _one(*parts: str, pmid: str) -> Article:
    return next(a for a in iter_pubmed_xml(shared_path(*parts)) if isinstance(a, Article) and a.pmid == pmid)


def test_baseline_file_yields_604_citations_and_its_delete_block():
    items = _baseline()
    articles = [i for i in items if isinstance(i, Article)]
    assert len(articles) == 604
    assert len({a.pmid for a in articles}) == 604
    assert [i for i in items if isinstance(i, Deletion)] == [Deletion(("26432306",))]
    assert isinstance(items[-1], Deletion)  # document order kept: the delete block closes the file


def test_baseline_fields_of_a_structured_abstract():
    article = next(a for a in _baseline() if isinstance(a, Article) and a.pmid == "17942999")
    assert article.title.startswith("Neuroplasticity in the processing of pitch dimensions")
    assert article.version == 1
    assert article.authors[:3] == ("Chandrasekaran B", "Gandour JT", "Krishnan A")
    assert article.journal == "Restorative neurology and neuroscience"
    assert article.pub_year == 2007
    labels = [s.label for s in article.sections]
    assert labels[:2] == ["PURPOSE", "METHODS"]
    for section in article.sections:  # section offsets point at "LABEL: text" inside the abstract
        assert article.abstract[section.start :].startswith(f"{section.label}: {section.text}")
    assert article.abstract.startswith("PURPOSE: An auditory electrophysiological study")
    assert any(m.descriptor == "Acoustic Stimulation" and m.ui == "D000161" for m in article.mesh)
    assert article.text == f"{article.title} {article.abstract}"


def test_medline_date_and_language_and_other_pmc_id():
    articles = {a.pmid: a for a in _baseline() if isinstance(a, Article)}
    psychosomatics = articles["18621939"]
    assert (psychosomatics.pub_year, psychosomatics.pub_date) == (2008, "2008-07")
    assert psychosomatics.extra["pub_date_text"] == "2008 Jul-Aug"
    languages = {a.language for a in articles.values()}
    assert languages == {"eng", "ita"}
    assert sum(1 for a in articles.values() if not a.abstract) == 78  # kept, not dropped
    assert sum(1 for a in articles.values() if a.pmcid) > 300  # OtherID Source="NLM" PMC...
    assert all(a.pmcid.startswith("PMC") and " " not in a.pmcid for a in articles.values() if a.pmcid)


def test_current_format_record_ids_mesh_major_topics_and_keywords():
    article = _one(*CURRENT, pmid="36400559")
    assert article.doi == "10.1016/j.ncl.2022.07.002"
    assert article.pub_date == "2023-02"
    assert article.publication_types == ("Journal Article", "Review")
    assert article.keywords == ("Back pain", "Diagnosis", "Management", "Outpatient")
    majors = {m.descriptor for m in article.mesh if m.major}
    assert majors == {"Low Back Pain", "Cognitive Behavioral Therapy"}
    back_pain = next(m for m in article.mesh if m.descriptor == "Back Pain")
    assert back_pain.qualifiers == ("diagnosis", "etiology", "therapy") and not back_pain.major
    # the NBSP of "6&#xa0;weeks" is normalised, the raw text keeps it
    assert "6 weeks" in article.abstract and "6\xa0weeks" in article.raw_abstract


def test_pmc_id_from_article_id_list_and_season_date():
    older = _one(*CURRENT, pmid="2930949")
    assert older.pmcid == "PMC1306303"
    season = _one(*CURRENT, pmid="11446611")
    assert (season.pub_date, season.extra["pub_date_text"]) == ("2001-05", "2001 May-Jun")
    spring = _one("data", "pubmed_xml", "biopython", "Entrez", "pubmed1.xml", pmid="12091962")
    assert (spring.pub_year, spring.pub_date) == (1990, "1990-03")


def test_references_ids_do_not_leak_into_the_record():
    article = _one("data", "pubmed_xml", "biopython", "Entrez", "pubmed4.xml", pmid="27797938")
    assert article.pmcid == "PMC5442267"
    assert article.doi == "10.1136/gutjnl-2016-312510"
    assert len(article.sections) == 4


def test_old_dtd_without_pmid_version_attribute():
    old = shared_path("data", "pubmed_xml", "biopython", "Entrez_pre2026", "pubmed1.xml")
    articles = list(iter_pubmed_xml(old))
    assert [a.pmid for a in articles] == ["12091962", "9997"]
    assert all(a.version == 1 for a in articles)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"year": "2019", "month": "Apr", "day": "20"}, (2019, "2019-04-20")),
        ({"year": "2017", "month": "06"}, (2017, "2017-06")),
        ({"year": "1990", "season": "Spring"}, (1990, "1990-03")),
        ({"year": "2001", "season": "May-Jun"}, (2001, "2001-05")),
        ({"medline_date": "2008 Jul-Aug"}, (2008, "2008-07")),
        ({"medline_date": "1998 Dec-1999 Jan"}, (1998, "1998-12")),
        ({"medline_date": "2000 Spring"}, (2000, "2000-03")),
        ({"medline_date": "Winter 2001"}, (2001, "2001-12")),
        ({"medline_date": "2015 Oct 15-31"}, (2015, "2015-10-15")),
        ({"medline_date": "2012"}, (2012, "2012")),
        ({"medline_date": "undated"}, (None, "")),
        ({}, (None, "")),
    ],
)
def test_pubmed_date_shapes(parts, expected):
    assert pub_date(**parts) == expected


def _doc(body: str, head: str = "") -> bytes:
    return f'<?xml version="1.0"?>{head}<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()


def _citation(pmid: str = "1", extra: str = "", version: str = "1") -> str:
    return (
        f'<PubmedArticle><MedlineCitation><PMID Version="{version}">{pmid}</PMID><Article>'
        f"<ArticleTitle>T {pmid}</ArticleTitle>{extra}</Article></MedlineCitation></PubmedArticle>"
    )


def test_retraction_from_publication_type_and_comments_corrections():
    by_type = _citation(
        "5",
        "<PublicationTypeList><PublicationType>Retracted Publication</PublicationType></PublicationTypeList>",
    )
    by_link = (
        '<PubmedArticle><MedlineCitation><PMID Version="2">6</PMID>'
        "<Article><ArticleTitle>X</ArticleTitle></Article>"
        '<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn"><RefSource>Y</RefSource>'
        "<PMID>7</PMID></CommentsCorrections></CommentsCorrectionsList></MedlineCitation></PubmedArticle>"
    )
    notice = _citation(
        "8",
        "<PublicationTypeList><PublicationType>Retraction of Publication</PublicationType>"
        "</PublicationTypeList>",
    )
    articles = parse_pubmed_xml(_doc(by_type + by_link + notice))
    got = [(a.pmid, a.version, a.retracted) for a in articles]
    assert got == [("5", 1, True), ("6", 2, True), ("8", 1, False)]


def test_inline_markup_and_mojibake_are_cleaned_with_raw_text_kept():
    extra = (
        "<Abstract><AbstractText>Blockade of Fc\u00ce\u00b3 receptors with <i>anti</i>-PD-1"
        "<sup>+</sup>.</AbstractText></Abstract>"
    )
    article = parse_pubmed_xml(_doc(_citation("9", extra)))[0]
    assert article.abstract == "Blockade of Fc\u03b3 receptors with anti-PD-1+."
    assert "Fc\u00ce\u00b3" in article.raw_abstract


def test_same_result_from_path_gzip_bytes_and_file_object(tmp_path):
    source = shared_path("data", "pubmed_xml", "biopython", "Entrez", "pubmed4.xml")
    data = source.read_bytes()
    packed = tmp_path / "pubmed4.xml.gz"
    packed.write_bytes(gzip.compress(data))
    expected = list(iter_pubmed_xml(source))
    assert list(iter_pubmed_xml(packed)) == expected
    assert list(iter_pubmed_xml(data)) == expected
    assert list(iter_pubmed_xml(io.BytesIO(gzip.compress(data)))) == expected


def test_truncated_gzip_yields_complete_citations_then_raises(tmp_path):
    data = gzip.compress(gzip.decompress(shared_path(*BASELINE).read_bytes()))
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(data[: len(data) // 2])
    seen = []
    with pytest.raises(ParseError, match="broken.xml.gz"):
        for item in iter_pubmed_xml(broken):
            seen.append(item)
    assert 100 < len(seen) < 604
    assert all(isinstance(a, Article) and a.title for a in seen)


def test_a_corrupt_deflate_stream_yields_complete_citations_then_raises(tmp_path):
    data = bytearray(gzip.compress(gzip.decompress(shared_path(*BASELINE).read_bytes())))
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64  # damage inside the compressed stream, not at its end
    broken = tmp_path / "corrupt.xml.gz"
    broken.write_bytes(bytes(data))
    seen = []
    with pytest.raises(ParseError, match="corrupt.xml.gz: (corrupt or truncated gzip|malformed)"):
        for item in iter_pubmed_xml(broken):
            seen.append(item)
    assert 100 < len(seen) < 604


def test_nesting_past_the_depth_limit_is_named_as_such():
    deep = b"<PubmedArticleSet>" + b"<a>" * 300 + b"x" + b"</a>" * 300 + b"</PubmedArticleSet>"
    with pytest.raises(ParseError, match="<bytes>: elements nested deeper than the 256-level limit, refused"):
        list(iter_pubmed_xml(deep))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02binary garbage\xff\xfe" * 50,
        b"\x1f\x8b\x08\x00garbage-after-gzip-magic",
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID>",
        b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID>"
        b"</PubmedArticle>",
        b"<eInfoResult><DbList><DbName>pubmed</DbName></DbList></eInfoResult>",
        _doc(_citation("abc")),
        _doc("<PubmedArticle><MedlineCitation><PMID>3</PMID></MedlineCitation></PubmedArticle>"),
    ],
    ids=["empty", "binary", "bad-gzip", "truncated", "mismatched", "not-pubmed", "bad-pmid", "no-article"],
)
def test_damaged_input_raises_a_typed_error_naming_the_input(data):
    with pytest.raises(ParseError, match="<bytes>"):
        list(iter_pubmed_xml(data))


def test_error_element_in_a_response_is_an_error():
    with pytest.raises(ParseError, match="Unable to obtain query #1"):
        list(iter_pubmed_xml(b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"))


def test_empty_article_set_is_empty_not_an_error():
    assert list(iter_pubmed_xml(b"<PubmedArticleSet></PubmedArticleSet>")) == []


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
    + _doc(_citation("1", "<Abstract><AbstractText>&lol9;</AbstractText></Abstract>"))[21:]
)


def test_billion_laughs_is_refused_fast_and_small():
    tracemalloc.start()
    with pytest.raises(UnsafeXMLError, match="entities"):
        list(iter_pubmed_xml(BILLION_LAUGHS))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
        + _doc(_citation("1", "<Abstract><AbstractText>&x;</AbstractText></Abstract>"))[21:]
    )
    with pytest.raises(UnsafeXMLError):
        list(iter_pubmed_xml(xxe))


def test_public_doctype_of_real_files_is_accepted_without_network():
    # every NCBI file names its DTD by URL; it must be neither fetched nor a reason to refuse
    assert len(parse_pubmed_xml(shared_path("data", "pubmed_xml", "biopython", "Entrez", "pubmed2.xml"))) == 2


def test_huge_text_node_is_refused_but_a_large_abstract_is_read():
    big = "resistance " * 400_000  # 4.4 MB abstract
    article = parse_pubmed_xml(
        _doc(_citation("1", f"<Abstract><AbstractText>{big}</AbstractText></Abstract>"))
    )
    article = article[0]
    assert len(article.abstract) == len(big) - 1
    huge = "x" * 10_000_001  # past libxml2's 10 MB text-node limit (huge_tree stays off)
    with pytest.raises(ParseError, match="<bytes>: a text or markup over the 10 MB limit, refused"):
        parse_pubmed_xml(_doc(_citation("1", f"<Abstract><AbstractText>{huge}</AbstractText></Abstract>")))


@pytest.mark.parametrize(
    "markup",
    ['<Abstract><AbstractText Label="{}">a</AbstractText></Abstract>', '<Pagination Unread="{}"/>',
     "<!-- {} -->", "<?pi {}?>", "<Abstract><AbstractText><![CDATA[{}]]></AbstractText></Abstract>"],
    ids=["read-attribute", "unread-attribute", "comment", "processing-instruction", "cdata"],
)
def test_markup_past_10_mb_is_refused_whether_or_not_it_is_read(markup):
    nine_mb = parse_pubmed_xml(_doc(_citation("1", markup.replace("{}", "y" * 9_000_000))))
    assert [a.pmid for a in nine_mb] == ["1"]
    with pytest.raises(ParseError, match="<bytes>: a text or markup over the 10 MB limit, refused"):
        parse_pubmed_xml(_doc(_citation("1", markup.replace("{}", "x" * 10_500_000))))


_STREAM_SCRIPT = """
import gzip, io, resource, sys
from corpus.pubmed_xml import iter_pubmed_xml
body = gzip.decompress(open(sys.argv[1], "rb").read())
start, end = body.index(b"<MedlineCitation "), body.rindex(b"<DeleteCitation>")
copies = int(sys.argv[2])

class Repeated(io.RawIOBase):  # the baseline's citations ``copies`` times, generated lazily
    def __init__(self):
        self.parts = iter([body[:start]] + [body[start:end]] * copies + [body[end:]])
        self.buffer = b""
    def readable(self):
        return True
    def readinto(self, out):
        while not self.buffer:
            try:
                self.buffer = next(self.parts)
            except StopIteration:
                return 0
        size = min(len(out), len(self.buffer))
        out[:size] = self.buffer[:size]
        self.buffer = self.buffer[size:]
        return size

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for item in iter_pubmed_xml(io.BufferedReader(Repeated(), 1 << 16), name="stream")
            if hasattr(item, "abstract"))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _stream_rss(copies: int) -> tuple[int, int]:
    """(citations parsed, peak RSS growth in KB) streaming ``copies`` baseline files in a fresh process."""
    import subprocess
    import sys

    from conftest import REPO

    out = subprocess.run(
        [sys.executable, "-c", _STREAM_SCRIPT, str(shared_path(*BASELINE)), str(copies)],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1])


@pytest.mark.slow
def test_streaming_memory_stays_flat():
    small_count, small_rss = _stream_rss(1)
    large_count, large_rss = _stream_rss(10)  # 46 MB of XML, 6,040 citations
    assert (small_count, large_count) == (604, 6040)
    assert large_rss - small_rss < 10_000, (small_rss, large_rss)  # KB: ten times the input, <10 MB more


def test_declared_non_utf8_encoding_is_decoded():
    body = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><PubmedArticleSet>'
        + _citation("4", "<Abstract><AbstractText>Caf\xe9 au lait spots in NF1.</AbstractText></Abstract>")
        + "</PubmedArticleSet>"
    )
    [article] = parse_pubmed_xml(body.encode("latin-1"))
    assert article.abstract == "Caf\xe9 au lait spots in NF1."


def test_book_articles_are_read():
    book = (
        "<PubmedBookArticleSet><PubmedBookArticle><BookDocument>"
        '<PMID Version="1">20301295</PMID><Book><Publisher><PublisherName>University of Washington, Seattle'
        "</PublisherName></Publisher><BookTitle>GeneReviews</BookTitle><PubDate><Year>1993</Year></PubDate>"
        "</Book><ArticleTitle>PTEN Hamartoma Tumor Syndrome</ArticleTitle><Language>eng</Language>"
        '<Abstract><AbstractText Label="CLINICAL CHARACTERISTICS">PTEN loss causes tumours.</AbstractText>'
        "</Abstract></BookDocument><PubmedBookData><ArticleIdList>"
        '<ArticleId IdType="bookaccession">NBK1488</ArticleId></ArticleIdList></PubmedBookData>'
        "</PubmedBookArticle></PubmedBookArticleSet>"
    )
    [article] = parse_pubmed_xml(book.encode())
    assert (article.pmid, article.pub_year) == ("20301295", 1993)
    assert article.title == "PTEN Hamartoma Tumor Syndrome"
    assert article.abstract == "CLINICAL CHARACTERISTICS: PTEN loss causes tumours."
    assert article.journal == "University of Washington, Seattle" and article.extra["book"]


def test_fields_are_taken_as_find_and_findall_would_take_them():
    # the one-pass reading of MedlineCitation/Article/Journal: first of a kind for single fields, all of a
    # kind (in document order, over repeated parent lists) for lists, fallbacks in the documented order
    record = (
        '<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="2">42</PMID><Article>'
        "<Journal><Title></Title><ISOAbbreviation>J  Immunother</ISOAbbreviation>"
        "<JournalIssue><Volume>1</Volume></JournalIssue>"
        "<JournalIssue><PubDate><Year>2019</Year><Month>Apr</Month></PubDate></JournalIssue></Journal>"
        "<ArticleTitle></ArticleTitle><VernacularTitle>Titre</VernacularTitle>"
        "<AuthorList><Author><LastName>Smith</LastName><ForeName>Ann  Marie</ForeName></Author>"
        '<Author ValidYN="N"><LastName>Wrong</LastName><Initials>W</Initials></Author></AuthorList>'
        "<AuthorList><Author><CollectiveName>PD-1 Study Group</CollectiveName><LastName>X</LastName></Author>"
        "<Author><LastName>Doe</LastName><Initials>J</Initials><Initials>K</Initials><Suffix>Jr</Suffix>"
        "</Author></AuthorList>"
        "<PublicationTypeList><PublicationType>Journal Article</PublicationType></PublicationTypeList>"
        "<PublicationTypeList><PublicationType>Review</PublicationType></PublicationTypeList>"
        '<ELocationID EIdType="doi" ValidYN="N">10.1/bad</ELocationID><ELocationID EIdType="doi">10.1/ok'
        "</ELocationID><Language>FRE</Language><Language>eng</Language></Article>"
        "<MedlineJournalInfo><MedlineTA>J Immunother TA</MedlineTA></MedlineJournalInfo>"
        '<OtherID Source="NLM">PMC123 [Available on 2020-01-01]</OtherID>'
        '<MeshHeadingList><MeshHeading><QualifierName MajorTopicYN="Y">therapy</QualifierName></MeshHeading>'
        "<MeshHeading><DescriptorName>Humans</DescriptorName></MeshHeading></MeshHeadingList>"
        '<MeshHeadingList><MeshHeading><DescriptorName UI="D1">Neoplasms</DescriptorName>'
        '<QualifierName MajorTopicYN="Y">therapy</QualifierName><QualifierName> </QualifierName>'
        "</MeshHeading></MeshHeadingList>"
        "<KeywordList><Keyword>PD-1</Keyword><Keyword> </Keyword></KeywordList>"
        "<KeywordList><Keyword>resistance</Keyword></KeywordList></MedlineCitation></PubmedArticle>"
    )
    [article] = parse_pubmed_xml(_doc(record))
    assert (article.pmid, article.version, article.title) == ("42", 2, "Titre")
    assert article.journal == "J Immunother" and article.extra["journal_abbrev"] == "J  Immunother"
    assert (article.pub_year, article.pub_date) == (2019, "2019-04")
    assert article.extra["pub_date_text"] == "2019 Apr"
    assert article.authors == ("Smith Ann Marie", "PD-1 Study Group", "Doe J Jr")
    assert article.publication_types == ("Journal Article", "Review")
    assert (article.doi, article.pmcid, article.language) == ("10.1/ok", "PMC123", "fre")
    assert [(m.descriptor, m.ui, m.major, m.qualifiers) for m in article.mesh] == [
        ("Humans", None, False, ()),
        ("Neoplasms", "D1", True, ("therapy",)),
    ]
    assert article.keywords == ("PD-1", "resistance")


def test_journal_falls_back_to_medline_ta_and_dates_to_article_date():
    record = (
        '<MedlineCitation><PMID Version="1">7</PMID><Article><Journal><Title> </Title></Journal>'
        "<ArticleTitle>T</ArticleTitle><ArticleDate><Year>2021</Year><Month>02</Month><Day>30</Day>"
        "</ArticleDate></Article><MedlineJournalInfo><Country>X</Country></MedlineJournalInfo>"
        "<MedlineJournalInfo><MedlineTA>Cancer Res</MedlineTA></MedlineJournalInfo></MedlineCitation>"
    )
    [article] = parse_pubmed_xml(f"<MedlineCitationSet>{record}</MedlineCitationSet>".encode())
    assert article.journal == "Cancer Res"
    assert (article.pub_year, article.pub_date) == (2021, "2021-02-30")
    assert "journal_abbrev" not in article.extra


def test_equal_mesh_headings_are_shared_and_the_cache_stays_bounded(monkeypatch):
    import corpus.pubmed_xml as pubmed_xml

    heading = '<MeshHeadingList><MeshHeading><DescriptorName UI="D006801">Humans</DescriptorName>'
    body = "".join(
        f'<MedlineCitation><PMID Version="1">{pmid}</PMID><Article><ArticleTitle>T</ArticleTitle></Article>'
        f"{heading}</MeshHeading></MeshHeadingList></MedlineCitation>"
        for pmid in (1, 2)
    )
    first, second = parse_pubmed_xml(f"<MedlineCitationSet>{body}</MedlineCitationSet>".encode())
    assert first.mesh == second.mesh and first.mesh[0] is second.mesh[0]
    monkeypatch.setattr(pubmed_xml, "_HEADINGS", {})
    monkeypatch.setattr(pubmed_xml, "_HEADINGS_LIMIT", 1)
    other = body.replace(">Humans<", ">Mice<", 1)
    again = parse_pubmed_xml(f"<MedlineCitationSet>{other}</MedlineCitationSet>".encode())
    assert [m.descriptor for a in again for m in a.mesh] == ["Mice", "Humans"]
    assert len(pubmed_xml._HEADINGS) == 1


def test_cached_pub_date_is_pub_date():
    from corpus.build import cached_pub_date

    shapes = [("2019", "Apr", "20", None, None), ("1990", None, None, "Spring", None)]
    shapes.append((None, None, None, None, "1998 Dec-1999 Jan"))
    for parts in shapes * 2:
        assert cached_pub_date(*parts) == pub_date(*parts)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<PubmedArticleSet><PubmedArticle><PubmedData/></PubmedArticle></PubmedArticleSet>",
         "<PubmedArticle> without <MedlineCitation>"),
        (b"<eSearchResult><Count>0</Count></eSearchResult>", "unexpected root element <eSearchResult>"),
        (b"<Other><MedlineCitation><PMID>1</PMID><Article/></MedlineCitation></Other>",
         r"not PubMed XML \(root element <Other>\)"),
        (b'<?xml version="1.0"?>', "<bytes>: malformed or truncated XML"),
        (b"<PubmedArticleSet><m:x>1</m:x></PubmedArticleSet>", "<bytes>: malformed or truncated XML"),
    ],
    ids=["no-citation", "other-root-empty", "other-root-record", "no-root", "unbound-prefix"],
)
def test_structural_errors_are_named(data, message):
    with pytest.raises(ParseError, match=message):
        list(iter_pubmed_xml(data))


def test_entities_unknown_to_a_document_with_an_external_dtd_are_kept_as_written():
    # NCBI files name their DTD by URL; it is not read, so "&lol;" cannot be expanded (lxml keeps it too)
    head = '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" "https://dtd.nlm.nih.gov/x.dtd">'
    extra = (
        "<Abstract><AbstractText>a &lol; b &amp; <i>&#945;</i><![CDATA[<c>]]><!-- no --></AbstractText>"
        "</Abstract>"
    )
    [article] = parse_pubmed_xml(_doc(_citation("1", extra), head))
    assert article.abstract == "a &lol; b & α<c>"


def test_a_book_keeps_namespaced_markup_s_text():
    book = (
        "<PubmedBookArticleSet><PubmedBookArticle><BookDocument><PMID>7</PMID><ArticleTitle>On "
        '<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mi>k</mml:mi></mml:math> &amp; "q"'
        '</ArticleTitle><Abstract><AbstractText Label="A&quot;B">x\r\ny</AbstractText></Abstract>'
        "</BookDocument></PubmedBookArticle></PubmedBookArticleSet>"
    )
    [article] = parse_pubmed_xml(book.encode())
    assert article.title == 'On k & "q"'
    assert (article.sections[0].label, article.raw_abstract) == ('A"B', 'A"B: x\ny')


@pytest.mark.skipif(len(ENGINES) < 2, reason="the C reader is not built here (no C compiler at install)")
def test_both_readers_give_the_same_records_for_every_shared_xml_file():
    files = sorted(shared_path("data", "pubmed_xml").rglob("*.xml*"))
    assert len(files) > 40

    def read(path, engine):
        try:
            return [(r, getattr(r, "extra", None)) for r in iter_pubmed_xml(path, engine=engine)], None
        except ParseError as exc:
            return None, type(exc)

    for path in files:
        assert read(path, "expat") == read(path, "lxml"), path.name


def test_an_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="'sax' is not available"):
        list(iter_pubmed_xml(b"<PubmedArticleSet/>", engine="sax"))


def test_without_the_c_reader_lxml_reads_everything():
    # what an install without a C compiler gets: the extension is optional
    script = (
        "import sys; sys.modules['corpus._pubmed_expat'] = None\n"
        "from corpus.pubmed_xml import DEFAULT_ENGINE, ENGINES, parse_pubmed_xml\n"
        "assert ENGINES == ('lxml',) and DEFAULT_ENGINE == 'lxml', ENGINES\n"
        "[a] = parse_pubmed_xml(sys.stdin.buffer.read())\n"
        "print(a.pmid, a.title)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=_doc(_citation("42")), capture_output=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["42", "T", "42"]
