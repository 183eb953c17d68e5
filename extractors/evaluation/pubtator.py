"""PubTator reader: title/abstract lines and tab-separated annotations, as BioRED, CDR, GNormPlus ship them.

Offsets refer to ``title + " " + abstract`` (the ``Article.text`` convention). Relation lines (BioRED,
CDR) are skipped. Malformed input raises ``InputError`` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import InputError


@dataclass(frozen=True, slots=True)
class GoldMention:
    start: int
    end: int
    text: str
    type: str
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PubtatorDocument:
    pmid: str
    title: str
    abstract: str
    mentions: tuple[GoldMention, ...] = field(default=())

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}" if self.abstract else self.title


def split_ids(field_: str) -> tuple[str, ...]:
    """``3716;3717``, ``D001|D002``, ``-`` → clean id tuples (``-1``/``-`` mean "no id")."""
    out = []
    for part in field_.replace("|", ";").replace(",", ";").split(";"):
        part = part.strip()
        if part and part not in {"-", "-1"}:
            out.append(part)
    return tuple(out)


def read_pubtator(path: Path | str) -> Iterator[PubtatorDocument]:
    """Stream the documents of one PubTator file."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read gold file {path}: {exc.strerror}") from None
    with handle:
        pmid, title, abstract, mentions = None, "", "", []
        for number, line in enumerate(_lines(handle, path), 1):
            line = line.rstrip("\n")
            if not line.strip():
                if pmid is not None:
                    yield _document(path, pmid, title, abstract, mentions)
                pmid, title, abstract, mentions = None, "", "", []
                continue
            if "|t|" in line[:40] and line.split("|", 1)[0].isdigit():
                if pmid is not None:
                    yield _document(path, pmid, title, abstract, mentions)
                pmid, _, title = line.split("|", 2)
                abstract, mentions = "", []
                continue
            if "|a|" in line[:40] and line.split("|", 1)[0] == pmid:
                abstract = line.split("|", 2)[2]
                continue
            parts = line.split("\t")
            if pmid is None or parts[0] != pmid:
                raise InputError(f"{path}:{number}: annotation outside its document: {line[:60]!r}")
            if len(parts) < 5 or not (parts[1].isdigit() and parts[2].isdigit()):
                continue  # a relation line
            start, end = int(parts[1]), int(parts[2])
            ids = split_ids(parts[5]) if len(parts) > 5 else ()
            mentions.append(GoldMention(start, end, parts[3], parts[4], ids))
        if pmid is not None:
            yield _document(path, pmid, title, abstract, mentions)


def _lines(handle: Iterator[str], path: Path) -> Iterator[str]:
    try:
        yield from handle
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (compressed?): {exc.reason} at byte {exc.start}") from None


def _document(path: Path, pmid: str, title: str, abstract: str,
              mentions: list[GoldMention]) -> PubtatorDocument:
    doc = PubtatorDocument(pmid, title, abstract, tuple(mentions))
    text = doc.text
    for m in mentions:
        if not (0 <= m.start < m.end <= len(text)):
            raise InputError(f"{path}: PMID {pmid}: offsets {m.start}-{m.end} outside the text")
    return doc
