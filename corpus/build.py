"""Turn the raw fields every parser reads into one cleaned ``Article``: the abstract convention lives here.

Convention: a structured abstract is stored as its sections joined by one space, each labelled section
written ``"LABEL: text"`` (the label as PubMed gives it, usually upper case) — the same shape PubMed's
own text exports use, so XML, MEDLINE text and abstract exports of one paper give the same ``text``.
``AbstractSection.start`` is where the section (its label, if any) starts in ``Article.abstract``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from corpus.article import AbstractSection, Article
from corpus.textclean import clean_text, normalise_space

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_WORD = re.compile(r"[A-Za-z]+")
_PMID = re.compile(r"^[1-9][0-9]{0,9}$")


def month_number(value: str | None) -> int | None:
    """``"Feb"``, ``"02"``, ``"February"`` -> 2; anything else -> ``None``."""
    if not value:
        return None
    value = value.strip().lower().rstrip(".")
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(value) or MONTHS.get(value[:3])


def pub_date(
    year: str | None = None,
    month: str | None = None,
    day: str | None = None,
    season: str | None = None,
    medline_date: str | None = None,
) -> tuple[int | None, str]:
    """PubMed's date shapes -> ``(year, "YYYY[-MM[-DD]]")``.

    Handles Year/Month/Day, Year/Season (``"Spring"``, ``"May-Jun"``) and free-text MedlineDate
    (``"2008 Jul-Aug"``, ``"1998 Dec-1999 Jan"``, ``"2000 Spring"``, ``"Winter 2001"``): the first year and
    the first month named give the date; a range keeps its start.
    """
    text = medline_date if medline_date and not year else None
    if text:
        found = _YEAR.search(text)
        if not found:
            return None, ""
        year = found.group(1)
        rest = text[found.end() :] if found.start() == 0 else text
        month = None
        for word in _WORD.findall(rest):
            month = str(month_number(word) or SEASONS.get(word.lower()) or "") or None
            if month:
                break
        day = None
        match = re.match(r"\s+[A-Za-z]+\s+(\d{1,2})\b", rest)
        if match and month:
            day = match.group(1)
    if not year or not str(year).strip().isdigit():
        return None, ""
    year_int = int(str(year).strip())
    number = month_number(month)
    if number is None and season:
        first = _WORD.findall(season)
        if first:
            number = month_number(first[0]) or SEASONS.get(first[0].lower())
    if number is None and month:
        first = _WORD.findall(month)
        number = SEASONS.get(first[0].lower()) if first else None
    if number is None:
        return year_int, f"{year_int:04d}"
    if day and str(day).strip().isdigit() and 1 <= int(day) <= 31:
        return year_int, f"{year_int:04d}-{number:02d}-{int(day):02d}"
    return year_int, f"{year_int:04d}-{number:02d}"


# Parsers of whole files see the same few hundred date shapes over and over.
cached_pub_date = lru_cache(maxsize=4096)(pub_date)


def is_pmid(value: str) -> bool:
    return bool(_PMID.match(value))


# An abstract-section label inside plain text: upper-case words (letters only, so "PD-L1:" or "HER2:"
# never split) and a colon, at the start or after a sentence end ("MATERIALS AND METHODS: ...").
_LABEL = re.compile(r"(?:^|(?<=[.?!]) )([A-Z]{2,}(?:[ ,/&-]+[A-Z]{2,}){0,5}): ")
_SHORT_LABELS = {"AIM", "AIMS"}


def split_labelled(text: str) -> list[tuple[str | None, str]]:
    """Split plain abstract text on inline section labels; unlabelled text is one section."""
    text = normalise_space(text)
    matches = [m for m in _LABEL.finditer(text) if len(m.group(1)) >= 4 or m.group(1) in _SHORT_LABELS]
    if not matches:
        return [(None, text)] if text else []
    parts: list[tuple[str | None, str]] = []
    if matches[0].start() > 0:
        parts.append((None, text[: matches[0].start()].strip()))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        parts.append((match.group(1), text[match.end() : end].strip()))
    return parts


RawSection = tuple[str | None, str | None, str]  # (label, nlm_category, text)


def join_sections(raw: Sequence[RawSection]) -> tuple[str, tuple[AbstractSection, ...]]:
    """Clean and join ``(label, nlm_category, text)`` parts into the abstract and its sections."""
    pieces: list[str] = []
    sections: list[AbstractSection] = []
    offset = 0
    for label, category, text in raw:
        body = clean_text(text)
        label = clean_text(label) or None
        if not body and not label:
            continue
        piece = f"{label}: {body}" if label and body else (label or body)
        if pieces:
            offset += 1
        sections.append(AbstractSection(text=body, label=label, nlm_category=category or None, start=offset))
        pieces.append(piece)
        offset += len(piece)
    return " ".join(pieces), tuple(sections)


def raw_join(raw: Iterable[tuple[str | None, str | None, str]]) -> str:
    """The abstract as received (uncleaned), joined with the same convention."""
    return " ".join(f"{label}: {text}" if label else text for label, _category, text in raw if text or label)


def make_article(
    pmid: str,
    raw_title: str,
    raw_sections: Sequence[tuple[str | None, str | None, str]],
    **fields,
) -> Article:
    """Build an ``Article`` whose title/abstract are cleaned and whose raw text is kept."""
    abstract, sections = join_sections(raw_sections)
    return Article(
        pmid=pmid,
        title=clean_text(raw_title),
        abstract=abstract,
        sections=sections,
        raw_title=raw_title or "",
        raw_abstract=raw_join(raw_sections),
        **fields,
    )
