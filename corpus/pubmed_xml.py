"""Stream PubMed/MEDLINE XML (efetch responses, baseline and update files) into ``Article`` records.

Reads ``PubmedArticleSet`` (current format, also ``PubmedBookArticle``) and the older
``MedlineCitationSet`` baseline format, ``.xml`` or ``.xml.gz`` (sniffed by magic bytes), from a path,
bytes or a binary file object. Memory stays constant: each citation is converted when its element
ends and then cleared. ``<DeleteCitation>`` yields a :class:`Deletion`. Truncated or malformed input
raises :class:`~corpus.errors.ParseError` at the point of damage; citations completed before it have
already been yielded, so callers store per batch and commit only whole batches.

Two readers give the same records: expat driven from C (``corpus/_pubmed_expat.c``, built at install when
a C compiler is at hand; it keeps only the fields read here and builds no tree) and lxml (always there).
Each reads a citation into a :class:`RawCitation`; one function turns that into the ``Article``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from lxml import etree

from corpus.article import Article, MeshHeading
from corpus.build import cached_pub_date, is_pmid, make_article, pub_date
from corpus.errors import ParseError
from corpus.xmlsafe import (
    GuardedReader,
    check_document_root,
    hardened_parser,
    iterparse,
    open_binary,
    syntax_error,
)

try:
    from corpus._pubmed_expat import Scanner as _Scanner
except ImportError:  # not compiled (no C compiler at install): lxml reads everything
    _Scanner = None

ENGINES = ("expat", "lxml") if _Scanner is not None else ("lxml",)
DEFAULT_ENGINE = ENGINES[0]

SOURCE = "pubmed-xml"
RETRACTED_TYPE = "Retracted Publication"
_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation", "ERROR")
_ROOTS = {"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet"}
_CHUNK = 1 << 18  # bytes handed to expat at a time


class RawCitation(NamedTuple):
    """What both readers take from a ``MedlineCitation`` (and its ``PubmedData``): texts stripped, each
    field from the first element of its kind unless a list; ``None`` where the element is absent. The C
    reader fills it by position: keep the order in step with ``enum field`` in ``_pubmed_expat.c``."""

    pmid: str | None
    version: str | None  # the PMID's Version attribute
    status: str
    has_article: bool
    title: str | None
    vernacular: str | None
    sections: list[tuple[str | None, str | None, str]]  # (Label, NlmCategory, text) of each AbstractText
    authors: list[str]  # "LastName Initials" or the collective name, not yet single-spaced
    has_journal: bool
    journal_title: str | None
    journal_abbrev: str | None
    issue_date: tuple[str | None, ...] | None  # (Year, Month, Day, Season, MedlineDate)
    medline_ta: str | None
    article_date: tuple[str | None, ...] | None
    pubmed_date: tuple[str | None, ...] | None
    publication_types: list[str]
    elocation_doi: str | None
    article_doi: str | None
    article_pmc: str | None
    nlm_other_ids: list[str]  # OtherID texts with Source="NLM"
    mesh: list[tuple[str, str | None, bool, tuple[str, ...]]]  # (descriptor, UI, major, qualifiers)
    keywords: list[str]
    language: str | None
    retraction: bool  # a CommentsCorrections RefType="RetractionIn"


@dataclass(frozen=True, slots=True)
class Deletion:
    """PMIDs a ``<DeleteCitation>`` block removes from PubMed."""

    pmids: tuple[str, ...]


def iter_pubmed_xml(
    source: str | Path | bytes | BinaryIO, name: str | None = None, engine: str | None = None
) -> Iterator[Article | Deletion]:
    """Yield each citation (and deletion) of a PubMed XML document in document order.

    ``engine`` is one of ``ENGINES`` (default: the fastest built).
    """
    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"XML engine {engine!r} is not available here (choose from {', '.join(ENGINES)})")
    stream, name, owned = open_binary(source, name)
    try:
        yield from (_iter_expat if engine == "expat" else _iter_stream)(stream, name)
    finally:
        if owned:
            stream.close()


def parse_pubmed_xml(source: str | Path | bytes | BinaryIO, name: str | None = None) -> list[Article]:
    """All articles of a small document, all or nothing (an efetch batch)."""
    return [item for item in iter_pubmed_xml(source, name) if isinstance(item, Article)]


def _iter_stream(stream: BinaryIO, name: str) -> Iterator[Article | Deletion]:
    root_checked = False
    for element in iterparse(stream, name, _TAGS, _ROOTS):
        tag = element.tag
        if not root_checked:
            _check_root(element.getroottree().getroot().tag, tag == "ERROR", name)
            root_checked = True
        if tag == "ERROR":
            raise _eutils_error("".join(element.itertext()), name)
        if tag == "MedlineCitation":
            parent = element.getparent()
            if parent is not None and parent.tag == "PubmedArticle":
                continue  # converted with its PubmedData when the PubmedArticle ends
            yield _citation(element, None, name)
        elif tag == "PubmedArticle":
            parts = _first(element)
            citation = parts.get("MedlineCitation")
            if citation is None:
                raise _no_citation(name)
            yield _citation(citation, parts.get("PubmedData"), name)
        elif tag == "PubmedBookArticle":
            yield _book(element, name)
        elif tag == "DeleteCitation":
            pmids = tuple(_text(p) for p in element.iterfind("PMID"))
            yield Deletion(tuple(p for p in pmids if p))
        _release(element)


def _iter_expat(stream: BinaryIO, name: str) -> Iterator[Article | Deletion]:
    scanner = _Scanner(RawCitation)
    reader = GuardedReader(stream, name)
    root_checked = False
    while True:
        chunk = reader.read(_CHUNK)
        for kind, payload in scanner.feed(chunk) if chunk else scanner.close():
            if not root_checked:
                _check_root(scanner.root, kind == "error", name)
                root_checked = True
            if kind == "citation":
                yield _assemble(payload, name)
            elif kind == "delete":
                yield Deletion(payload)
            elif kind == "book":
                yield _book(etree.fromstring(payload, hardened_parser()), name)
            elif kind == "error":
                raise _eutils_error(payload, name)
            else:  # "no-citation"
                raise _no_citation(name)
        if scanner.error is not None:
            kind, message, line, column = scanner.error
            raise syntax_error(name, kind, f"{message}, line {line}, column {column}")
        if not chunk:
            break
    check_document_root(scanner.root, name, _ROOTS)


def _check_root(root: str, at_error: bool, name: str) -> None:
    """Before the first record: an ``<ERROR>`` is reported whatever the root, anything else needs ours."""
    if root not in _ROOTS and not at_error:
        raise ParseError(f"{name}: not PubMed XML (root element <{root}>)")


def _eutils_error(text: str, name: str) -> ParseError:
    message = " ".join(text.split()) or "no message"
    return ParseError(f"{name}: E-utilities returned an error: {message[:200]}")


def _no_citation(name: str) -> ParseError:
    return ParseError(f"{name}: <PubmedArticle> without <MedlineCitation>")


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


def _pmid(pmid: str | None, version: str | None, name: str) -> tuple[str, int]:
    pmid = pmid or ""
    if not is_pmid(pmid):
        raise ParseError(f"{name}: citation with a missing or invalid PMID {pmid[:30]!r}")
    version = (version or "1").strip()
    return pmid, int(version) if version.isdigit() and int(version) > 0 else 1


def _assemble(raw: RawCitation, name: str) -> Article:
    """The ``Article`` of a citation, whichever reader read it."""
    pmid, version = _pmid(raw.pmid, raw.version, name)
    if not raw.has_article:
        raise ParseError(f"{name}: PMID {pmid} has no <Article>")
    publication_types = tuple(raw.publication_types)
    abbrev = raw.journal_abbrev or ""
    journal_title = (raw.journal_title or abbrev) if raw.has_journal else ""
    journal_title = _single_spaced(journal_title) if journal_title else raw.medline_ta or ""
    candidates = [raw.issue_date] if raw.has_journal else []
    year, date, date_text = _journal_date([*candidates, raw.article_date, raw.pubmed_date])
    extra = {"status": raw.status, "pub_date_text": date_text}
    if abbrev:
        extra["journal_abbrev"] = abbrev
    return make_article(
        pmid,
        raw.title or raw.vernacular or "",
        raw.sections,
        version=version,
        authors=tuple(map(_single_spaced, raw.authors)),
        journal=journal_title,
        pub_year=year,
        pub_date=date,
        doi=raw.article_doi or raw.elocation_doi,
        pmcid=raw.article_pmc or _other_pmc(raw.nlm_other_ids),
        mesh=tuple(map(_heading, raw.mesh)),
        keywords=tuple(raw.keywords),
        publication_types=publication_types,
        language=(raw.language or "und").lower(),
        retracted=RETRACTED_TYPE in publication_types or raw.retraction,
        source=SOURCE,
        extra=extra,
    )


def _citation(citation: etree._Element, pubmed_data: etree._Element | None, name: str) -> Article:
    return _assemble(_raw_citation(citation, pubmed_data), name)


def _raw_citation(citation: etree._Element, pubmed_data: etree._Element | None) -> RawCitation:
    # One pass over the children of MedlineCitation, Article and Journal, each field taken as
    # ``find`` (first) or ``findall`` (all, in document order) would; see the note above ``_first``.
    pmid_node = article = None
    nlm_other_ids: list[str] = []
    medline_tas: list[etree._Element] = []
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
            if child.get("Source") == "NLM":
                nlm_other_ids.append(_text(child))
        elif tag == "KeywordList":
            keyword_lists.append(child)
        elif tag == "MedlineJournalInfo":
            medline_tas.extend(child.iterchildren("MedlineTA"))
        elif tag == "CommentsCorrectionsList" and not retraction:
            corrections = child.iterchildren("CommentsCorrections")
            retraction = any(c.get("RefType") == "RetractionIn" for c in corrections)
    title = vernacular = abstract = journal = article_date = language = None
    author_lists: list[etree._Element] = []
    type_lists: list[etree._Element] = []
    elocations: list[etree._Element] = []
    for child in article if article is not None else ():
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
    journal_title, abbrev, issue_date = _journal(journal)
    ids = _article_ids(pubmed_data)
    pubmed_date = _pubmed_date(pubmed_data) if pubmed_data is not None else None
    return RawCitation(
        pmid=_text(pmid_node) if pmid_node is not None else None,
        version=pmid_node.get("Version") if pmid_node is not None else None,
        status=citation.get("Status", ""),
        has_article=article is not None,
        title=_text_or_none(title),
        vernacular=_text_or_none(vernacular),
        sections=_sections(abstract),
        authors=_authors(a for node in author_lists for a in node.iterchildren("Author")),
        has_journal=journal is not None,
        journal_title=journal_title,
        journal_abbrev=abbrev,
        issue_date=_date_parts(issue_date) if issue_date is not None else None,
        medline_ta=_text(medline_tas[0]) if medline_tas else None,
        article_date=_date_parts(article_date) if article_date is not None else None,
        pubmed_date=_date_parts(pubmed_date) if pubmed_date is not None else None,
        publication_types=[_text(p) for node in type_lists for p in node.iterchildren("PublicationType")],
        elocation_doi=_elocation_doi(elocations),
        article_doi=ids.get("doi"),
        article_pmc=ids.get("pmc"),
        nlm_other_ids=nlm_other_ids,
        mesh=_mesh_keys(mesh_lists),
        keywords=[k for node in keyword_lists for k in map(_text, node.iterchildren("Keyword")) if k],
        language=_text_or_none(language),
        retraction=retraction,
    )


def _text_or_none(element: etree._Element | None) -> str | None:
    return None if element is None else _text(element)


def _journal(journal: etree._Element | None) -> tuple[str | None, str | None, etree._Element | None]:
    """(Title, ISOAbbreviation, the issue's PubDate) of ``Journal``."""
    title = abbrev = issue_date = None
    for child in journal if journal is not None else ():
        tag = child.tag
        if tag == "Title":
            if title is None:
                title = _text(child)
        elif tag == "ISOAbbreviation":
            if abbrev is None:
                abbrev = _text(child)
        elif tag == "JournalIssue" and issue_date is None:
            issue_date = next(child.iterchildren("PubDate"), None)
    return title, abbrev, issue_date


def _book(element: etree._Element, name: str) -> Article:
    document = element.find("BookDocument")
    if document is None:
        raise ParseError(f"{name}: <PubmedBookArticle> without <BookDocument>")
    pmid_node = document.find("PMID")
    version = pmid_node.get("Version") if pmid_node is not None else None
    pmid, version = _pmid(_text_or_none(pmid_node), version, name)
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
        authors=tuple(map(_single_spaced, _authors(document.iterfind("AuthorList/Author")))),
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


def _authors(authors) -> list[str]:
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
            names.append(name)
    return names


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


def _journal_date(candidates: list[tuple[str | None, ...] | None]) -> tuple[int | None, str, str]:
    """From the issue's PubDate, else the electronic ArticleDate, else PubMed's own date (in that order)."""
    for parts in candidates:
        if parts is None:
            continue
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


def _other_pmc(nlm_other_ids: list[str]) -> str | None:
    """Older records carry the PMC id as ``<OtherID Source="NLM">PMC4608350 [Available on ...]``."""
    for value in nlm_other_ids:
        if value.startswith("PMC"):
            return value.split()[0]
    return None


def _mesh_keys(heading_lists: list[etree._Element]) -> list[tuple[str, str | None, bool, tuple[str, ...]]]:
    """(descriptor, UI, major, qualifiers) of each heading in the ``MeshHeadingList`` children."""
    keys = []
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
            keys.append((descriptor_text, descriptor.get("UI"), major, qualifier_texts))
    return keys


# Most headings recur across records ("Humans", "Female"); equal headings are one shared (frozen) object.
_HEADINGS: dict[tuple, MeshHeading] = {}
_HEADINGS_LIMIT = 50_000


def _heading(key: tuple[str, str | None, bool, tuple[str, ...]]) -> MeshHeading:
    found = _HEADINGS.get(key)
    if found is None:
        found = MeshHeading(*key)
        if len(_HEADINGS) >= _HEADINGS_LIMIT:
            _HEADINGS.clear()
        _HEADINGS[key] = found
    return found
