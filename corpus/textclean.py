"""Clean article text once, before any offset is computed: repair mojibake, normalise whitespace.

Every parser builds ``Article.title``/``abstract`` through :func:`clean_text`, so all mention offsets
refer to the cleaned text; the text as received stays in ``raw_title``/``raw_abstract``.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy import badness, chardata

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

# ftfy is costly (its mojibake test runs a regex of some 40 alternatives at every position), and most
# non-ASCII scientific text ("β-lactamase", "37 °C") comes out of it unchanged. ``_ftfy_keeps`` proves
# that without calling it, from what ftfy 6.3's ``fix_text`` does with ``_FTFY``: per line, it repairs
# encodings only when ``badness.is_bad`` finds a mojibake pattern, then applies character fixes (C1
# controls, ligatures, line breaks, surrogates, terminal escapes, control characters) and NFC. So a text
# is unchanged when it has none of the characters those fixes touch, is NFC, and ``is_bad`` is false.
# ``is_bad`` is evaluated exactly, but only near non-ASCII characters: every match of ftfy's
# ``BADNESS_RE`` contains a non-ASCII character and is at most ``_BAD_WIDTH`` characters long, so it lies
# inside a window of that reach around one. Both facts are checked on the regex ftfy ships, at import;
# if either fails (or ftfy is another version) every non-ASCII text goes through ftfy as before.
def _must_hold_non_ascii(items) -> bool:
    """Whether every match of a parsed regex (``re._parser`` items) contains a non-ASCII character."""
    from re import _constants as c

    for op, av in items:
        if op is c.LITERAL and av > 0x7F:
            return True
        if op is c.IN and all(
            (kind is c.LITERAL and value > 0x7F) or (kind is c.RANGE and value[0] > 0x7F)
            for kind, value in av
        ):
            return True
        if op is c.BRANCH and all(_must_hold_non_ascii(branch) for branch in av[1]):
            return True
        if op is c.SUBPATTERN and _must_hold_non_ascii(av[-1]):
            return True
        repeat = op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
        if repeat and av[0] >= 1 and _must_hold_non_ascii(av[2]):
            return True
    return False


def _only_local_tests(items) -> bool:
    """Whether a parsed regex looks at nothing outside its match but the start of the string.

    Then a match lying inside ``[pos, endpos)`` is found by ``search(text, pos, endpos)`` too.
    """
    from re import _constants as c

    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
            continue
        if op is c.AT and av in (c.AT_BEGINNING, c.AT_BEGINNING_STRING):
            continue
        if op is c.BRANCH and all(_only_local_tests(branch) for branch in av[1]):
            continue
        if op is c.SUBPATTERN and _only_local_tests(av[-1]):
            continue
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and _only_local_tests(av[2]):
            continue
        return False  # lookaround, word boundary, "$", back reference, ...
    return True


def _bad_width() -> int | None:
    """The longest match of ftfy's mojibake regex, or ``None`` when the window shortcut is not sound."""
    from re import _parser

    pattern = badness.BADNESS_RE
    if not ftfy.__version__.startswith("6.3.") or pattern.flags & (re.MULTILINE | re.IGNORECASE):
        return None
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    _low, high = parsed.getwidth()
    if high > 100 or not _must_hold_non_ascii(parsed) or not _only_local_tests(parsed):
        return None
    return high


_BAD_WIDTH = _bad_width()
_BADNESS = badness.BADNESS_RE
# Non-ASCII characters no more than ``2 * (width - 1)`` apart share one window.
_GAP = 2 * max(1, (_BAD_WIDTH or 2) - 1)
_NON_ASCII_RUN = re.compile(rf"[^\x00-\x7f]+(?:[\x00-\x7f]{{1,{_GAP}}}[^\x00-\x7f]+)*")


def _char_class(codes) -> str:
    return "[" + "".join(re.escape(chr(code)) for code in sorted(set(codes))) + "]"


# Characters that one of ftfy's fixes other than the encoding repair changes, and "\n", where fix_text
# starts a new segment (a segment start would also match "^" in BADNESS_RE).
_FTFY_TOUCHES = re.compile(
    _char_class(
        [*chardata.CONTROL_CHARS, *chardata.LIGATURES]  # remove_control_chars, fix_latin_ligatures
        + [*range(0x80, 0xA0)]  # fix_c1_controls (C1_CONTROL_RE); fix_line_breaks (\x85)
        + [0x1B, 0x0D, 0x0A, 0x2028, 0x2029]  # remove_terminal_escapes, fix_line_breaks, segments
    )[:-1]
    + "\ud800-\udfff]"  # fix_surrogates (SURROGATE_RE)
)


def _ftfy_keeps(text: str) -> bool:
    """True only when ``ftfy.fix_text(text, config=_FTFY)`` would return ``text`` unchanged."""
    if (
        _BAD_WIDTH is None
        or len(text) > _FTFY.max_decode_length
        or _FTFY_TOUCHES.search(text)
        or not unicodedata.is_normalized("NFC", text)
    ):
        return False
    reach = _BAD_WIDTH - 1
    for run in _NON_ASCII_RUN.finditer(text):
        if _BADNESS.search(text, max(0, run.start() - reach), run.end() + reach):
            return False
    return True


def fix_mojibake(text: str) -> str:
    if text.isascii():  # mojibake needs non-ASCII characters; most titles skip ftfy's cost
        return text
    if _ftfy_keeps(text):
        return text
    return ftfy.fix_text(text, config=_FTFY)


def normalise_space(text: str) -> str:
    # Same as ``_SPACE.sub(" ", _CONTROL.sub("", text)).strip()``, faster: str.split() splits on exactly
    # the characters \s matches, and printable text holds no _CONTROL character (all are Cc or Cf) and
    # no whitespace but " ", so printable text without doubled or outer spaces is already normal.
    if text.isprintable():
        if "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text
    else:
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def clean_text(text: str | None) -> str:
    """Repaired, single-spaced text; ``None`` becomes ``""``."""
    if not text:
        return ""
    return normalise_space(fix_mojibake(text))
