"""The faster lexeme getters return exactly what spaCy's return."""

from __future__ import annotations

import sys

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.lex_attrs import faster_getters, is_currency, is_punct, like_num_en, word_shape

SPACY = spacy.blank("en").vocab.lex_attr_getters
FAST = faster_getters(SPACY)
WORDS = [
    "immunotherapy", "Immunotherapy", "PD-L1", "CD8+", "IL-17-producing", "e.g.", "vs.", "1,000", "3/4", "+5",
    "±2.5", "~10", "1st", "22nd", "Twenty", "thirtieth", "www.x", "www.", "x.com", "x.com.", ".com", "a@b.co",
    "http://x", "https://y.org/", "http", "10.1000/xyz", "am", "x.y:80", "''", "``", "(", "»", "$", "US$",
    "€€", "xxxxxxxx", "XXXXXXX", "aaaaaBBBBBccccc", "...", "!!!!!!", "α", "TNF-α", "²", "٣", "一", "Ab", "A",
    "x" * 120, "X" + "x" * 120, "\n", " ", "\t\n", "'s", "don't", "ÉCOLE", "école", "ǅemal", "ß",
]


def _same(text: str) -> None:
    for attr, getter in SPACY.items():
        assert FAST[attr](text) == getter(text), (attr, text)


def test_every_getter_agrees_on_typical_and_tricky_words():
    assert FAST.keys() == SPACY.keys()
    assert sum(FAST[a] is not SPACY[a] for a in SPACY) >= 20
    for word in WORDS:
        _same(word)


@settings(max_examples=3000, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_every_getter_agrees_on_any_text(text):
    _same(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="aZx09.,/:@-+±~'()$%_ ", min_size=1, max_size=20))
def test_every_getter_agrees_on_numbers_urls_and_punctuation(text):
    _same(text)


def test_shortcuts_for_letters_and_digits_hold_for_every_unicode_character():
    """The shortcuts assume a letter or digit is never punctuation, currency or a digit-free number."""
    alnum = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isalnum()]
    base = spacy.lang.lex_attrs
    for fast, slow in ((is_punct, base.is_punct), (is_currency, base.is_currency),
                       (like_num_en, spacy.lang.en.lex_attrs.like_num), (word_shape, base.word_shape)):
        assert [fast(c) for c in alnum] == [slow(c) for c in alnum], fast.__name__
        assert [fast(c + c) for c in alnum] == [slow(c + c) for c in alnum], fast.__name__
