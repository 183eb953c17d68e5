"""The gene model's tokenizer rules: the faster affix regexes find exactly what spaCy's regexes find."""

from __future__ import annotations

import pickle
import random
import re

import spacy
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from extractors.gene_model.affixes import AffixRegex, SuffixSearch, _char_first, split_astral
from extractors.gene_model.tokenizer import (
    EXTRA_INFIXES,
    EXTRA_PREFIXES,
    EXTRA_SUFFIXES,
    make_nlp,
    same_tokenization,
)

DEFAULTS = spacy.blank("en").Defaults
SUFFIXES = list(DEFAULTS.suffixes) + list(EXTRA_SUFFIXES)
PREFIXES = list(DEFAULTS.prefixes) + list(EXTRA_PREFIXES)
INFIXES = list(DEFAULTS.infixes) + list(EXTRA_INFIXES)
HARD = [
    "", "a", ".", "..", "...", "a....", "e.g.", "U.S.", "TNF-a.", "PI3K.", "EPOR-", "IL-2–", "5km", "10km²",
    "20°C.", "12$", "US$", "5+", "CD8+", "cells),", "(n=10)", "patient's", "Patients'", "’s", "x..\n",
    "..\n", "\n", "\n\n", "a\n", "α.", "ß.", "Ω.", "AB.", "Ab.", "A.", "1.", "%.", "',", "……", "…", "⟧",
    "IL-17-producing", "PI3K/Akt/mTOR", "CD4(+)", "anti-PD-1", "shPTEN", "17producing", "a,b", "x:y",
    "\U00020001.", "a\U0001d100b", "\U0001d100", "(\U00010137", "中国.", "a\U0002f800-b", "🙂", "a🙂.",
]


def _texts(pieces: list[str]) -> list[str]:
    # characters of the patterns, and astral characters at and next to every range end they name
    ends = {int(h, 16) for p in pieces for h in re.findall(r"\\U([0-9A-Fa-f]{8})", p)}
    astral = {chr(c + d) for c in ends for d in (-1, 0, 1) if 0 <= c + d <= 0x10FFFF}
    alphabet = sorted(set("".join(pieces) + "".join(HARD) + "abcXYZ019 \t\n") | astral)
    rng = random.Random(0)
    texts = HARD + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(20_000)]
    return texts + [text[i:] for text in HARD for i in range(len(text))]


def _span(match):
    return None if match is None else match.span()


def test_suffix_search_spans_match_spacys_regex():
    regex, fast = compile_suffix_regex(SUFFIXES), SuffixSearch(SUFFIXES)
    texts = _texts(SUFFIXES)
    assert [_span(fast.search(t)) for t in texts] == [_span(regex.search(t)) for t in texts]


def test_prefix_and_infix_regexes_match_spacys():
    prefix, infix = compile_prefix_regex(PREFIXES), compile_infix_regex(INFIXES)
    fast_prefix, fast_infix = AffixRegex(prefix), AffixRegex.infixes(INFIXES)
    texts = _texts(PREFIXES + INFIXES)
    assert [_span(fast_prefix.search(t)) for t in texts] == [_span(prefix.search(t)) for t in texts]
    assert [[m.span() for m in fast_infix.finditer(t)] for t in texts] == [
        [m.span() for m in infix.finditer(t)] for t in texts
    ]


def test_split_astral_keeps_classes_without_astral_characters_and_negated_ones():
    assert split_astral(r"[a-z\]]x\[") == r"[a-z\]]x\["
    assert split_astral(r"[^a-z\U00010000]") == r"[^a-z\U00010000]"
    split = split_astral(r"(?<=[a\U00020000-\U00020005])b")
    assert split != r"(?<=[a\U00020000-\U00020005])b"
    for text in ("ab", "\U00020003b", "\U00020006b", "cb"):
        assert _span(re.search(split, text)) == _span(re.search(r"(?<=[a\U00020000-\U00020005])b", text))


def test_char_first_moves_only_one_leading_character_or_class_before_the_lookbehind():
    assert _char_first(r"(?<=[0-9])\+") == r"\+(?<=(?:[0-9])\+)"
    assert _char_first(r"(?<=a)[bc](?=d)") == r"[bc](?<=(?:a)[bc])(?=d)"
    for kept in (r"(?<=a)b{2}", r"(?<=a)(?:b|cd)", r"(?<=[0-9])(?=[a-z]{4,})", r"[/\\]", r"a(?<=a)"):
        assert _char_first(kept) == kept
    for piece in (r"(?<=[0-9])\+", r"(?<=a)[bc](?=d)", r"(?<=a|b)c"):
        for text in ("a+", "1+", "abd", "acd", "abe", "bc", "ac", "cc"):
            assert _span(re.search(_char_first(piece), text)) == _span(re.search(piece, text))


def test_affix_regexes_keep_spacys_patterns_for_serialisation_and_comparison():
    nlp = make_nlp()
    tokenizer = nlp.tokenizer
    assert tokenizer.suffix_search.__self__.pattern == compile_suffix_regex(SUFFIXES).pattern
    assert tokenizer.prefix_search.__self__.pattern == compile_prefix_regex(PREFIXES).pattern
    assert tokenizer.infix_finditer.__self__.pattern == compile_infix_regex(INFIXES).pattern
    loaded = spacy.blank("en")
    loaded.tokenizer.from_bytes(tokenizer.to_bytes())
    assert same_tokenization(tokenizer, loaded.tokenizer)
    text = "IL-17-producing cells (e.g. CD8+), PI3K/Akt. TNF-a. 5km... \U00020001 a\U0001d100b"
    words = [t.text for t in tokenizer(text)]
    assert [t.text for t in loaded.tokenizer(text)] == words
    assert [t.text for t in pickle.loads(pickle.dumps(tokenizer))(text)] == words
