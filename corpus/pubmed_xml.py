"""Stream PubMed/MEDLINE XML (efetch responses, baseline and update files) into ``Article`` records.

Reads ``PubmedArticleSet`` (current format, also ``PubmedBookArticle``) and the older
``MedlineCitationSet`` baseline format, ``.xml`` or ``.xml.gz`` (sniffed by magic bytes), from a path,
bytes or a binary file object. Memory stays constant: each citation is converted when its element
ends and then cleared. ``<DeleteCitation>`` yields a :class:`Deletion`. Truncated or malformed input
raises :class:`~corpus.errors.ParseError` at the point of damage; citations completed before it have
already been yielded, so callers store per batch and commit only whole batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from corpus.article import Article, MeshHeading
from corpus.build import is_pmid, make_article, pub_date
from corpus.errors import ParseError
from corpus.xmlsafe import iterparse, open_binary

SOURCE = "pubmed-xml"
RETRACTED_TYPE = "Retracted Publication"
_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation", "ERROR")
_ROOTS = {"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet"}


@dataclass(frozen=True, slots=True)
class Deletion:
    """PMIDs a ``<DeleteCitation>`` block removes from PubMed."""

    pmids: tuple[str, ...]


def iter_pubmed_xml(
    source: str | Path | bytes | BinaryIO, name: str | None = None
) -> Iterator[Article | Deletion]:
    """Yield each citation (and deletion) of a PubMed XML document in document order."""
    stream, name, owned = open_binary(source, name)
    try:
        yield from _iter_stream(stream, name)
    finally:
        if owned:
            stream.close()


def parse_pubmed_xml(source: str | Path | bytes | BinaryIO, name: str | None = None) -> list[Article]:
    """All articles of a small document, all or nothing (an efetch batch)."""
    return [item for item in iter_pubmed_xml(source, name) if isinstance(item, Article)]


def _iter_stream(stream: BinaryIO, name: str) -> Iterator[Article | Deletion]:
    root_checked = False
    for element in iterparse(stream, name, _TAGS, _ROOTS):
        if not root_checked:
            root = element.getroottree().getroot()
            if root.tag not in _ROOTS and element.tag != "ERROR":
                raise ParseError(f"{name}: not PubMed XML (root element <{root.tag}>)")
            root_checked = True
        tag = element.tag
        if tag == "ERROR":
            message = " ".join("".join(element.itertext()).split()) or "no message"
            raise ParseError(f"{name}: E-utilities returned an error: {message[:200]}")
        if tag == "MedlineCitation":
            parent = element.getparent()
            if parent is not None and parent.tag == "PubmedArticle":
                continue  # converted with its PubmedData when the PubmedArticle ends
            yield _citation(element, None, name)
        elif tag == "PubmedArticle":
            citation = element.find("MedlineCitation")
            if citation is None:
                raise ParseError(f"{name}: <PubmedArticle> without <MedlineCitation>")
            yield _citation(citation, element.find("PubmedData"), name)
        elif tag == "PubmedBookArticle":
            yield _book(element, name)
        elif tag == "DeleteCitation":
            pmids = tuple(_text(p) for p in element.iterfind("PMID"))
            yield Deletion(tuple(p for p in pmids if p))
        _release(element)


def _release(element: etree._Element) -> None:
    """Free a converted element and its already-converted siblings (constant memory)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _text(element: etree._Element | None) -> str:
    """All text inside ``element`` (inline markup such as <i>, <sup> flattened)."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _pmid(citation: etree._Element, name: str) -> tuple[str, int]:
    node = citation.find("PMID")
    pmid = _text(node)
    if not is_pmid(pmid):
        raise ParseError(f"{name}: citation with a missing or invalid PMID {pmid[:30]!r}")
    version = (node.get("Version") or "1").strip()
    return pmid, int(version) if version.isdigit() and int(version) > 0 else 1


def _citation(citation: etree._Element, pubmed_data: etree._Element | None, name: str) -> Article:
    pmid, version = _pmid(citation, name)
    article = citation.find("Article")
    if article is None:
        raise ParseError(f"{name}: PMID {pmid} has no <Article>")
    journal = article.find("Journal")
    publication_types = tuple(_text(p) for p in article.iterfind("PublicationTypeList/PublicationType"))
    corrections = citation.iterfind("CommentsCorrectionsList/CommentsCorrections")
    retraction = any(c.get("RefType") == "RetractionIn" for c in corrections)
    ids = _article_ids(pubmed_data)
    doi = ids.get("doi") or _elocation_doi(article)
    pmcid = ids.get("pmc") or _other_pmc(citation)
    year, date, date_text = _journal_date(journal, article, pubmed_data)
    extra = {"status": citation.get("Status", ""), "pub_date_text": date_text}
    abbrev = _text(journal.find("ISOAbbreviation")) if journal is not None else ""
    if abbrev:
        extra["journal_abbrev"] = abbrev
    return make_article(
        pmid,
        _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        _sections(article.find("Abstract")),
        version=version,
        authors=_authors(article.iterfind("AuthorList/Author")),
        journal=_journal_title(journal, citation),
        pub_year=year,
        pub_date=date,
        doi=doi,
        pmcid=pmcid,
        mesh=_mesh(citation),
        keywords=tuple(k for k in (_text(k) for k in citation.iterfind("KeywordList/Keyword")) if k),
        publication_types=publication_types,
        language=(_text(article.find("Language")) or "und").lower(),
        retracted=RETRACTED_TYPE in publication_types or retraction,
        source=SOURCE,
        extra=extra,
    )


def _book(element: etree._Element, name: str) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError(f"{name}: <PubmedBookArticle> without <BookDocument>")
    pmid, version = _pmid(document, name)
    book = document.find("Book")
    book_title = _text(book.find("BookTitle")) if book is not None else ""
    title = _text(document.find("ArticleTitle")) or book_title
    date_node = book.find("PubDate") if book is not None else None
    year, date = pub_date(*_date_parts(date_node)) if date_node is not None else (None, "")
    ids = _article_ids(element.find("PubmedBookData"))
    return make_article(
        pmid,
        title,
        _sections(document.find("Abstract")),
        version=version,
        authors=_authors(document.iterfind("AuthorList/Author")),
        journal=_text(book.find("Publisher/PublisherName")) if book is not None else "",
        pub_year=year,
        pub_date=date,
        doi=ids.get("doi"),
        pmcid=ids.get("pmc"),
        keywords=tuple(_text(k) for k in document.iterfind("KeywordList/Keyword") if _text(k)),
        publication_types=tuple(_text(p) for p in document.iterfind("PublicationType")),
        language=(_text(document.find("Language")) or "und").lower(),
        source=SOURCE,
        extra={"book": True},
    )


def _sections(abstract: etree._Element | None) -> list[tuple[str | None, str | None, str]]:
    if abstract is None:
        return []
    return [
        (part.get("Label") or None, part.get("NlmCategory") or None, _text(part))
        for part in abstract.iterfind("AbstractText")
    ]


def _authors(authors) -> tuple[str, ...]:
    """``"LastName Initials"`` as PubMed prints them (``"Jiang X"``), or the collective name."""
    names = []
    for author in authors:
        if author.get("ValidYN", "Y") == "N":
            continue
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        initials = _text(author.find("Initials")) or _text(author.find("ForeName"))
        suffix = _text(author.find("Suffix"))
        name = collective or " ".join(p for p in (last, initials, suffix) if p)
        if name:
            names.append(" ".join(name.split()))
    return tuple(names)


def _journal_title(journal: etree._Element | None, citation: etree._Element) -> str:
    if journal is not None:
        title = _text(journal.find("Title")) or _text(journal.find("ISOAbbreviation"))
        if title:
            return " ".join(title.split())
    return _text(citation.find("MedlineJournalInfo/MedlineTA"))


def _date_parts(node: etree._Element) -> tuple[str | None, ...]:
    return (
        _text(node.find("Year")) or None,
        _text(node.find("Month")) or None,
        _text(node.find("Day")) or None,
        _text(node.find("Season")) or None,
        _text(node.find("MedlineDate")) or None,
    )


def _journal_date(
    journal: etree._Element | None, article: etree._Element, pubmed_data: etree._Element | None
) -> tuple[int | None, str, str]:
    """The issue's PubDate, else the electronic ArticleDate, else PubMed's own date."""
    candidates = []
    if journal is not None:
        candidates.append(journal.find("JournalIssue/PubDate"))
    candidates.append(article.find("ArticleDate"))
    if pubmed_data is not None:
        candidates.append(pubmed_data.find("History/PubMedPubDate[@PubStatus='pubmed']"))
    for node in candidates:
        if node is None:
            continue
        parts = _date_parts(node)
        year, date = pub_date(*parts)
        if year is not None:
            text = parts[4] or " ".join(p for p in parts[:4] if p)
            return year, date, text
    return None, "", ""


def _article_ids(pubmed_data: etree._Element | None) -> dict[str, str]:
    """The record's own ids (not those of its references, which sit in ReferenceList)."""
    if pubmed_data is None:
        return {}
    ids: dict[str, str] = {}
    for node in pubmed_data.iterfind("ArticleIdList/ArticleId"):
        kind = node.get("IdType", "")
        if kind and kind not in ids and _text(node):
            ids[kind] = _text(node)
    return ids


def _elocation_doi(article: etree._Element) -> str | None:
    for node in article.iterfind("ELocationID"):
        if node.get("EIdType") == "doi" and node.get("ValidYN", "Y") != "N" and _text(node):
            return _text(node)
    return None


def _other_pmc(citation: etree._Element) -> str | None:
    """Older records carry the PMC id as ``<OtherID Source="NLM">PMC4608350 [Available on ...]``."""
    for node in citation.iterfind("OtherID"):
        value = _text(node)
        if node.get("Source") == "NLM" and value.startswith("PMC"):
            return value.split()[0]
    return None


def _mesh(citation: etree._Element) -> tuple[MeshHeading, ...]:
    headings = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None or not _text(descriptor):
            continue
        qualifiers = heading.findall("QualifierName")
        major = descriptor.get("MajorTopicYN") == "Y" or any(q.get("MajorTopicYN") == "Y" for q in qualifiers)
        headings.append(
            MeshHeading(
                descriptor=_text(descriptor),
                ui=descriptor.get("UI"),
                major=major,
                qualifiers=tuple(_text(q) for q in qualifiers if _text(q)),
            )
        )
    return tuple(headings)
