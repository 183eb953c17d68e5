"""The gene model's own tokenizer: spaCy's English rules plus splits inside biomedical tokens.

Gene mentions sit inside compounds such as ``IL-17-producing``, ``PI3K/Akt/mTOR``, ``CD4(+)`` and
``anti-PD-1``; a span can only be predicted if its edges are token edges, so the model splits
hyphens, slashes, brackets and ``+`` where a gene name can start or end. The model runs this tokenizer
on the text itself and reports character offsets, so the surrounding pipeline may tokenize differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre_constants
from re import _parser as sre_parse

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

# Extra infixes, each a place where a gene mention may begin or end inside a longer token.
EXTRA_INFIXES = (
    r"[/\\]",  # PI3K/Akt, JAK1/2
    r"(?<=[0-9A-Za-zα-ωΑ-Ω)\]])[-–‐](?=[0-9A-Za-zα-ωΑ-Ω(\[])",  # IL-17-producing, anti-PD-1, Cbl-b
    r"[()\[\]]",  # CD4(+), (HNF)-6
    r"[+]",  # CD8+ T
    r"(?<=[a-z]{3})(?=[A-Z]{2})",  # siRNA-free joins such as 'shPTEN' are left alone; 'anti' caps split
    r"[:;,=~*]",  # Pro75:Ala, TNF-α,IL-6, CD72-*2
    r"(?<=[0-9])(?=[a-z]{4,})",  # 17producing
)
EXTRA_PREFIXES = (r"[/\\-]",)  # /Cx3cr1, -GnRH
EXTRA_SUFFIXES = (
    r"(?<=[0-9A-Za-zα-ω])[-–]",  # EPOR- regulated, insulin- and leptin-induced
    r"\.",  # TNF-a. and PI3K. at a sentence end (abbreviations are tokenizer exceptions)
)


def make_nlp() -> Language:
    """A blank English pipeline whose tokenizer splits biomedical compounds at gene boundaries."""
    nlp = spacy.blank("en")
    use_gene_rules(nlp.tokenizer, nlp.Defaults)
    return nlp


def use_gene_rules(tokenizer: Tokenizer, defaults: type) -> None:
    """Give an English ``tokenizer`` the model's splits (its ``defaults`` are the language's ``Defaults``)."""
    tokenizer.infix_finditer = compile_infix_regex(list(defaults.infixes) + list(EXTRA_INFIXES)).finditer
    tokenizer.prefix_search = compile_prefix_regex(list(defaults.prefixes) + list(EXTRA_PREFIXES)).search
    tokenizer.suffix_search = SuffixSearch(list(defaults.suffixes) + list(EXTRA_SUFFIXES)).search


class SuffixSearch:
    """``compile_suffix_regex(pieces).search`` with the same spans, ~40 % less CPU per call.

    The tokenizer runs it on every chunk its cache cannot serve (each new word), and spaCy's
    ``piece$|piece$|…`` tries all ~85 pieces at every position: ~3 µs a call, 7x the prefix search. Every
    piece ends at ``$``, so the leftmost match, and with it the span, does not depend on the order or
    grouping of the pieces: the single characters become one class, and a lookbehind before a single
    character or class (``(?<=[…])\\.``) is tried only where that character ends the text. A text ending in
    a newline, where ``$`` matches twice, goes to the original regex. ``pattern`` is the original's
    (serialisation and ``same_tokenization`` read it)."""

    def __init__(self, pieces: list[str]) -> None:
        pieces = [piece for piece in pieces if piece.strip()]  # as compile_suffix_regex drops them
        self.regex = compile_suffix_regex(pieces)
        self.pattern = self.regex.pattern
        chars = [c for c in map(_single_char, pieces) if c is not None]
        alternatives = ["[" + "".join(re.escape(c) for c in dict.fromkeys(chars)) + "]$"] if chars else []
        for piece in pieces:
            if _single_char(piece) is not None:
                continue
            split = _lookbehind_then_one_char(piece)
            alternatives.append(f"(?={split[1]}$){split[0]}{split[1]}$" if split else piece + "$")
        self.fast = re.compile("|".join(alternatives))

    def search(self, text: str) -> re.Match | None:
        return self.regex.search(text) if text.endswith("\n") else self.fast.search(text)


def _single_char(piece: str) -> str | None:
    items = list(sre_parse.parse(piece))
    return chr(items[0][1]) if len(items) == 1 and items[0][0] is sre_constants.LITERAL else None


def _lookbehind_then_one_char(piece: str) -> tuple[str, str] | None:
    """``("(?<=…)", rest)`` when the piece is one lookbehind followed by one character or class."""
    if not piece.startswith("(?<="):
        return None
    for end in (i + 1 for i, c in enumerate(piece) if c == ")" and i + 1 < len(piece)):
        try:
            head, rest = list(sre_parse.parse(piece[:end])), list(sre_parse.parse(piece[end:]))
        except re.error:
            continue
        if len(head) == 1 and head[0][0] is sre_constants.ASSERT and head[0][1][0] == -1:
            one = len(rest) == 1 and rest[0][0] in (sre_constants.LITERAL, sre_constants.IN)
            return (piece[:end], piece[end:]) if one else None
    return None


def _pattern(function: Callable | None) -> str | None:
    owner = getattr(function, "__self__", None)
    return getattr(owner, "pattern", None) if function is not None else None


def same_tokenization(a: Tokenizer, b: Tokenizer) -> bool:
    """Do two tokenizers split every text alike (same affix rules, token and URL matches, special cases)?"""
    names = ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match")
    try:
        return all(_pattern(getattr(a, n)) == _pattern(getattr(b, n)) for n in names) and a.rules == b.rules
    except AttributeError:  # not a spaCy rule-based tokenizer
        return False
