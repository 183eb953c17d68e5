"""Clean article text once, before any offset is computed: repair mojibake, normalise whitespace.

Every parser builds ``Article.title``/``abstract`` through :func:`clean_text`, so all mention offsets
refer to the cleaned text; the text as received stays in ``raw_title``/``raw_abstract``.
"""

from __future__ import annotations

import re

import ftfy

# ftfy repairs UTF-8 read as Latin-1/cp1252 ("FcÎ³" -> "Fcγ"). The other fixes are turned off where
# they would change correctly decoded scientific text (curly quotes, full-width forms, HTML entities,
# which XML parsing has already resolved).
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=True,
    fix_line_breaks=True,
    normalization="NFC",
    explain=False,
)

# \s in Python covers NBSP, thin spaces, line/paragraph separators and the ASCII controls \t\n\r\f\v.
_SPACE = re.compile(r"\s+")
# other C0/C1 controls and zero-width marks that break tokenisation
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200d\u2060\ufeff]")


def fix_mojibake(text: str) -> str:
    if text.isascii():  # mojibake needs non-ASCII characters; most titles skip ftfy's cost
        return text
    return ftfy.fix_text(text, config=_FTFY)


def normalise_space(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def clean_text(text: str | None) -> str:
    """Repaired, single-spaced text; ``None`` becomes ``""``."""
    if not text:
        return ""
    return normalise_space(fix_mojibake(text))
