"""Aho-Corasick matching of a lexicon over running text, with word boundaries checked on characters.

Matching on characters (not tokens) finds ``PD-1`` inside ``anti-PD-1`` whatever the tokenizer does, and
keeps every offset an offset into ``Article.text``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from operator import itemgetter

import ahocorasick_rs

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
_WORD = re.compile(r"[^\W_]+")
# ASCII bytes that are word characters ([^\W_]: letters and digits) stay, and so does the \x01 that marks
# a non-ASCII one (``_mark_non_ascii``); all others become NUL.
_WORD_BYTES = bytes(code if (chr(code).isalnum() and code < 128) or code == 1 else 0 for code in range(256))


def _mark_non_ascii(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: a non-ASCII letter or digit becomes ``\x01`` (a word byte no key holds),
    anything else NUL; one byte per character, so offsets stay offsets into the text."""
    assert isinstance(error, UnicodeEncodeError)
    run = error.object[error.start:error.end]
    return "".join("\x01" if char.isalnum() else "\0" for char in run), error.end


_MARK_NON_ASCII = "resistmine-mark-non-ascii"
codecs.register_error(_MARK_NON_ASCII, _mark_non_ascii)


class ShortWords:
    """Finds the words of a folded text that are short keys (at most ``SHORT_KEY`` letters and digits).

    The text is mapped to bytes, one per character: ASCII letters and digits stay, other ASCII
    characters become NUL, non-ASCII letters and digits ``\x01``. One automaton over the ASCII keys
    between NULs finds the whole-word ones: about a quarter of the CPU of iterating every word with a
    regex. The few words holding a ``\x01`` are looked up in the non-ASCII keys. A text that has a
    ``\x01`` of its own takes the regex."""

    def __init__(self, keys: AbstractSet[str]) -> None:
        self.keys = keys
        self._ascii = sorted(key for key in keys if key.isascii())
        self._other = frozenset(key for key in keys if not key.isascii())
        bounded = [b"\0" + key.encode("ascii") + b"\0" for key in self._ascii]
        self._automaton = ahocorasick_rs.BytesAhoCorasick(bounded) if bounded else None

    def find(self, folded: str) -> tuple[tuple[str, int, int], ...]:
        """(word, start, end) of each word of ``folded`` that is a key, in text order."""
        if "\x01" in folded:
            return self._find_by_regex(folded)
        bounded = b"\0" + folded.encode("ascii", _MARK_NON_ASCII).translate(_WORD_BYTES) + b"\0"
        words = []
        if self._automaton is not None:
            names = self._ascii
            # a match runs from the NUL before the word to the one after it; the leading NUL shifts by one
            words = [(names[number], start, end - 2) for number, start, end
                     in self._automaton.find_matches_as_indexes(bounded, overlapping=True)]
        if not self._other or folded.isascii():
            return tuple(words)
        marked = bounded.find(b"\x01")
        while marked != -1:
            start, end = bounded.rfind(b"\0", 0, marked), bounded.find(b"\0", marked)
            word = folded[start:end - 1]  # the leading NUL again
            if len(word) <= SHORT_KEY and word in self._other:
                words.append((word, start, end - 1))
            marked = bounded.find(b"\x01", end)
        return tuple(sorted(words, key=itemgetter(1)))

    def _find_by_regex(self, folded: str) -> tuple[tuple[str, int, int], ...]:
        keys = self.keys
        words = []
        for match in _WORD.finditer(folded):
            word = match.group()
            if len(word) <= SHORT_KEY and word in keys:
                words.append((word, *match.span()))
        return tuple(words)


@dataclass(frozen=True, slots=True)
class Scan:
    """What every matcher needs from a text, computed once per document: folded text and short words.

    ``words`` are the words that ``short_words`` finds, so a scan serves only matchers that look up
    those keys; ``walks`` keeps each ``LexiconSet``'s one walk of the text for the other lexicons."""

    text: str
    folded: str
    words: tuple[tuple[str, int, int], ...]
    short_words: ShortWords = field(compare=False)
    walks: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, text: str, short_words: ShortWords) -> Scan:
        folded = fold(text)
        return cls(text, folded, short_words.find(folded), short_words)

    def serves(self, text: str, short_words: ShortWords) -> bool:
        return self.text is text and self.short_words is short_words


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    concept: Concept
    priority: int
    key: str


