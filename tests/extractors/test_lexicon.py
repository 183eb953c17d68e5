"""Lexicon building, case-aware Aho-Corasick matching, variants and the on-disk cache."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.mentions import GENE
from extractors.ner.build import read_filters
from extractors.ner.lexicon import Concept, Entry, Lexicon, load_cache, save_cache
from extractors.ner.matcher import LexiconMatcher, LexiconSet, ShortWords
from extractors.ner.text import fold, variants

PTEN = Concept(GENE, "PTEN", ("HGNC:9588", "NCBIGene:5728"), "gene")
CAT = Concept(GENE, "CAT", ("HGNC:1516", "NCBIGene:847"), "gene")
IFNG = Concept(GENE, "IFNG", ("HGNC:5438", "NCBIGene:3458"), "gene")


def tiny() -> Lexicon:
    entries = [Entry("PTEN", PTEN), Entry("Pten", PTEN), Entry("CAT", CAT),
               Entry("interferon gamma", IFNG, 3, case_sensitive=False)]
    entries += [Entry(v, IFNG) for v in variants("IFN-γ", symbol=True)]
    return Lexicon.from_entries(entries)


def spans(lexicon: Lexicon, text: str) -> list[tuple[str, str]]:
    return [(text[h.start:h.end], h.concept.norm) for h in LexiconMatcher(lexicon).find(text)]


def test_a_lexicon_set_finds_what_each_lexicon_finds_alone_with_one_walk_per_text():
    drug = Concept("CHEMICAL", "interferon gamma (drug)", ("MESH:D007371",))
    drugs = Lexicon.from_entries([Entry("interferon gamma", drug, case_sensitive=False),
                                  Entry("ptenase", drug)])
    both = LexiconSet({GENE: tiny(), "CHEMICAL": drugs})
    text = "PTEN, ptenase and CAT; Interferon-Gamma with IFN-γ. PTENs interferon gammas"
    scan = both.scan(text)
    for label, lexicon in ((GENE, tiny()), ("CHEMICAL", drugs)):
        assert both.find(label, text, scan) == LexiconMatcher(lexicon).find(text)
    assert list(scan.walks) == [id(both)]  # the second lexicon reused the first one's walk
    assert [text[h.start:h.end] for h in both.find("CHEMICAL", text)] == ["ptenase", "Interferon-Gamma"]


@settings(max_examples=400)
@given(st.text(alphabet="ab1_- .,αé²٣(\x01\u0307", max_size=40))
def test_short_words_are_the_whole_words_that_are_keys_in_ascii_and_other_text(text):
    keys = frozenset({"a", "ab", "b1", "1", "é", "αb", "ab1"})
    expected = tuple((m.group(), *m.span()) for m in re.finditer(r"[^\W_]+", text)
                     if len(m.group()) <= 5 and m.group() in keys)
    assert ShortWords(keys).find(text) == expected


def test_exact_case_entries_ignore_other_cases_and_names_match_any_case():
    text = "PTEN and Pten, not pten; CAT but not cat; Interferon Gamma and interferon-gamma."
    assert spans(tiny(), text) == [("PTEN", "PTEN"), ("Pten", "PTEN"), ("CAT", "CAT"),
                                   ("Interferon Gamma", "IFNG"), ("interferon-gamma", "IFNG")]


def test_matches_respect_word_boundaries_but_not_hyphens():
    assert spans(tiny(), "PTENs CATALASE anti-PTEN") == [("PTEN", "PTEN")]


def test_greek_and_hyphen_variants_of_a_symbol():
    assert {"IFN-γ", "IFNγ", "IFN-gamma"} <= variants("IFN-γ", symbol=True)
    expected = [("IFNγ", "IFNG"), ("IFN-γ", "IFNG"), ("IFN-gamma", "IFNG")]
    assert spans(tiny(), "IFNγ, IFN-γ and IFN-gamma") == expected


def test_symbol_variants_cover_hyphenation_and_mouse_case():
    assert {"TIM-3", "Tim3", "Tim-3"} <= variants("TIM3", symbol=True)
    assert "Ezh2" in variants("EZH2", symbol=True)
    assert "Cat" not in variants("CAT", symbol=True)  # three letters, no digit: no mouse form
    assert "indoleamine 2, 3-dioxygenase" in variants("indoleamine 2,3-dioxygenase")


def test_longest_match_wins_and_lower_priority_breaks_ties():
    a = Concept(GENE, "A", ("X:1",))
    b = Concept(GENE, "B", ("X:2",))
    lexicon = Lexicon.from_entries([Entry("ab c", a, 1), Entry("ab", b, 0), Entry("AB", a, 2)])
    assert spans(lexicon, "ab c") == [("ab c", "A")]
    assert spans(lexicon, "AB") == [("AB", "A")]
    assert lexicon.candidates(fold("ab"), "ab")[0][0] == b


def test_dropped_and_context_keys():
    lexicon = Lexicon.from_entries([Entry("CAT", CAT), Entry("PTEN", PTEN)], drop=["pten"], context=["cat"])
    assert spans(lexicon, "PTEN in a CAT scan") == []
    assert spans(lexicon, "CAT gene expression") == [("CAT", "CAT")]


def test_fold_keeps_length_for_any_text():
    text = "İstanbul ΣΑΣ ß ﬁ PD-1"
    assert len(fold(text)) == len(text)


def test_cache_round_trip(tmp_path):
    path = tmp_path / "lex.pkl.gz"
    save_cache(path, {GENE: tiny()})
    loaded = load_cache(path)
    assert spans(loaded[GENE], "PTEN") == [("PTEN", "PTEN")]
    (tmp_path / "bad.pkl.gz").write_bytes(b"not gzip")
    assert load_cache(tmp_path / "bad.pkl.gz") is None


def test_train_filters_are_data_with_known_actions():
    filters = read_filters()
    assert filters[GENE], "run python -m extractors.ner.tune to regenerate data/filters.tsv"
    assert {a for by_key in filters.values() for a in by_key.values()} <= {"drop", "context"}
    assert filters[GENE].get("impact") == "context"
