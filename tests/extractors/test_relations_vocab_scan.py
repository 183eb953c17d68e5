"""The vocabularies' fast scan (an Aho-Corasick start finder in front of the alternation, ``entry_for`` in
one fullmatch) finds exactly what the plain scan does: ``finditer`` over the whole text, then the first
entry, longest first, that fullmatches the hit."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.relations.vocab import CueEntry, Hit, Vocabulary, cue_vocabulary, mechanism_vocabulary

SYNTHETIC = [
    "γ-secretase",
    "secretase",
    "k-ras",
    "ſtop",
    "stop",
    r"[A-Z]\d{2,4}(?:[A-Z]|del|fs|\*)",
    "a{0,3}b",
    "(?:ab)+c",
    "x*y",
    r"(?>abc|ab)d",
    "g{1,3}?h",
    "(?:IFN-?[γg]|interferon) loss",
]
# not prefiltered (a lookbehind first; a capturing group keeps ``entry_for`` on its loop)
FALLBACK = [r"(?<=x)abc", "(a)b", "abc"]
WORDS = [
    "resistance", "Resistant", "chemoresistance", "T-cell exclusion", "anoikis resistance", "loss",
    "loss-of-function", "mutations", "V600E", "p53", "-/-", "(-/-)", "IFN-γ", "knockdown", "MDR",
    "overcome the resistance", "combined with", "ſ", "K", "İ", "ı", "µ", "é", "Γ", "-", "/", " ", ",",
    *SYNTHETIC, "xabc", "ab", "secretase",
]  # fmt: skip
TEXTS = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.sampled_from(WORDS).map(str.upper),
        st.text(alphabet="abkrsxyzABKRSXYZ0123456789 -/()*γſKİı", max_size=6),
    ),
    max_size=30,
).map(" ".join)


def _plain_entry(vocabulary: Vocabulary, text: str):
    return next((entry for regex, entry in vocabulary._compiled if regex.fullmatch(text)), None)


def _plain_find(vocabulary: Vocabulary, text: str) -> list[Hit]:
    hits = []
    for match in vocabulary._scanner.finditer(text):
        entry = _plain_entry(vocabulary, match.group())
        if match.end() > match.start() and entry is not None:
            hits.append(Hit(match.start(), match.end(), match.group(), entry))
    return hits


VOCABULARIES = [
    cue_vocabulary(),
    mechanism_vocabulary(),
    Vocabulary([CueEntry(pattern, "resistance", "x") for pattern in SYNTHETIC]),
    Vocabulary([CueEntry(pattern, "resistance", "x") for pattern in FALLBACK]),
]


def test_fast_paths_are_in_use():
    assert all(v._starts is not None and v._whole is not None for v in VOCABULARIES[:3])
    assert VOCABULARIES[3]._starts is None and VOCABULARIES[3]._whole is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_fast_scan_finds_what_the_plain_scan_finds(text):
    for vocabulary in VOCABULARIES:
        hits = list(vocabulary.find(text))
        assert hits == _plain_find(vocabulary, text)
        for hit in hits:
            for probe in (hit.text, hit.text + "s", hit.text[:-1]):
                assert vocabulary.entry_for(probe) == _plain_entry(vocabulary, probe)
