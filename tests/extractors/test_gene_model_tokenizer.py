"""The gene model's tokenizer rules: the faster suffix search finds exactly what spaCy's regex finds."""

from __future__ import annotations

import pickle
import random

import spacy
from spacy.util import compile_suffix_regex

from extractors.gene_model.tokenizer import EXTRA_SUFFIXES, SuffixSearch, make_nlp, same_tokenization

PIECES = list(spacy.blank("en").Defaults.suffixes) + list(EXTRA_SUFFIXES)
HARD = [
    "", "a", ".", "..", "...", "a....", "e.g.", "U.S.", "TNF-a.", "PI3K.", "EPOR-", "IL-2–", "5km", "10km²",
    "20°C.", "12$", "US$", "5+", "CD8+", "cells),", "(n=10)", "patient's", "Patients'", "’s", "x..\n",
    "..\n", "\n", "\n\n", "a\n", "α.", "ß.", "Ω.", "AB.", "Ab.", "A.", "1.", "%.", "',", "……", "…", "⟧",
]


def _span(match):
    return None if match is None else match.span()


def test_suffix_search_spans_match_spacys_regex():
    regex, fast = compile_suffix_regex(PIECES), SuffixSearch(PIECES)
    alphabet = sorted(set("".join(PIECES) + "".join(HARD) + "abcXYZ019 \t\n"))
    rng = random.Random(0)
    texts = HARD + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(30_000)]
    texts += [text[i:] for text in HARD for i in range(len(text))]
    assert [_span(fast.search(t)) for t in texts] == [_span(regex.search(t)) for t in texts]


def test_suffix_search_keeps_spacys_pattern_for_serialisation_and_comparison():
    nlp = make_nlp()
    assert nlp.tokenizer.suffix_search.__self__.pattern == compile_suffix_regex(PIECES).pattern
    loaded = spacy.blank("en")
    loaded.tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert same_tokenization(nlp.tokenizer, loaded.tokenizer)
    text = "IL-17-producing cells (e.g. CD8+), PI3K. TNF-a. 5km..."
    copy = pickle.loads(pickle.dumps(nlp.tokenizer))
    assert [t.text for t in copy(text)] == [t.text for t in nlp.tokenizer(text)]
