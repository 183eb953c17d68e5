"""Gene normalisation to HGNC symbol + HGNC ID + NCBI Gene ID: the one place that decides it.

Used by the lexicon matcher's candidates and by other recognisers (the trained gene model appends
mentions with empty ids; the resolver calls ``normalise_gene`` on their text).
"""

from __future__ import annotations

import re
from functools import cache

from extractors.mentions import GENE
from extractors.ner.lexicon import Concept, Lexicon
from extractors.ner.text import fold, lookup_key

_TRIM = re.compile(r"^[\s(\[\"']+|[\s)\]\"',.;:]+$")
_DECORATION = re.compile(r"^(?:h|m|r|anti-)(?=[A-Z])|(?:\+|-positive|-negative|\(\+\)|\(-\))$")


@cache
def _gene_lexicon() -> Lexicon:
    from extractors.ner.build import load_lexicons

    return load_lexicons()[GENE]


@cache
def _loose_index() -> dict[str, tuple[Concept, int]]:
    """``lookup_key`` → best concept, for names written with other separators or case."""
    lexicon = _gene_lexicon()
    index: dict[str, tuple[Concept, int]] = {}
    for key, candidates in lexicon.keys.items():
        best = candidates[0]
        loose = lookup_key(key)
        if len(loose) < 3:
            continue
        current = index.get(loose)
        if current is None or best.priority < current[1]:
            index[loose] = (lexicon.concepts[best.concept], best.priority)
    return index


def prepare() -> None:
    """Build the gene look-up tables now (~0.3 s), not on the first document: a pipeline loaded before
    its worker processes fork then hands them over instead of each worker building its own."""
    _loose_index()


def resolve_gene(text: str, lexicon: Lexicon | None = None) -> Concept | None:
    """The best gene concept for an isolated gene name, or ``None``."""
    lexicon = lexicon or _gene_lexicon()
    for form in _forms(text):
        found = lexicon.candidates(fold(form), form)
        if found:
            return found[0][0]
    for form in _forms(text):
        hit = _loose_index().get(lookup_key(form)) if lexicon is _gene_lexicon() else None
        if hit:
            return hit[0]
    return None


def _forms(text: str) -> list[str]:
    text = _TRIM.sub("", text.strip())
    forms = [text]
    stripped = _DECORATION.sub("", text)
    if stripped != text and stripped:
        forms.append(stripped)
    if text[:1].islower() or text[1:2].islower():
        forms.append(text.upper())
    return forms


def normalise_gene(text: str) -> tuple[str, tuple[str, ...], str] | None:
    """``(HGNC symbol or FamPlex family, ids, category)`` for a gene name, e.g.
    ``normalise_gene("TIM-3") == ("HAVCR2", ("HGNC:18437", "NCBIGene:84868"), "gene")``."""
    concept = resolve_gene(text)
    if concept is None:
        return None
    return concept.norm, concept.ids, concept.category
