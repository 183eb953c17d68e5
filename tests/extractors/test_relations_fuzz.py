"""Fuzzing: random and mutated text through the mechanism, cue and relation steps never crashes, and every
offset they return lies inside the text and holds the text it claims."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.mentions import GENE, THERAPY, Mention
from extractors.relations import extract_triples, find_cues, find_mechanisms

SEED_SENTENCE = (
    "Genetic mutations such as PTEN loss, JAK1/2 loss-of-function mutations and Cbl-b deficiency are also "
    "involved in resistance to anti-PD-1; combining ICBs with IDO inhibitors may not overcome resistance."
)
WORDS = st.sampled_from(
    [
        "PTEN",
        "loss",
        "of",
        "resistance",
        "to",
        "anti-PD-1",
        "-/-",
        "(-/-)",
        "and",
        ",",
        ";",
        ".",
        "not",
        "may",
        "knockdown",
        "sensitized",
        "combining",
        "with",
        "inhibitors",
        "blockade",
        "JAK1/2",
        "γ",
        "-",
        "/",
        " ",
    ]
)


def _mutations(draw_text: str) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(st.integers(0, len(draw_text)), st.text(max_size=4)), max_size=6).map(
        lambda edits: _apply(draw_text, edits)
    )


def _apply(text: str, edits: list[tuple[int, str]]) -> str:
    for position, insert in edits:
        text = text[:position] + insert + text[position + 1 :]
    return text


TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=string.printable, max_size=300),
    st.lists(WORDS, max_size=60).map(" ".join),
    _mutations(SEED_SENTENCE),
    st.just(SEED_SENTENCE),
)


def _random_mentions(text: str, data: st.DataObject) -> list[Mention]:
    mentions = []
    for _ in range(data.draw(st.integers(0, 6))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
        label = data.draw(st.sampled_from([GENE, THERAPY]))
        category = data.draw(st.sampled_from(["gene", "family", "immune checkpoint blockade", "other"]))
        mentions.append(
            Mention(
                start,
                end,
                text[start:end],
                label,
                text[start:end] or "X",
                data.draw(st.sampled_from([(), ("X:1",)])),
                category,
                "fuzz",
            )
        )
    return mentions


def _named_mentions(text: str) -> list[Mention]:
    """Genes and therapies where their names survive the mutations, so that triples do get built."""
    mentions = []
    for name, label, category in (
        ("PTEN", GENE, "gene"),
        ("Cbl-b", GENE, "gene"),
        ("JAK1/2", GENE, "gene"),
        ("anti-PD-1", THERAPY, "immune checkpoint blockade"),
        ("ICBs", THERAPY, "immune checkpoint blockade"),
        ("IDO inhibitors", THERAPY, "targeted therapy"),
        ("IDO", GENE, "gene"),
    ):
        start = text.find(name)
        while start != -1:
            mentions.append(
                Mention(start, start + len(name), name, label, name.upper(), ("X:1",), category, "fuzz")
            )
            start = text.find(name, start + 1)
    return mentions


def _sentences(text: str, data: st.DataObject) -> list[tuple[int, int]]:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=4))) | {0, len(text)})
    return list(zip(cuts, cuts[1:], strict=False)) or [(0, len(text))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, data=st.data())
def test_random_text_never_crashes_and_offsets_hold(text, data):
    mechanisms, cues = find_mechanisms(text), find_cues(text)
    for m in mechanisms + cues:
        assert 0 <= m.start < m.end <= len(text) and text[m.start : m.end] == m.text
    mentions = mechanisms + cues + _random_mentions(text, data) + _named_mentions(text)
    triples = extract_triples(text, _sentences(text, data), mentions, "1")
    if text == SEED_SENTENCE:  # the unmutated sentence, whole: the fuzzed path does build triples
        whole = extract_triples(text, [(0, len(text))], mechanisms + cues + _named_mentions(text), "1")
        assert {t.gene for t in whole} >= {"PTEN", "CBL-B", "JAK1/2"}
    for triple in triples:
        for start, end, value in (
            (triple.gene_start, triple.gene_end, triple.gene_text),
            (triple.mechanism_start, triple.mechanism_end, triple.mechanism_text),
            (triple.therapy_start, triple.therapy_end, triple.therapy_text),
            (triple.sentence_start, triple.sentence_end, triple.evidence),
        ):
            assert 0 <= start <= end <= len(text) and text[start:end] == value
        assert 0.0 <= triple.confidence <= 1.0
