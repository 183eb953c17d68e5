"""Lexicons: typed entries, a key table for Aho-Corasick, and a compact on-disk cache.

A ``Lexicon`` maps folded surface keys to candidate concepts. Each candidate records the exact
spellings it accepts (``None`` = any case), so one automaton over the folded text serves both
case-sensitive symbols (``CAT`` the gene, not ``cat``) and case-insensitive names.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from extractors.ner.text import fold, unify

CACHE_ENV = "RESISTMINE_CACHE"


@dataclass(frozen=True, slots=True)
class Concept:
    """What a surface form refers to: ``norm`` is the display name (HGNC symbol, therapy name …)."""

    label: str
    norm: str
    ids: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """One surface form of a concept. Lower ``priority`` wins ties (symbol < previous < alias < name)."""

    surface: str
    concept: Concept
    priority: int = 0
    case_sensitive: bool = True


@dataclass(frozen=True, slots=True)
class Candidate:
    concept: int
    priority: int
    surfaces: frozenset[str] | None  # exact spellings accepted; None = any case


class Lexicon:
    """Concepts plus ``key -> candidates``; build with ``from_entries`` (tests use tiny in-memory ones)."""

    def __init__(self, concepts: list[Concept], keys: dict[str, tuple[Candidate, ...]],
                 context_keys: frozenset[str] = frozenset()) -> None:
        self.concepts = concepts
        self.keys = keys
        self.context_keys = context_keys

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], *, drop: Iterable[str] = (),
                     context: Iterable[str] = (), min_length: int = 2) -> Lexicon:
        """``drop``: folded keys never matched; ``context``: folded keys matched only in gene context."""
        dropped = set(drop)
        concept_index: dict[Concept, int] = {}
        concepts: list[Concept] = []
        table: dict[str, dict[int, list]] = {}
        for entry in entries:
            surface = unify(entry.surface.strip())
            key = fold(surface)
            if len(key) < min_length or key in dropped:
                continue
            index = concept_index.get(entry.concept)
            if index is None:
                index = concept_index[entry.concept] = len(concepts)
                concepts.append(entry.concept)
            slot = table.setdefault(key, {}).get(index)
            if slot is None:
                table[key][index] = [entry.priority, None if not entry.case_sensitive else {surface}]
                continue
            slot[0] = min(slot[0], entry.priority)
            if slot[1] is not None:
                if entry.case_sensitive:
                    slot[1].add(surface)
                else:
                    slot[1] = None
        keys = {
            key: tuple(sorted(
                (Candidate(i, p, None if s is None else frozenset(s)) for i, (p, s) in by_concept.items()),
                key=lambda c: (c.priority, c.concept),
            ))
            for key, by_concept in table.items()
        }
        return cls(concepts, keys, frozenset(k for k in context if k in keys))

    def candidates(self, key: str, surface: str) -> list[tuple[Concept, int]]:
        """Concepts whose accepted spellings include ``surface`` (``key`` is its folded form), best first."""
        surface = unify(surface)
        found = []
        for cand in self.keys.get(key, ()):
            if cand.surfaces is None or surface in cand.surfaces:
                found.append((self.concepts[cand.concept], cand.priority))
        return found

    def __len__(self) -> int:
        return len(self.keys)


def cache_dir() -> Path:
    """``$RESISTMINE_CACHE`` or ``~/.cache/resistmine`` (XDG): built lexicons live here, never in the repo."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "resistmine"


def fingerprint(*parts: str | Path) -> str:
    """A short hash of versions and data files, so a changed source rebuilds the cache."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(part.read_bytes() if part.is_file() else str(part).encode())
        else:
            digest.update(part.encode())
    return digest.hexdigest()[:16]


def save_cache(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with gzip.open(tmp, "wb", compresslevel=3) as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_cache(path: Path) -> object | None:
    try:
        with gzip.open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError):
        return None
