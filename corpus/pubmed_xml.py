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
            parts = _first(element)
            citation = parts.get("MedlineCitation")
            if citation is None:
                raise ParseError(f"{name}: <PubmedArticle> without <MedlineCitation>")
            yield _citation(citation, parts.get("PubmedData"), name)
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
    if len(element):  # child elements (inline markup, entity references): flatten them
        return "".join(element.itertext()).strip()
    text = element.text  # no children: the text is all there is (as ``itertext`` would give it)
    return text.strip() if text else ""


# lxml's ``find``/``iterfind`` go through ElementPath, in Python, at about 1 µs a call; a PubMed record
# needs some fifty lookups. Walking the children once gives the same elements for a fraction of that:
# ``_first(parent)[tag]`` is ``parent.find(tag)`` and ``_groups(parent)[tag]`` is ``parent.findall(tag)``
# for a plain tag name (comments, processing instructions and entities have non-string tags).
def _first(element: etree._Element) -> dict:
    found = {}
    for child in element:
        tag = child.tag
        if tag not in found:
            found[tag] = child
    return found


def _groups(element: etree._Element) -> dict[object, list[etree._Element]]:
    found: dict[object, list[etree._Element]] = {}
    for child in element:
        tag = child.tag
        if tag in found:
            found[tag].append(child)
        else:
            found[tag] = [child]
    return found


def _nested(parents: list[etree._Element], tag: str) -> list[etree._Element]:
    """``parent.findall("A/tag")`` given ``parents``, the parent's ``A`` children in document order."""
    return [child for parent in parents for child in parent if child.tag == tag]


def _one(groups: dict, tag: str) -> etree._Element | None:
    """``parent.find(tag)`` given ``_groups(parent)``."""
    found = groups.get(tag)
    return found[0] if found else None


_NONE: list[etree._Element] = []


def _pmid(node: etree._Element | None, name: str) -> tuple[str, int]:
    pmid = _text(node)
    if not is_pmid(pmid):
        raise ParseError(f"{name}: citation with a missing or invalid PMID {pmid[:30]!r}")
    version = (node.get("Version") or "1").strip()
    return pmid, int(version) if version.isdigit() and int(version) > 0 else 1


def _citation(citation: etree._Element, pubmed_data: etree._Element | None, name: str) -> Article:
    parts = _groups(citation)
    pmid, version = _pmid(_one(parts, "PMID"), name)
    article = _one(parts, "Article")
    if article is None:
        raise ParseError(f"{name}: PMID {pmid} has no <Article>")
    fields = _groups(article)
    journal = _one(fields, "Journal")
    journal_parts = _groups(journal) if journal is not None else None
    publication_types = tuple(
        _text(p) for p in _nested(fields.get("PublicationTypeList", _NONE), "PublicationType")
    )
    corrections = _nested(parts.get("CommentsCorrectionsList", _NONE), "CommentsCorrections")
    retraction = any(c.get("RefType") == "RetractionIn" for c in corrections)
    ids = _article_ids(pubmed_data)
    doi = ids.get("doi") or _elocation_doi(fields.get("ELocationID", _NONE))
    pmcid = ids.get("pmc") or _other_pmc(parts.get("OtherID", _NONE))
    year, date, date_text = _journal_date(journal_parts, fields, pubmed_data)
    extra = {"status": citation.get("Status", ""), "pub_date_text": date_text}
    abbrev = _text(_one(journal_parts, "ISOAbbreviation")) if journal_parts is not None else ""
    if abbrev:
        extra["journal_abbrev"] = abbrev
    return make_article(
        pmid,
        _text(_one(fields, "ArticleTitle")) or _text(_one(fields, "VernacularTitle")),
        _sections(_one(fields, "Abstract")),
        version=version,
        authors=_authors(_nested(fields.get("AuthorList", _NONE), "Author")),
        journal=_journal_title(journal_parts, parts),
        pub_year=year,
        pub_date=date,
        doi=doi,
        pmcid=pmcid,
        mesh=_mesh(parts.get("MeshHeadingList", _NONE)),
        keywords=tuple(k for k in map(_text, _nested(parts.get("KeywordList", _NONE), "Keyword")) if k),
        publication_types=publication_types,
        language=(_text(_one(fields, "Language")) or "und").lower(),
        retracted=RETRACTED_TYPE in publication_types or retraction,
        source=SOURCE,
        extra=extra,
    )


def _book(element: etree._Element, name: str) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError(f"{name}: <PubmedBookArticle> without <BookDocument>")
    pmid, version = _pmid(document.find("PMID"), name)
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
        for part in abstract
        if part.tag == "AbstractText"
    ]