def boundary_matches(
    automaton: ahocorasick_rs.AhoCorasick | None, text: str, folded: str
) -> Iterator[tuple[int, int, int]]:
    """(start, end, key number) of the automaton's keys found in ``folded`` (overlapping ones too) that
    start and end at a word edge of ``text``."""
    if automaton is None:
        return
    size = len(text)
    for number, start, end in automaton.find_matches_as_indexes(folded, overlapping=True):
        if (start > 0 and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
            continue
        yield start, end, number


def _automaton(keys: list[str]) -> ahocorasick_rs.AhoCorasick | None:
    """ahocorasick_rs over the lexicon keys: on the four lexicons' 370,000 keys it walks the sample's
    abstracts in 21 ms where pyahocorasick took 49, and holds 51 MB where pyahocorasick held 179."""
    return ahocorasick_rs.AhoCorasick(keys) if keys else None


class LexiconMatcher:
    """All boundary-respecting, case-accepted matches of one lexicon; ``find`` keeps leftmost-longest.

    ``walk=False`` leaves the long keys to a ``LexiconSet`` that walks the text for several lexicons."""

    def __init__(self, lexicon: Lexicon, walk: bool = True) -> None:
        self.lexicon = lexicon
        self.short_keys = frozenset(key for key in lexicon.keys if len(key) <= SHORT_KEY and key.isalnum())
        # what a Scan for this matcher must find; a LexiconSet gives its members one for all of them
        self.short_words = ShortWords(self.short_keys) if walk else None
        self._automaton = _automaton(list(self.long_keys())) if walk else None

    def long_keys(self) -> Iterator[str]:
        """The keys the automaton finds (the short ones are looked up word by word)."""
        return (key for key in self.lexicon.keys if key not in self.short_keys)

    def raw_hits(self, text: str, scan: Scan | None = None,
                 long_matches: Iterable[tuple[int, int, int]] | None = None) -> list[Hit]:
        """Every match with its best concept, overlapping ones included (used for corpus statistics).

        ``long_matches``: the long keys' boundary matches when a ``LexiconSet`` found them already."""
        if scan is None or not scan.serves(text, self.short_words):
            scan = Scan.of(text, self.short_words)
        hits = []
        candidates = self.lexicon.candidates
        if self.short_keys:
            short = self.short_keys
            for key, start, end in scan.words:
                if key in short:
                    found = candidates(key, text[start:end])
                    if found:
                        hits.append(Hit(start, end, found[0][0], found[0][1], key))
        if long_matches is None:
            long_matches = boundary_matches(self._automaton, text, scan.folded)
        folded = scan.folded
        for start, end, _number in long_matches:
            key = folded[start:end]
            found = candidates(key, text[start:end])
            if not found:
                continue
            concept, priority = found[0]
            hits.append(Hit(start, end, concept, priority, key))
        return hits

    def find(self, text: str, scan: Scan | None = None,
             long_matches: Iterable[tuple[int, int, int]] | None = None) -> list[Hit]:
        hits = self.raw_hits(text, scan, long_matches)
        context_keys = self.lexicon.context_keys
        if context_keys:
            hits = [h for h in hits if h.key not in context_keys or has_gene_context(text, h.start, h.end)]
        return longest_first(hits)


class LexiconSet:
    """Several lexicons matched with one walk of each text over all their long keys.

    The walk, not the work per hit, is most of a lexicon's cost: on the baseline sample four walks took
    102 ms, one walk over the four lexicons' keys 49 ms (both with pyahocorasick; see ``_automaton``)."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        if len(lexicons) > 8:
            raise ValueError("a LexiconSet holds at most 8 lexicons (one bit each)")
        self.matchers = {label: LexiconMatcher(lexicon, walk=False) for label, lexicon in lexicons.items()}
        self._bit = {label: 1 << number for number, label in enumerate(self.matchers)}
        bits: dict[str, int] = {}
        for label, matcher in self.matchers.items():
            for key in matcher.long_keys():
                bits[key] = bits.get(key, 0) | self._bit[label]
        self._automaton = _automaton(list(bits))
        self._bits = bytes(bits.values())  # the lexicons of key number i, one bit each
        self.short_words = ShortWords(frozenset().union(*(m.short_keys for m in self.matchers.values())))
        for matcher in self.matchers.values():
            matcher.short_words = self.short_words

    def scan(self, text: str) -> Scan:
        return Scan.of(text, self.short_words)

    def find(self, label: str, text: str, scan: Scan | None = None) -> list[Hit]:
        """``LexiconMatcher.find`` of one lexicon of the set; the walk is kept in ``scan`` for the others."""
        if scan is None or not scan.serves(text, self.short_words):
            scan = self.scan(text)
        walked = scan.walks.get(id(self))
        if walked is None:
            walked = scan.walks[id(self)] = list(boundary_matches(self._automaton, text, scan.folded))
        bit, bits = self._bit[label], self._bits
        mine = [match for match in walked if bits[match[2]] & bit]
        return self.matchers[label].find(text, scan, mine)


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
