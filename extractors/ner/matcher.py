"""Aho-Corasick matching of a lexicon over running text, with word boundaries checked on characters.

Matching on characters (not tokens) finds ``PD-1`` inside ``anti-PD-1`` whatever the tokenizer does, and
keeps every offset an offset into ``Article.text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from extractors.ner.lexicon import Concept, Lexicon
from extractors.ner.text import fold

# Words near an ambiguous symbol that say "this is a gene or protein".
GENE_CONTEXT = re.compile(
    r"\b(genes?|proteins?|m?RNAs?|expression|expressed|express(?:es|ing)?|knock(?:down|out|ed)|mutations?|"
    r"mutants?|mutated|variants?|alleles?|receptors?|kinases?|ligands?|pathways?|signall?ing|transcripts?|"
    r"promoters?|polymorphisms?|deficien\w*|overexpress\w*|silenc\w*|deletions?|amplifications?|levels?|"
    r"isoforms?|phosphorylat\w*|inhibitors?|antibod\w*|siRNA|shRNA|loci|locus|encod\w*|transcription|"
    r"upregulat\w*|downregulat\w*|activat\w*)\b",
    re.IGNORECASE,
)
CONTEXT_WINDOW = 60
# Short alphanumeric keys (``th``, ``ici``) would be found inside most words by the automaton; they are
# looked up word by word instead, which is far fewer hits to reject in Python.
SHORT_KEY = 5
_SHORT_WORD = re.compile(rf"(?<![^\W_])[^\W_]{{1,{SHORT_KEY}}}(?![^\W_])")


@dataclass(frozen=True, slots=True)
class Scan:
    """What every matcher needs from a text, computed once per document: folded text and short words."""

    text: str
    folded: str
    words: tuple[tuple[str, int, int], ...]

    @classmethod
    def of(cls, text: str) -> Scan:
        folded = fold(text)
        return cls(text, folded, tuple((m.group(), m.start(), m.end()) for m in _SHORT_WORD.finditer(folded)))


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    concept: Concept
    priority: int
    key: str


class LexiconMatcher:
    """All boundary-respecting, case-accepted matches of one lexicon; ``find`` keeps leftmost-longest."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        automaton = ahocorasick.Automaton()
        self._short = set()
        for key in lexicon.keys:
            if len(key) <= SHORT_KEY and key.isalnum():
                self._short.add(key)
            else:
                automaton.add_word(key, key)
        if len(automaton):
            automaton.make_automaton()
        self._automaton = automaton

    def raw_hits(self, text: str, scan: Scan | None = None) -> list[Hit]:
        """Every match with its best concept, overlapping ones included (used for corpus statistics)."""
        scan = scan if scan is not None and scan.text is text else Scan.of(text)
        folded = scan.folded
        size = len(text)
        hits = []
        candidates = self.lexicon.candidates
        if self._short:
            short = self._short
            for key, start, end in scan.words:
                if key in short:
                    found = candidates(key, text[start:end])
                    if found:
                        hits.append(Hit(start, end, found[0][0], found[0][1], key))
        if not len(self._automaton):
            return hits
        for last, key in self._automaton.iter(folded):
            end = last + 1
            start = end - len(key)
            if (start > 0 and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
                continue
            found = candidates(key, text[start:end])
            if not found:
                continue
            concept, priority = found[0]
            hits.append(Hit(start, end, concept, priority, key))
        return hits

    def find(self, text: str, scan: Scan | None = None) -> list[Hit]:
        hits = self.raw_hits(text, scan)
        context_keys = self.lexicon.context_keys
        if context_keys:
            hits = [h for h in hits if h.key not in context_keys or has_gene_context(text, h.start, h.end)]
        return longest_first(hits)


def has_gene_context(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - CONTEXT_WINDOW):start] + " " + text[end:end + CONTEXT_WINDOW]
    return GENE_CONTEXT.search(window) is not None


def longest_first(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits, preferring longer spans, then better priority, then earlier start."""
    chosen: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.priority, h.start)):
        if any(hit.start < e and s < hit.end for s, e in taken):
            continue
        chosen.append(hit)
        taken.append((hit.start, hit.end))
    chosen.sort(key=lambda h: h.start)
    return chosen
