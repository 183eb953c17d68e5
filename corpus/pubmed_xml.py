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
from corpus.build import cached_pub_date, is_pmid, make_article, pub_date
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
# ``_first(parent)[tag]`` is ``parent.find(tag)``, the first child so tagged, and collecting every child so
# tagged (or ``iterchildren(tag)``, which lxml matches in C) is ``parent.findall(tag)``, for a plain tag
# name (comments, processing instructions and entities have non-string tags).
def _first(element: etree._Element) -> dict:
    found = {}
    for child in element:
        tag = child.tag
        if tag not in found:
            found[tag] = child
    return found


def _single_spaced(text: str) -> str:
    """``" ".join(text.split())``, skipping the work for text that is already single-spaced."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # printable: no whitespace but " " (see textclean.normalise_space)
    return " ".join(text.split())


def _pmid(node: etree._Element | None, name: str) -> tuple[str, int]:
    pmid = _text(node)
    if not is_pmid(pmid):
        raise ParseError(f"{name}: citation with a missing or invalid PMID {pmid[:30]!r}")
    version = (node.get("Version") or "1").strip()
    return pmid, int(version) if version.isdigit() and int(version) > 0 else 1


def _citation(citation: etree._Element, pubmed_data: etree._Element | None, name: str) -> Article:
    # One pass over the children of MedlineCitation, Article and Journal, each field taken as
    # ``find`` (first) or ``findall`` (all, in document order) would; see the note above ``_first``.
    pmid_node = article = None
    other_ids: list[etree._Element] = []
    journal_infos: list[etree._Element] = []
    mesh_lists: list[etree._Element] = []
    keyword_lists: list[etree._Element] = []
    retraction = False
    for child in citation:
        tag = child.tag
        if tag == "Article":
            if article is None:
                article = child
        elif tag == "PMID":
            if pmid_node is None:
                pmid_node = child
        elif tag == "MeshHeadingList":
            mesh_lists.append(child)
        elif tag == "OtherID":
            other_ids.append(child)
        elif tag == "KeywordList":
            keyword_lists.append(child)
        elif tag == "MedlineJournalInfo":
            journal_infos.append(child)
        elif tag == "CommentsCorrectionsList" and not retraction:
            corrections = child.iterchildren("CommentsCorrections")
            retraction = any(c.get("RefType") == "RetractionIn" for c in corrections)
    pmid, version = _pmid(pmid_node, name)
    if article is None:
        raise ParseError(f"{name}: PMID {pmid} has no <Article>")
    title = vernacular = abstract = journal = article_date = language = None
    author_lists: list[etree._Element] = []
    type_lists: list[etree._Element] = []
    elocations: list[etree._Element] = []
    for child in article:
        tag = child.tag
        if tag == "AuthorList":
            author_lists.append(child)
        elif tag == "Journal":
            if journal is None:
                journal = child
        elif tag == "ArticleTitle":
            if title is None:
                title = child
        elif tag == "Abstract":
            if abstract is None:
                abstract = child
        elif tag == "PublicationTypeList":
            type_lists.append(child)
        elif tag == "ELocationID":
            elocations.append(child)
        elif tag == "Language":
            if language is None:
                language = child
        elif tag == "ArticleDate":
            if article_date is None:
                article_date = child
        elif tag == "VernacularTitle" and vernacular is None:
            vernacular = child
    publication_types = tuple(_text(p) for node in type_lists for p in node.iterchildren("PublicationType"))
    ids = _article_ids(pubmed_data)
    doi = ids.get("doi") or _elocation_doi(elocations)
    pmcid = ids.get("pmc") or _other_pmc(other_ids)
    journal_title, abbrev, issue_date = _journal(journal, journal_infos)
    candidates = [issue_date] if journal is not None else []
    candidates.append(article_date)
    if pubmed_data is not None:
        candidates.append(_pubmed_date(pubmed_data))
    year, date, date_text = _journal_date(candidates)
    extra = {"status": citation.get("Status", ""), "pub_date_text": date_text}
    if abbrev:
        extra["journal_abbrev"] = abbrev
    return make_article(
        pmid,
        _text(title) or _text(vernacular),
        _sections(abstract),
        version=version,
        authors=_authors(a for node in author_lists for a in node.iterchildren("Author")),
        journal=journal_title,
        pub_year=year,
        pub_date=date,
        doi=doi,
        pmcid=pmcid,
        mesh=_mesh(mesh_lists),
        keywords=tuple(k for node in keyword_lists for k in map(_text, node.iterchildren("Keyword")) if k),
        publication_types=publication_types,
        language=(_text(language) or "und").lower(),
        retracted=RETRACTED_TYPE in publication_types or retraction,
        source=SOURCE,
        extra=extra,
    )


def _journal(
    journal: etree._Element | None, journal_infos: list[etree._Element]
) -> tuple[str, str, etree._Element | None]:
    """(title, ISO abbreviation, the issue's PubDate) of ``Journal``; the title falls back to the MedlineTA
    of the ``MedlineJournalInfo`` children of MedlineCitation."""
    title = abbrev = ""
    issue_date = None
    if journal is not None:
        title_node = abbrev_node = None
        for child in journal:
            tag = child.tag
            if tag == "Title":
                if title_node is None:
                    title_node = child
            elif tag == "ISOAbbreviation":
                if abbrev_node is None:
                    abbrev_node = child
            elif tag == "JournalIssue" and issue_date is None:
                issue_date = next(child.iterchildren("PubDate"), None)
        abbrev = _text(abbrev_node)
        title = _text(title_node) or abbrev
        if title:
            return _single_spaced(title), abbrev, issue_date
    found = [ta for info in journal_infos for ta in info.iterchildren("MedlineTA")]
    return _text(found[0] if found else None), abbrev, issue_date


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
        if author.get("ValidYN") == "N":
            continue
        collective = last = initials = fore = suffix = None
        for part in author:
            tag = part.tag
            if tag == "LastName":
                if last is None:
                    last = part
            elif tag == "Initials":
                if initials is None:
                    initials = part
            elif tag == "ForeName":
                if fore is None:
                    fore = part
            elif tag == "CollectiveName":
                if collective is None:
                    collective = part
            elif tag == "Suffix" and suffix is None:
                suffix = part
        name = _text(collective) if collective is not None else ""
        if not name:
            initials_text = _text(initials) or _text(fore)
            name = " ".join(filter(None, (_text(last), initials_text, _text(suffix))))
        if name:
            names.append(_single_spaced(name))
    return tuple(names)


_DATE_FIELDS = {"Year": 0, "Month": 1, "Day": 2, "Season": 3, "MedlineDate": 4}


def _date_parts(node: etree._Element) -> tuple[str | None, ...]:
    """(Year, Month, Day, Season, MedlineDate) of a date element, each the first of its kind."""
    found: list[etree._Element | None] = [None] * 5
    for child in node:
        index = _DATE_FIELDS.get(child.tag)  # type: ignore[call-overload]
        if index is not None and found[index] is None:
            found[index] = child
    return tuple(_text(part) or None for part in found)


def _pubmed_date(pubmed_data: etree._Element) -> etree._Element | None:
    """``pubmed_data.find("History/PubMedPubDate[@PubStatus='pubmed']")``."""
    for history in pubmed_data:
        if history.tag == "History":
            for node in history:
                if node.tag == "PubMedPubDate" and node.get("PubStatus") == "pubmed":
                    return node
    return None


def _journal_date(candidates: list[etree._Element | None]) -> tuple[int | None, str, str]:
    """From the issue's PubDate, else the electronic ArticleDate, else PubMed's own date (in that order)."""
    for node in candidates:
        if node is None:
            continue
        parts = _date_parts(node)
        year, date = cached_pub_date(*parts)
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


# Most headings recur across records ("Humans", "Female"); equal headings are one shared (frozen) object.
_HEADINGS: dict[tuple, MeshHeading] = {}
_HEADINGS_LIMIT = 50_000


def _mesh(heading_lists: list[etree._Element]) -> tuple[MeshHeading, ...]:
    """From the ``MeshHeadingList`` children of ``MedlineCitation``."""
    headings = []
    for heading_list in heading_lists:
        for heading in heading_list.iterchildren("MeshHeading"):
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
            major = descriptor.get("MajorTopicYN") == "Y" or any(
                q.get("MajorTopicYN") == "Y" for q in qualifiers
            )
            qualifier_texts = tuple(text for text in map(_text, qualifiers) if text)
            key = (descriptor_text, descriptor.get("UI"), major, qualifier_texts)
            found = _HEADINGS.get(key)
            if found is None:
                found = MeshHeading(*key)
                if len(_HEADINGS) >= _HEADINGS_LIMIT:
                    _HEADINGS.clear()
                _HEADINGS[key] = found
            headings.append(found)
    return tuple(headings)
