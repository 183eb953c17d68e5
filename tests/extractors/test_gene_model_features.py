"""The gene lexicon's candidate test: the shortcut for lower-case words changes no answer."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.gene_model.component import load_tagger

LEXICON = load_tagger().lexicon
SHAPE = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])|^.[^a-z]*[A-Z]|^.+[A-Z]")
GREEK = re.compile(r"[α-ωΑ-Ω]|alpha|beta|gamma|delta|kappa", re.IGNORECASE)


def _reference(text: str) -> bool:
    """The candidate test as written before the shortcut."""
    lower = text.lower()
    return len(text) >= 2 and text not in LEXICON.non_candidates and bool(
        text in LEXICON.symbols or SHAPE.match(text) or GREEK.search(text) or lower in LEXICON.cue_words
        or lower in LEXICON.single_names or (text[0].isupper() and lower in LEXICON.symbols_lower)
    )


def test_candidate_test_agrees_with_the_reference_on_lexicon_entries_and_words():
    rng = random.Random(0)
    words = sorted(LEXICON.symbols | LEXICON.cue_words | LEXICON.single_names | LEXICON.non_candidates)
    words += sorted(rng.sample(sorted(LEXICON.name_words), 5000)) + [w.lower() for w in words]
    words += ["betacellulin", "kappab", "alphafold", "deltas", "x", "", "ab", "immunotherapy", "Gamma", "ΑΒ"]
    assert [LEXICON.looks_like_gene(w) for w in words] == [_reference(w) for w in words]
    assert [LEXICON.is_candidate(w) for w in words] == [_reference(w) for w in words]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="abgklmnoprstxyzAPTEN019-αβΩµ", max_size=10))
def test_candidate_test_agrees_with_the_reference_on_any_text(text):
    assert LEXICON.looks_like_gene(text) == _reference(text)
