"""Read PubMed's plain "Abstract" text export (Save -> Format: Abstract), one or many records per file.

A record is numbered (``1. J Cancer. 2019 Apr 20;10(7):1764-1771. doi: ...``) and made of blank-line
separated blocks: citation, title, optional ``[Article in Chinese]``, authors, ``Author information:``,
the abstract (one paragraph per labelled section), copyright, optional ``Comment in``/``Erratum in``/
``Retraction in`` lists, then the identifiers (``DOI:``, ``PMCID:``, ``PMID:``) and trailing statements.
Lines are wrapped at about 80 columns; wrapped lines are joined with one space.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.article import Article
from corpus.build import is_pmid, make_article, pub_date
from corpus.errors import InputError, ParseError

SOURCE = "abstract-export"

_RECORD_START = re.compile(r"^(\d+)\. (\S.*)$")
_CITATION = re.compile(r"^\d+\. (?P<journal>.+?)\. (?P<date>(?:1[5-9]|2\d)\d\d\b[^;:.]*)")
_DOI_IN_CITATION = re.compile(r"\bdoi: (\S+?)\.?(?:\s|$)")
_ID_LINE = re.compile(r"^(DOI|PMCID|PMID):\s*(\S+)")
_LANGUAGE = re.compile(r"^\[Article in ([A-Za-z, ]+)\]$")
_PARAGRAPH_LABEL = re.compile(r"^([A-Z][A-Z0-9]*(?:[ ,/&-]+[A-Z0-9]+){0,5}): (.*)$")
# "Jiang X(1)", "Li Y(1)(2)", "van der Berg JH", "O'Neil M", "Smith J Jr": a surname and initials
_AUTHOR = re.compile(
    r"^(?:[a-z]+ )*[A-Z\u00c0-\u024f][^\s,()]*(?: [A-Za-z\u00c0-\u024f'\u2019-]+)*? [A-Z]{1,4}"
    r"(?: (?:Jr|Sr|2nd|3rd|II|III|IV))?(?:\(\d+\))*$"
)
_COLLECTIVE = re.compile(r"\b(?:Group|Consortium|Committee|Network|Society|Investigators|Collaborat\w*)\b")
_LIST_HEADINGS = (
    "Comment in", "Comment on", "Erratum in", "Erratum for", "Retraction in", "Retraction of",
    "Update in", "Update of", "Expression of concern in", "Republished in", "Republished from",
    "Corrected and republished in", "Corrected and republished from", "Summary for patients in",
)
_TRAILING = ("Conflict of interest statement", "Publisher's note", "Copyright", "©", "(c)", "(C)")
# PubMed's display names of languages -> MEDLINE three-letter codes (the common ones; others keep 3 letters)
LANGUAGES = {
    "Chinese": "chi", "French": "fre", "German": "ger", "Spanish": "spa", "Italian": "ita",
    "Japanese": "jpn", "Russian": "rus", "Portuguese": "por", "Polish": "pol", "Korean": "kor",
    "Dutch": "dut", "Turkish": "tur", "Czech": "cze", "Hungarian": "hun", "Swedish": "swe",
    "Danish": "dan", "Norwegian": "nor", "Persian": "per", "Hebrew": "heb", "Croatian": "hrv",
    "Serbian": "srp", "Greek, Modern": "gre", "Ukrainian": "ukr", "Romanian": "rum", "English": "eng",
}


def iter_abstract_export(source: str | Path | bytes, name: str | None = None) -> Iterator[Article]:
    """Yield one ``Article`` per numbered record of an abstract export."""
    text, name = _read(source, name)
    for number, lines in _records(text):
        yield _article(lines, name, number)


def _read(source: str | Path | bytes, name: str | None) -> tuple[str, str]:
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), name or "<bytes>"
    else:
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
    if b"\x00" in data:
        raise ParseError(f"{name}: binary data, not a PubMed abstract export")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n"), name
    except UnicodeDecodeError as exc:
        raise ParseError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Split on lines ``N. ...`` that follow a blank line and carry the next expected number."""
    lines = text.split("\n")
    expected = None
    current: list[str] = []
    number = 0
    previous_blank = True
    for line in lines:
        match = _RECORD_START.match(line)
        if match and previous_blank and (expected is None or int(match.group(1)) == expected):
            if current:
                yield number, current
            number = int(match.group(1))
            expected = number + 1
            current = [line]
        elif current or line.strip():
            if not current:
                raise ParseError(f"text before the first numbered record: {line.strip()[:60]!r}")
            current.append(line)
        previous_blank = not line.strip()
    if current:
        yield number, current
    elif expected is None:
        raise ParseError("no numbered record (expected a line like '1. J Cancer. 2019 ...')")


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _joined(block: list[str]) -> str:
    return " ".join(" ".join(line.split()) for line in block)


