"""Read PubMed's MEDLINE text format (efetch ``rettype=medline``, PubMed's "PubMed" export) with Bio.Medline.

Bio.Medline does the tag/continuation-line bookkeeping; this module maps its records onto ``Article``.
An abstract's inline labels ("BACKGROUND: ...") become sections, as in the XML.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from Bio import Medline

from corpus.article import Article, MeshHeading
from corpus.build import is_pmid, make_article, pub_date, split_labelled
from corpus.errors import InputError, ParseError
from corpus.pubmed_xml import RETRACTED_TYPE

SOURCE = "medline-text"
_ID_KIND = re.compile(r"^(?P<value>\S+)\s*\[(?P<kind>[a-z]+)\]$")


def iter_medline_text(source: str | Path | bytes | TextIO, name: str | None = None) -> Iterator[Article]:
    """Yield one ``Article`` per MEDLINE record; a record without a valid PMID raises ``ParseError``."""
    handle, name, owned = _open_text(source, name)
    try:
        try:
            for number, record in enumerate(Medline.parse(handle), start=1):
                yield _article(record, name, number)
        except UnicodeDecodeError as exc:
            raise ParseError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise ParseError(f"{name}: not MEDLINE text ({exc})") from None
    finally:
        if owned:
            handle.close()


def _open_text(source: str | Path | bytes | TextIO, name: str | None) -> tuple[TextIO, str, bool]:
    if isinstance(source, bytes | bytearray):
        return io.StringIO(_decode(bytes(source), name or "<bytes>")), name or "<bytes>", True
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
        return io.StringIO(_decode(data, name or str(path))), name or str(path), True
    return source, name or str(getattr(source, "name", "<stream>")), False


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise ParseError(f"{name}: binary data, not MEDLINE text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _one(record: dict, key: str) -> str:
    value = record.get(key, "")
    if isinstance(value, list):
        value = " ".join(value)
    return " ".join(str(value).split())


def _article(record: dict, name: str, number: int) -> Article:
    pmid = _one(record, "PMID")
    if not is_pmid(pmid):
        raise ParseError(f"{name}: record {number} has a missing or invalid PMID {pmid[:30]!r}")
    ids: dict[str, str] = {}
    for value in list(record.get("AID", [])) + list(record.get("LID", [])):
        match = _ID_KIND.match(value.strip())
        if match:
            ids.setdefault(match.group("kind"), match.group("value"))
    publication_types = tuple(record.get("PT", []))
    year, date = pub_date(medline_date=_one(record, "DP"))
    mesh = []
    for heading in record.get("MH", []):
        descriptor, *qualifiers = heading.split("/")
        major = descriptor.startswith("*") or any(q.startswith("*") for q in qualifiers)
        mesh.append(
            MeshHeading(
                descriptor=descriptor.lstrip("*").strip(),
                major=major,
                qualifiers=tuple(q.lstrip("*").strip() for q in qualifiers),
            )
        )
    extra = {"status": _one(record, "STAT"), "pub_date_text": _one(record, "DP")}
    if record.get("TA"):
        extra["journal_abbrev"] = _one(record, "TA")
    languages = record.get("LA", [])
    return make_article(
        pmid,
        _one(record, "TI") or _one(record, "TT"),
        [(label, None, text) for label, text in split_labelled(_one(record, "AB"))],
        authors=tuple(record.get("AU", [])) or tuple(record.get("CN", [])),
        journal=_one(record, "JT") or _one(record, "TA"),
        pub_year=year,
        pub_date=date,
        doi=ids.get("doi"),
        pmcid=_one(record, "PMC") or None,
        mesh=tuple(mesh),
        keywords=tuple(record.get("OT", [])),
        publication_types=publication_types,
        language=(languages[0] if languages else "und").lower(),
        retracted=RETRACTED_TYPE in publication_types or bool(record.get("RIN")),
        source=SOURCE,
        extra=extra,
    )
