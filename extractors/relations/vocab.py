"""The relation vocabularies: mechanism words and resistance cues, loaded from the curated TSVs in ``data/``.

Each vocabulary compiles its entries into one case-insensitive alternation (longest entries first), so a
text is scanned once; the entry that matched is found again by ``fullmatch`` on the matched text only.
The alternation is only tried where one of its entries can begin: one Aho-Corasick automaton holds the
first characters every entry can start with, and finds those places in one pass over the text.
``from_entries`` builds a vocabulary from rows in memory, for tests.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import ahocorasick_rs

from corpus.errors import InputError
from extractors.triples import MECHANISMS, OTHER_THERAPY_CLASS

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
            # ``entry_for`` in one fullmatch: the first branch that matches the whole text is the first entry
            # that does; its group names it (when the entries have no groups of their own to shift).
            self._ordered = tuple(ordered)
            self._whole = None
            if all(regex.groups == 0 for regex, _ in self._compiled):
                self._whole = re.compile("|".join(f"({e.pattern})" for e in ordered), re.IGNORECASE)
        except re.error as exc:
            raise InputError(f"bad pattern in relation vocabulary: {exc}") from exc
        self._starts = _StartFinder.build(e.pattern for e in ordered)

    def find(self, text: str) -> Iterator[Hit]:
        """Matches in text order. Python's alternation takes the first branch that fits, so longer
        patterns are listed first; ``entry_for`` then names the longest entry matching the whole hit."""
        matches = self._scanner.finditer(text) if self._starts is None else self._matches(text)
        for match in matches:
            if match.end() == match.start():
                continue
            entry = self.entry_for(match.group())
            if entry is not None:
                yield Hit(match.start(), match.end(), match.group(), entry)

    def _matches(self, text: str) -> Iterator[re.Match[str]]:
        """What ``self._scanner.finditer(text)`` yields, trying the scanner only where an entry can start.

        ``finditer`` takes the leftmost position at or after the end of the last match where the scanner
        matches; every position it can match at is among ``self._starts.find(text)`` (a superset), and no
        entry matches the empty string, so trying those positions in order gives the same matches.
        """
        match_at = self._scanner.match
        end = 0
        for start in self._starts.find(text):
            if start < end:
                continue
            match = match_at(text, start)  # lookbehinds still see text[:start]
            if match is not None:
                yield match
                end = match.end()

    def entry_for(self, text: str) -> Any:
        """The longest entry (the first in ``_compiled``) that matches the whole of text, or None."""
        if self._whole is not None:
            match = self._whole.fullmatch(text)
            return None if match is None else self._ordered[match.lastindex - 1]
        for regex, entry in self._compiled:
            if regex.fullmatch(text):
                return entry
        return None


# Where a vocabulary entry can start. Each entry's regex is read (``re._parser``) for the first _WIDTH
# characters its matches can begin with, as ASCII sets under IGNORECASE. The automaton holds every string
# those sets spell, and runs over the text with A-Z lowered (same length, same offsets). A non-ASCII
# character can match an ASCII one case-insensitively (the Kelvin sign K, the long s), or a non-ASCII
# pattern character, so every position up to _WIDTH - 1 before a non-ASCII character is a start too.
# Anything the reading does not follow (lookarounds, \w, \S, a negated class, ...) ends an entry's
# prefix there: a shorter prefix finds more starts, never fewer. An entry with no prefix, or one that
# can match the empty string, leaves the vocabulary without a start finder (the plain ``finditer``).
_WIDTH = 4
_MAX_CLASS = 40  # a larger character class ends the prefix
_MAX_KEYS = 50_000
_LOWER_ASCII = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII = [chr(code) for code in range(128)]
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}

_Prefix = tuple[tuple[frozenset[str], ...], bool]  # (character sets, whether the rest of the regex follows)
_STOP: set[_Prefix] = {((), False)}


class _NoPrefix(Exception):
    pass


class _StartFinder:
    def __init__(self, keys: set[str]) -> None:
        self._automaton = ahocorasick_rs.AhoCorasick(sorted(keys))

    @classmethod
    def build(cls, patterns: Iterable[str]) -> _StartFinder | None:
        try:
            from re import _constants, _parser
        except ImportError:  # pragma: no cover - a Python without them scans with finditer
            return None
        try:
            keys: set[str] = set()
            for pattern in patterns:
                parsed = _parser.parse(pattern, re.IGNORECASE)
                if parsed.state.flags != re.IGNORECASE | re.UNICODE or parsed.getwidth()[0] == 0:
                    return None
                for sets, _ in _Reader(_constants).sequence(parsed.data):
                    if not sets:
                        return None
                    keys.update(_spell(sets))
                if len(keys) > _MAX_KEYS or "" in keys:  # "": some entry may start anywhere
                    return None
        except (_NoPrefix, re.error, RecursionError):
            return None
        return cls(keys)

    def find(self, text: str) -> list[int]:
        """Sorted positions where an entry may start (a superset of where one does)."""
        find = self._automaton.find_matches_as_indexes
        if text.isascii():
            starts = {start for _, start, _ in find(text.lower(), overlapping=True)}
        else:
            # str.lower maps non-ASCII letters too (so extra starts may appear: harmless, this is a
            # superset), and only a length change would move offsets; the mapping table is 10x slower.
            lowered = text.lower()
            if len(lowered) != len(text):
                lowered = text.translate(_LOWER_ASCII)
            starts = {start for _, start, _ in find(lowered, overlapping=True)}
            for match in _NON_ASCII.finditer(text):
                at = match.start()
                starts.update(range(max(at - _WIDTH + 1, 0), at + 1))
        return sorted(starts)


def _spell(sets: tuple[frozenset[str], ...]) -> set[str]:
    """The strings the character sets spell, shortened until there are few enough."""
    while True:
        count = 1
        for chars in sets:
            count *= len(chars)
        if count <= _MAX_KEYS:
            break
        sets = sets[:-1]
    words = {""}
    for chars in sets:
        words = {word + char for word in words for char in chars}
    return words


class _Reader:
    """The prefixes of a parsed regex: every match begins with a string the sets of one prefix spell,
    except where it has a non-ASCII character within its first _WIDTH."""

    def __init__(self, constants: Any) -> None:
        self.c = constants

    def sequence(self, items: Iterable[tuple[Any, Any]]) -> set[_Prefix]:
        prefixes: set[_Prefix] = {((), True)}
        for op, av in items:
            if not any(is_open for _, is_open in prefixes):
                break
            prefixes = _then(prefixes, self.item(op, av))
        return prefixes

    def item(self, op: Any, av: Any) -> set[_Prefix]:
        c = self.c
        if op is c.LITERAL or op is c.IN:
            chars = _ascii_class(op is c.IN, av, c)
            if chars is None:
                return _STOP
            # no ASCII character matches: the match has a non-ASCII one here, and is found through it
            return {((chars,), True)} if chars else set()
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, pattern = av
            return _STOP if add_flags or del_flags else self.sequence(pattern.data)
        if op is c.BRANCH:
            return set().union(*(self.sequence(branch.data) for branch in av[1]))
        if op is c.ATOMIC_GROUP:
            return {(sets, False) for sets, _ in self.sequence(av.data)}
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, pattern = av
            if low > _WIDTH or op is c.POSSESSIVE_REPEAT:
                return _STOP if low > _WIDTH else {(s, False) for s, _ in self._repeat(low, pattern)}
            once = self.sequence(pattern.data)
            least = self._repeat(low, pattern, once)
            if high == low:
                return least
            more = _then(least, once)
            if high == low + 1:
                return least | more
            return least | {(sets, False) for sets, _ in more}
        return _STOP  # lookarounds, anchors, ANY, NOT_LITERAL, group references: the prefix ends here

    def _repeat(self, times: int, pattern: Any, once: set[_Prefix] | None = None) -> set[_Prefix]:
        once = self.sequence(pattern.data) if once is None else once
        prefixes: set[_Prefix] = {((), True)}
        for _ in range(min(times, _WIDTH)):
            prefixes = _then(prefixes, once)
        return prefixes


def _then(prefixes: set[_Prefix], following: set[_Prefix]) -> set[_Prefix]:
    joined: set[_Prefix] = set()
    for sets, is_open in prefixes:
        if not is_open:
            joined.add((sets, False))
            continue
        for more, more_open in following:
            both = sets + more
            joined.add((both[:_WIDTH], False) if len(both) >= _WIDTH else (both, more_open))
    if len(joined) > _MAX_KEYS:
        raise _NoPrefix
    return joined


def _ascii_class(is_set: bool, av: Any, c: Any) -> frozenset[str] | None:
    """The ASCII characters (lowered) a LITERAL or IN matches case-insensitively; None for too many."""
    if not is_set:
        source = f"\\U{av:08x}"
    else:
        parts = []
        for op, arg in av:
            if op is c.LITERAL:
                parts.append(f"\\U{arg:08x}")
            elif op is c.RANGE:
                parts.append(f"\\U{arg[0]:08x}-\\U{arg[1]:08x}")
            elif op is c.NEGATE:
                parts.append("^")
            elif op is c.CATEGORY and getattr(arg, "name", None) in _CATEGORIES:
                parts.append(_CATEGORIES[arg.name])
            else:
                return None
        if "^" in parts[1:]:
            return None
        source = f"[{''.join(parts)}]"
    regex = re.compile(source, re.IGNORECASE)
    chars = frozenset(char.lower() for char in _ASCII if regex.fullmatch(char))
    return chars if len(chars) <= _MAX_CLASS else None


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
    return OTHER_THERAPY_CLASS
