"""spaCy's affix regexes, matched by equivalent faster ones: same spans, less CPU per new word.

The tokenizer runs its prefix, suffix and infix regexes on every chunk its cache cannot serve, so they
are most of what a new word costs after its lexeme. Two rewrites keep every span and speed them up:

- A character class holding characters outside the Basic Multilingual Plane (spaCy's letter and symbol
  classes list CJK and symbol blocks up to U+2FA1F) is tested range by range, where a BMP-only class is one
  bitmap lookup; ``split_astral`` tests the BMP part as a class of its own and the rest only for astral
  characters (the same set of single characters).
- ``SuffixSearch``: every suffix piece ends at ``$``, so grouping its single characters into one class, and
  trying a lookbehind only where the one character after it ends the text, finds the same leftmost match.

``pattern`` stays spaCy's: serialisation (``Tokenizer.to_bytes``) and ``same_tokenization`` read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre_constants
from re import _parser as sre_parse

from spacy.util import compile_suffix_regex

_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: r"\d", sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s", sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w", sre_constants.CATEGORY_NOT_WORD: r"\W",
}
_ASTRAL = "(?=[\\U00010000-\\U0010ffff])"


class AffixRegex:
    """A compiled prefix or infix regex (``search``, ``finditer``) matched by its ``split_astral`` form."""

    def __init__(self, regex: re.Pattern, fast: str | None = None) -> None:
        self.regex = regex
        self.pattern = regex.pattern
        self.fast = re.compile(split_astral(regex.pattern if fast is None else fast), regex.flags)

    def search(self, text: str) -> re.Match | None:
        return self.fast.search(text)

    def finditer(self, text: str) -> Iterator[re.Match]:
        return self.fast.finditer(text)


class SuffixSearch(AffixRegex):
    """``compile_suffix_regex(pieces).search`` with the same spans. A text ending in a newline, where
    ``$`` matches twice, goes to the original regex."""

    def __init__(self, pieces: list[str]) -> None:
        pieces = [piece for piece in pieces if piece.strip()]  # as compile_suffix_regex drops them
        chars = [c for c in map(_single_char, pieces) if c is not None]
        alternatives = ["[" + "".join(re.escape(c) for c in dict.fromkeys(chars)) + "]$"] if chars else []
        for piece in pieces:
            if _single_char(piece) is not None:
                continue
            split = _lookbehind_then_one_char(piece)
            alternatives.append(f"(?={split[1]}$){split[0]}{split[1]}$" if split else piece + "$")
        super().__init__(compile_suffix_regex(pieces), "|".join(alternatives))

    def search(self, text: str) -> re.Match | None:
        return self.regex.search(text) if text.endswith("\n") else self.fast.search(text)


def split_astral(pattern: str) -> str:
    """``pattern`` with each non-negated character class that holds astral characters split in two."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern[i] != "[":
            out.append(pattern[i])
            i += 1
        else:
            end = i + 1 + (pattern[i + 1 : i + 2] == "^")
            end += pattern[end : end + 1] == "]"  # a "]" first in a class is a literal
            while end < n and pattern[end] != "]":
                end += 2 if pattern[end] == "\\" else 1
            out.append(_split_class(pattern[i : end + 1]))
            i = end + 1
    return "".join(out)


def _split_class(cls: str) -> str:
    try:
        items = list(sre_parse.parse(cls))
    except re.error:
        return cls
    if len(items) != 1 or items[0][0] is not sre_constants.IN:
        return cls
    bmp, astral = [], []
    for op, value in items[0][1]:
        if op is sre_constants.LITERAL:
            (astral if value > 0xFFFF else bmp).append(f"\\U{value:08x}")
        elif op is sre_constants.RANGE:
            (astral if value[0] > 0xFFFF else bmp).append(f"\\U{value[0]:08x}-\\U{value[1]:08x}")
        elif op is sre_constants.CATEGORY and value in _CATEGORIES:
            bmp.append(_CATEGORIES[value])
        else:  # a negated class or anything unforeseen stays as written
            return cls
    if not astral:
        return cls
    astral_class = _ASTRAL + "[" + "".join(astral) + "]"
    return "(?:[" + "".join(bmp) + "]|" + astral_class + ")" if bmp else astral_class


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
