"""The relation vocabularies: mechanism words and resistance cues, loaded from the curated TSVs in ``data/``.

Each vocabulary compiles its entries into one case-insensitive alternation (longest entries first), so a
text is scanned once; the entry that matched is found again by ``fullmatch`` on the matched text only.
``from_entries`` builds a vocabulary from rows in memory, for tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from corpus.errors import InputError
from extractors.triples import MECHANISMS

# A word boundary that treats letters and digits as word characters, and nothing else: "-" and "/"
# separate words, so "VHL-deficient" yields "deficient" and "PD-1/PD-L1" its two parts.
# Patterns that begin or end with punctuation ("(-/-)", "-/-") bind to the gene before them directly.
_LEFT = r"(?:(?<![A-Za-z0-9])|(?=[^A-Za-z0-9]))"
_RIGHT = r"(?:(?![A-Za-z0-9])|(?<=[^A-Za-z0-9]))"

MECHANISM_ATTACH = ("prefix", "suffix", "either", "modifier")
MECHANISM_KINDS = ("genetic", "drug", "level")
CUE_EFFECTS = (
    "resistance",
    "sensitivity",
    "reversal",
    "combination",
    "association",
    "anaphora",
    "process",
    "conditional",
    "exclude",
)


@dataclass(frozen=True, slots=True)
class MechanismEntry:
    pattern: str
    norm: str
    attach: str
    kind: str


@dataclass(frozen=True, slots=True)
class CueEntry:
    pattern: str
    effect: str
    kind: str
    implied_therapy: str = ""
    implied_class: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """One vocabulary match: character offsets into the scanned text and the entry that matched."""

    start: int
    end: int
    text: str
    entry: Any


class Vocabulary:
    """Entries of one kind, matched together: ``find(text)`` yields non-overlapping, longest-first hits."""

    def __init__(self, entries: Iterable[MechanismEntry | CueEntry]) -> None:
        self.entries: tuple = tuple(entries)
        if not self.entries:
            raise InputError("relation vocabulary is empty")
        ordered = sorted(self.entries, key=lambda e: len(e.pattern), reverse=True)
        try:
            self._compiled = [(re.compile(e.pattern, re.IGNORECASE), e) for e in ordered]
            alternation = "|".join(f"(?:{e.pattern})" for e in ordered)
            self._scanner = re.compile(f"{_LEFT}(?:{alternation}){_RIGHT}", re.IGNORECASE)
        except re.error as exc:
            raise InputError(f"bad pattern in relation vocabulary: {exc}") from exc

    def find(self, text: str) -> Iterator[Hit]:
        """Matches in text order. Python's alternation takes the first branch that fits, so longer
        patterns are listed first; ``entry_for`` then names the longest entry matching the whole hit."""
        for match in self._scanner.finditer(text):
            if match.end() == match.start():
                continue
            entry = self.entry_for(match.group())
            if entry is not None:
                yield Hit(match.start(), match.end(), match.group(), entry)

    def entry_for(self, text: str) -> Any:
        for regex, entry in self._compiled:
            if regex.fullmatch(text):
                return entry
        return None


def _read_tsv(name: str) -> list[dict[str, str]]:
    raw = resources.files("extractors.relations").joinpath("data", name).read_text(encoding="utf-8")
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            continue
        if len(cells) > len(header):
            raise InputError(
                f"relations/data/{name} line {number}: {len(cells)} cells, expected {len(header)}"
            )
        rows.append(dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True)))
    return rows


def mechanism_entries_from_rows(rows: Iterable[dict[str, str]]) -> list[MechanismEntry]:
    entries = []
    for row in rows:
        entry = MechanismEntry(row["pattern"], row["norm"], row["attach"], row["kind"])
        if (
            entry.norm not in MECHANISMS
            or entry.attach not in MECHANISM_ATTACH
            or entry.kind not in MECHANISM_KINDS
        ):
            raise InputError(f"bad mechanism vocabulary row: {row}")
        entries.append(entry)
    return entries


def cue_entries_from_rows(rows: Iterable[dict[str, str]]) -> list[CueEntry]:
    entries = []
    for row in rows:
        entry = CueEntry(
            row["pattern"],
            row["effect"],
            row["kind"],
            row.get("implied_therapy", ""),
            row.get("implied_class", ""),
        )
        if entry.effect not in CUE_EFFECTS:
            raise InputError(f"bad cue vocabulary row: {row}")
        entries.append(entry)
    return entries


@cache
def mechanism_vocabulary() -> Vocabulary:
    return Vocabulary(mechanism_entries_from_rows(_read_tsv("mechanisms.tsv")))


@cache
def cue_vocabulary() -> Vocabulary:
    return Vocabulary(cue_entries_from_rows(_read_tsv("cues.tsv")))


@cache
def context_termsets() -> dict[str, dict[str, list[str]]]:
    """NegEx termsets for negation and hedging (see data/context.json)."""
    raw = resources.files("extractors.relations").joinpath("data", "context.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    return {key: data[key] for key in ("negation", "hedging")}


@cache
def drug_classes() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(name pattern, therapy class) rows of data/drug_classes.tsv, in file order."""
    rows = []
    for row in _read_tsv("drug_classes.tsv"):
        try:
            rows.append((re.compile(row["pattern"], re.IGNORECASE), row["class"]))
        except re.error as exc:
            raise InputError(f"bad pattern in relations/data/drug_classes.tsv: {exc}") from exc
    return tuple(rows)


def drug_class(*names: str) -> str:
    """The therapy class of a drug by name (INN stems such as -platin, -tinib), ``other`` when unknown."""
    for regex, therapy_class in drug_classes():
        if any(regex.fullmatch(name.strip()) for name in names if name):
            return therapy_class
    return "other"