def _article(lines: list[str], name: str, number: int) -> Article:
    try:
        return _build(_blocks(lines), name, number)
    except ParseError as exc:
        if str(exc).startswith(name):
            raise
        raise ParseError(f"{name}: record {number}: {exc}") from None


def _build(blocks: list[list[str]], name: str, number: int) -> Article:
    ids: dict[str, str] = {}
    id_index = None
    for index, block in enumerate(blocks):
        found = [m for m in (_ID_LINE.match(line.strip()) for line in block) if m]
        if any(m.group(1) == "PMID" for m in found):
            ids = {m.group(1): m.group(2) for m in found}
            id_index = index
            break
    pmid = ids.get("PMID", "")
    if id_index is None or not is_pmid(pmid):
        raise ParseError(f"{name}: record {number} has no valid 'PMID:' line")
    citation = _joined(blocks[0])
    if len(blocks) < 2 or id_index < 2:
        raise ParseError(f"{name}: record {number} (PMID {pmid}) has no title")
    title = _joined(blocks[1])
    body = blocks[2:id_index]
    language = "eng"
    if body and _LANGUAGE.match(_joined(body[0])):
        display = _LANGUAGE.match(_joined(body[0])).group(1).split(",")[0].strip()
        language = LANGUAGES.get(display, display[:3].lower())
        body = body[1:]
    authors: tuple[str, ...] = ()
    if body and _is_author_block(_joined(body[0])):
        authors = tuple(_author(a) for a in _joined(body[0]).rstrip(".").split(", "))
        body = body[1:]
    retracted = title.startswith("RETRACTED:")
    paragraphs: list[str] = []
    for block in body:
        text = _joined(block)
        head = block[0].strip()
        if head.startswith("Author information:"):
            continue
        if head.startswith(_LIST_HEADINGS):
            retracted = retracted or head.startswith("Retraction in")
            continue
        if head.startswith(_TRAILING):
            continue
        paragraphs.append(text)
    sections = []
    for paragraph in paragraphs:
        # the export puts each labelled section in its own paragraph: a label only counts at its start
        labelled = _PARAGRAPH_LABEL.match(paragraph)
        if labelled:
            sections.append((labelled.group(1), None, labelled.group(2)))
        else:
            sections.append((None, None, paragraph))
    match = _CITATION.match(citation)
    journal, date_text = (match.group("journal"), match.group("date").strip()) if match else ("", "")
    year, date = pub_date(medline_date=date_text)
    doi = ids.get("DOI")
    if not doi:
        found = _DOI_IN_CITATION.search(citation)
        doi = found.group(1) if found else None
    return make_article(
        pmid,
        title,
        sections,
        authors=authors,
        journal=journal,
        pub_year=year,
        pub_date=date,
        doi=doi,
        pmcid=ids.get("PMCID"),
        language=language,
        retracted=retracted,
        source=SOURCE,
        extra={"pub_date_text": date_text, "journal_abbrev": journal, "citation": citation},
    )


def _is_author_block(text: str) -> bool:
    if not text.endswith(".") or len(text) > 5000:
        return False
    names = text.rstrip(".").split(", ")
    return all((_AUTHOR.match(n) or _COLLECTIVE.search(n)) and len(n.split()) <= 8 for n in names)


def _author(text: str) -> str:
    return re.sub(r"(\(\d+\))+$", "", text).strip()