def _authors(authors) -> tuple[str, ...]:
    """``"LastName Initials"`` as PubMed prints them (``"Jiang X"``), or the collective name."""
    names = []
    for author in authors:
        if author.get("ValidYN", "Y") == "N":
            continue
        parts = _first(author)
        name = _text(parts["CollectiveName"]) if "CollectiveName" in parts else ""
        if not name:
            last = _text(parts["LastName"]) if "LastName" in parts else ""
            initials = _text(parts["Initials"]) if "Initials" in parts else ""
            if not initials and "ForeName" in parts:
                initials = _text(parts["ForeName"])
            suffix = _text(parts["Suffix"]) if "Suffix" in parts else ""
            name = " ".join(filter(None, (last, initials, suffix)))
        if name:
            names.append(" ".join(name.split()))
    return tuple(names)


def _journal_title(journal: dict | None, citation: dict) -> str:
    """From ``_groups(Journal)``, else ``MedlineJournalInfo/MedlineTA`` of ``_groups(MedlineCitation)``."""
    if journal is not None:
        title = _text(_one(journal, "Title")) or _text(_one(journal, "ISOAbbreviation"))
        if title:
            return " ".join(title.split())
    found = _nested(citation.get("MedlineJournalInfo", _NONE), "MedlineTA")
    return _text(found[0] if found else None)


def _date_parts(node: etree._Element) -> tuple[str | None, ...]:
    parts = _first(node)
    get = parts.get
    return (
        _text(get("Year")) or None,
        _text(get("Month")) or None,
        _text(get("Day")) or None,
        _text(get("Season")) or None,
        _text(get("MedlineDate")) or None,
    )


def _pubmed_date(pubmed_data: etree._Element) -> etree._Element | None:
    """``pubmed_data.find("History/PubMedPubDate[@PubStatus='pubmed']")``."""
    for history in pubmed_data:
        if history.tag == "History":
            for node in history:
                if node.tag == "PubMedPubDate" and node.get("PubStatus") == "pubmed":
                    return node
    return None


def _journal_date(
    journal: dict | None, article: dict, pubmed_data: etree._Element | None
) -> tuple[int | None, str, str]:
    """The issue's PubDate, else the electronic ArticleDate, else PubMed's own date.

    ``journal`` is ``_groups(Journal)`` and ``article`` is ``_groups(Article)``.
    """
    candidates = []
    if journal is not None:
        issue_dates = _nested(journal.get("JournalIssue", _NONE), "PubDate")
        candidates.append(issue_dates[0] if issue_dates else None)
    candidates.append(_one(article, "ArticleDate"))
    if pubmed_data is not None:
        candidates.append(_pubmed_date(pubmed_data))
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
    for id_list in pubmed_data:
        if id_list.tag != "ArticleIdList":
            continue
        for node in id_list:
            if node.tag != "ArticleId":
                continue
            kind = node.get("IdType", "")
            if kind and kind not in ids:
                value = _text(node)
                if value:
                    ids[kind] = value
    return ids


def _elocation_doi(elocations: list[etree._Element]) -> str | None:
    """From the ``ELocationID`` children of ``Article``."""
    for node in elocations:
        if node.get("EIdType") == "doi" and node.get("ValidYN", "Y") != "N":
            value = _text(node)
            if value:
                return value
    return None


def _other_pmc(other_ids: list[etree._Element]) -> str | None:
    """Older records carry the PMC id as ``<OtherID Source="NLM">PMC4608350 [Available on ...]``."""
    for node in other_ids:
        value = _text(node)
        if node.get("Source") == "NLM" and value.startswith("PMC"):
            return value.split()[0]
    return None


def _mesh(heading_lists: list[etree._Element]) -> tuple[MeshHeading, ...]:
    """From the ``MeshHeadingList`` children of ``MedlineCitation``."""
    headings = []
    for heading in _nested(heading_lists, "MeshHeading"):
        descriptor = None
        qualifiers = []
        for child in heading:
            tag = child.tag
            if tag == "QualifierName":
                qualifiers.append(child)
            elif tag == "DescriptorName" and descriptor is None:
                descriptor = child
        if descriptor is None:
            continue
        descriptor_text = _text(descriptor)
        if not descriptor_text:
            continue
        major = descriptor.get("MajorTopicYN") == "Y" or any(q.get("MajorTopicYN") == "Y" for q in qualifiers)
        headings.append(
            MeshHeading(
                descriptor=descriptor_text,
                ui=descriptor.get("UI"),
                major=major,
                qualifiers=tuple(text for text in map(_text, qualifiers) if text),
            )
        )
    return tuple(headings)
