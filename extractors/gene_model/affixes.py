"""spaCy's affix regexes, matched by equivalent faster ones: same spans, less CPU per new word.

The tokenizer runs its prefix, suffix and infix regexes on every chunk its cache cannot serve, a large
part of what a new word costs besides its lexeme. Three rewrites keep every span and speed them up:

- A character class holding characters outside the Basic Multilingual Plane (spaCy's letter and symbol
  classes list CJK and symbol blocks up to U+2FA1F) is tested range by range, where a BMP-only class is one
  bitmap lookup; ``split_astral`` tests the BMP part as a class of its own and the rest only for astral
  characters (the same set of single characters).
- A piece ``(?<=LB)X…`` whose ``X`` is one character or class is matched as ``X(?<=(?:LB)X)…``: the same
  condition, but most positions fail on the cheap ``X`` before the lookbehind's (often astral) class is read.
- ``SuffixSearch``: every suffix piece ends at ``$``, so grouping its single characters into one class finds
  the same leftmost match.

``pattern`` stays spaCy's: serialisation (``Tokenizer.to_bytes``) and ``same_tokenization`` read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre_constants
from re import _parser as sre_parse

from spacy.util import compile_infix_regex, compile_suffix_regex

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

    @classmethod
    def infixes(cls, pieces: list[str]) -> AffixRegex:
        """``compile_infix_regex(pieces)``, its lookbehinds tried after their character."""
        pieces = [piece for piece in pieces if piece.strip()]  # as compile_infix_regex drops them
        return cls(compile_infix_regex(pieces), "|".join(map(_char_first, pieces)))


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
            alternatives.append(_char_first(piece) + "$")
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


def _char_first(piece: str) -> str:
    """``(?<=LB)X rest`` as ``X(?<=(?:LB)X) rest`` when ``X`` is one character or class; else unchanged."""
    if not piece.startswith("(?<="):
        return piece
    for end in (i + 1 for i, c in enumerate(piece) if c == ")"):
        try:
            head = list(sre_parse.parse(piece[:end]))
            rest = list(sre_parse.parse(piece[end:]))
        except re.error:
            continue
        if not (len(head) == 1 and head[0][0] is sre_constants.ASSERT and head[0][1][0] == -1):
            continue
        if not rest or rest[0][0] not in (sre_constants.LITERAL, sre_constants.IN):
            return piece
        inner, after = piece[4 : end - 1], piece[end:]
        for k in range(1, len(after) + 1):  # the source text of that first character or class
            try:
                if list(sre_parse.parse(after[:k])) == rest[:1]:
                    return f"{after[:k]}(?<=(?:{inner}){after[:k]}){after[k:]}"
            except re.error:
                continue
        return piece
    return piece
