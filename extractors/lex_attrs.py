"""Faster equivalents of spaCy's English lexeme attribute getters.

spaCy calls every getter of ``Vocab.lex_attr_getters`` once for each word it has not seen before, and a
stream of abstracts brings ~22 such words each: the Python getters are then a third of what tokenizing
a new abstract costs. Each function here returns what the spaCy function it replaces returns, for every
string (tests/extractors/test_lex_attrs.py compares them), mostly by answering the common case, a word
of letters, with one ``str`` method and handing the rest to spaCy's own code.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from spacy.lang import lex_attrs as base
from spacy.lang.en import lex_attrs as en
from spacy.util import _get_attr_unless_lookup

_NUMBER_WORDS = frozenset(en._num_words) | frozenset(en._ordinal_words)
_URL_STARTS = ("http://", "https://")


def word_shape(text: str) -> str:
    """``spacy.lang.lex_attrs.word_shape``: an ASCII word in lower or title case directly (``xxxx``,
    ``Xxxxx``: runs are cut to four), anything else by spaCy's loop."""
    if text.isascii() and text.isalpha() and len(text) < 100:
        if text.islower():
            return "xxxx"[: len(text)]
        if text[0].isupper() and text[1:].islower():
            return "Xxxxx"[: len(text)]
    return base.word_shape(text)


def like_num_en(text: str) -> bool:
    """``spacy.lang.en.lex_attrs.like_num``: a text of letters has no digit, so only number words count."""
    if text.isalpha():
        return text.lower() in _NUMBER_WORDS
    return en.like_num(text)


def like_url(text: str) -> bool:
    """``spacy.lang.lex_attrs.like_url``: without a dot only an ``http(s)://`` start makes a URL."""
    if text and "." not in text:
        return text.startswith(_URL_STARTS)
    return base.like_url(text)


def like_email(text: str) -> bool:
    """``spacy.lang.lex_attrs.like_email``: its pattern needs an ``@``."""
    return "@" in text and base.like_email(text)


def is_punct(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_punct``: letters and digits are never punctuation."""
    return False if text.isalnum() else base.is_punct(text)


def is_currency(text: str) -> bool:
    """``spacy.lang.lex_attrs.is_currency``: letters and digits are never currency symbols."""
    return False if text.isalnum() else base.is_currency(text)


# spaCy's getter -> its equivalent; builtins and ``operator`` callables run without a Python frame.
_SAME_AS: dict[Callable, Callable] = {
    base.lower: str.lower,
    base.prefix: operator.itemgetter(0),
    base.suffix: operator.itemgetter(slice(-3, None)),
    base.is_alpha: str.isalpha,
    base.is_digit: str.isdigit,
    base.is_lower: str.islower,
    base.is_space: str.isspace,
    base.is_title: str.istitle,
    base.is_upper: str.isupper,
    base.is_ascii: str.isascii,
    base.word_shape: word_shape,
    base.like_url: like_url,
    base.like_email: like_email,
    base.is_punct: is_punct,
    base.is_currency: is_currency,
    en.like_num: like_num_en,
    # membership in the tuples spaCy's functions scan, by hash
    base.is_bracket: frozenset("()[]{}<>").__contains__,
    base.is_quote: frozenset([*"\"'`«»‘’‚‛“”„‟‹›❮❯", "''", "``"]).__contains__,
    base.is_left_punct: frozenset([*"([{<\"'«‘‚‛“„‟‹❮", "``"]).__contains__,
    base.is_right_punct: frozenset([*")]}>\"'»’”›❯", "''"]).__contains__,
}
_MISSING = object()


def faster_getters(getters: dict[int, Callable]) -> dict[int, Callable]:
    """``getters`` with each spaCy getter this module knows swapped for its equivalent, others kept."""
    return {attr: _equivalent(getter) or getter for attr, getter in getters.items()}


def _equivalent(getter: Any) -> Callable | None:
    if not isinstance(getter, functools.partial):
        return _SAME_AS.get(getter)
    func, args, keywords = getter.func, getter.args, getter.keywords
    if func is base.is_stop and not args and set(keywords) == {"stops"}:
        stops = keywords["stops"]
        return lambda text: text.lower() in stops
    if func is base.get_lang and not args and set(keywords) == {"lang"}:
        lang = keywords["lang"]
        return lambda text: lang
    if func is _get_attr_unless_lookup and len(args) == 2 and not keywords and args[0] is base.lower:
        lookups = tuple(args[1])
        if len(lookups) == 1:
            table = lookups[0]

            def lookup_or_lower(text: str) -> Any:
                value = table.get(text, _MISSING)
                return text.lower() if value is _MISSING else value

            return lookup_or_lower
    return None
