"""The shortcuts in ``corpus.textclean`` give exactly what the slow definitions give.

``fix_mojibake`` skips ftfy when it can prove ftfy would return the text unchanged, and
``normalise_space`` skips its regexes on text that is already normal; neither may ever change a result.
"""

from __future__ import annotations

import re

import ftfy
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import textclean

FUZZ = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _expand(ranges: str) -> set[str]:
    """The characters of a regex character-class body such as ``"Ò-Öò-ö"``."""
    out: set[str] = set()
    index = 0
    while index < len(ranges):
        if index + 2 < len(ranges) and ranges[index + 1] == "-":
            out.update(map(chr, range(ord(ranges[index]), ord(ranges[index + 2]) + 1)))
            index += 3
        else:
            out.add(ranges[index])
            index += 1
    return out


# every character ftfy's mojibake heuristic names, everyday scientific text, and what other fixes touch
_MOJIBAKE_CHARS = set().union(*map(_expand, MOJIBAKE_CATEGORIES.values()))
_MOJIBAKE_CHARS |= {c for c in BADNESS_RE.pattern if ord(c) > 0x7F}
_ALPHABET = sorted(
    _MOJIBAKE_CHARS
    | set("abcxyzABCXYZ .,?!;:'\"-()\t0123")
    | set("αβγµ±°×≥≤–—‘’“”éüñçÅØæœß\u00a0\u2009\u200b\u0301\ufb01\u2028\x85\x1b\x00\ufeff\u206a\n\r")
)
_ENCODINGS = ["latin-1", "cp1252", "macroman", "cp1251", "cp1253", "cp437"]


def _slow_fix(text: str) -> str:
    return text if text.isascii() else ftfy.fix_text(text, config=textclean._FTFY)


def test_the_shortcut_is_active_for_the_installed_ftfy():
    # if this fails, a new ftfy changed what the shortcut was proven against: re-check textclean's reasoning
    assert textclean._BAD_WIDTH == 7


@FUZZ
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=40))
def test_fix_mojibake_is_ftfy(text):
    assert textclean.fix_mojibake(text) == _slow_fix(text)


@FUZZ
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=20), st.sampled_from(_ENCODINGS))
def test_fix_mojibake_is_ftfy_on_real_mojibake(text, encoding):
    mojibake = text.encode("utf-8", "surrogatepass").decode(encoding, errors="replace")
    assert textclean.fix_mojibake(mojibake) == _slow_fix(mojibake)


@FUZZ
@given(st.text(max_size=60))
def test_fix_mojibake_is_ftfy_on_any_text(text):
    assert textclean.fix_mojibake(text) == _slow_fix(text)


def test_fix_mojibake_still_repairs():
    assert textclean.fix_mojibake("Fc\u00ce\u00b3 receptors") == "Fc\u03b3 receptors"
    assert textclean.fix_mojibake("e\u0301 \ufb01t") == "\u00e9 fit"  # NFC and ligatures
    kept = "5 \u00b5m \u2264 10 \u03b2-catenin, 37 \u00b0C, Gr\u00fcn et al."
    assert textclean._ftfy_keeps(kept) and textclean.fix_mojibake(kept) == kept


_SPACE = re.compile(r"\s+")
_SPACES = " \t\n\r\u00a0\u2009\u2028\u3000\x1c\x00\u200b\ufeffab\u00e9"


@FUZZ
@given(st.text(alphabet=st.sampled_from(_SPACES), max_size=12))
def test_normalise_space_is_the_regex_definition(text):
    assert textclean.normalise_space(text) == _SPACE.sub(" ", textclean._CONTROL.sub("", text)).strip()
