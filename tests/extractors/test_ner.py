"""NER on the hard cases the issue names and on the seed review (PMID 31205532)."""

from __future__ import annotations

import pytest

from corpus.article import Article
from extractors.api import annotate, extract_articles, load_pipeline
from extractors.mentions import CHEMICAL, GENE, THERAPY, Mention
from extractors.ner import normalise_gene
from extractors.ner.abbreviations import apply_abbreviations


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline(relations=False, gene_model=False)


def genes(nlp, text: str) -> list[tuple[str, str]]:
    return [(m.text, m.norm) for m in annotate(text, nlp)._.mentions if m.label == GENE]


@pytest.mark.parametrize(
    ("text", "symbol", "hgnc", "ncbi"),
    [
        ("TIM-3", "HAVCR2", "HGNC:18437", "NCBIGene:84868"),
        ("Tim-3", "HAVCR2", "HGNC:18437", "NCBIGene:84868"),
        ("PD-1", "PDCD1", "HGNC:8760", "NCBIGene:5133"),
        ("PD-L1", "CD274", "HGNC:17635", "NCBIGene:29126"),
        ("CTLA-4", "CTLA4", "HGNC:2505", "NCBIGene:1493"),
        ("Cbl-b", "CBLB", "HGNC:1542", "NCBIGene:868"),
        ("Ezh2", "EZH2", "HGNC:3527", "NCBIGene:2146"),
        ("IDO", "IDO1", "HGNC:6059", "NCBIGene:3620"),
        ("indoleamine 2,3-dioxygenase", "IDO1", "HGNC:6059", "NCBIGene:3620"),
        ("IFN-γ", "IFNG", "HGNC:5438", "NCBIGene:3458"),
        ("IFNγ", "IFNG", "HGNC:5438", "NCBIGene:3458"),
        ("interferon gamma", "IFNG", "HGNC:5438", "NCBIGene:3458"),
        ("interferon-gamma", "IFNG", "HGNC:5438", "NCBIGene:3458"),
        # a curator's override beats a preference learnt from train gold (which says MT-CO2)
        ("COX-2", "PTGS2", "HGNC:9605", "NCBIGene:5743"),
    ],
)
def test_normalise_gene_maps_the_forms_papers_use(text, symbol, hgnc, ncbi):
    assert normalise_gene(text) == (symbol, (hgnc, ncbi), "gene")


def test_families_are_marked_and_unknown_names_are_none():
    assert normalise_gene("PI3K") == ("PI3K", ("FPLX:PI3K",), "family")
    assert normalise_gene("ERK")[2] == "family"
    assert normalise_gene("zzzq not a gene") is None


def test_pd1_is_found_inside_anti_pd1_with_the_therapy_around_it(nlp):
    doc = annotate("Patients received anti-PD-1 antibodies.", nlp)
    found = {(m.label, m.text, m.norm) for m in doc._.mentions}
    assert (GENE, "PD-1", "PDCD1") in found
    assert any(label == THERAPY and text.startswith("anti-PD-1") for label, text, _ in found)


def test_slashed_symbols_expand_to_one_mention_per_gene_on_the_same_span(nlp):
    text = "JAK1/2 loss-of-function mutations"
    found = [(m.start, m.end, m.norm) for m in annotate(text, nlp)._.mentions if m.label == GENE]
    assert found == [(0, 6, "JAK1"), (0, 6, "JAK2")]


def test_case_matters_per_entry(nlp):
    # CAT the gene is upper case; "cat" and sentence-initial "Set" are words
    assert genes(nlp, "The cat sat on a mat. Set the dose.") == []
    assert ("EZH2", "EZH2") in genes(nlp, "EZH2 was mutated.")
    assert ("Ezh2", "EZH2") in genes(nlp, "Ezh2 rose.")


def test_ambiguous_symbols_need_gene_context(nlp):
    # IMPACT is an HGNC symbol and a word; train statistics mark it as needing context
    assert genes(nlp, "This had a large IMPACT on survival.") == []


def test_abbreviation_takes_the_concept_of_its_long_form(nlp):
    text = "Programmed death-ligand 1 (PDLG1) is high. PDLG1 predicts response."
    assert normalise_gene("PDLG1") is None  # known only through its definition
    found = [(m.text, m.norm) for m in annotate(text, nlp)._.mentions if m.label == GENE]
    assert found.count(("PDLG1", "CD274")) == 2


def test_abbreviation_defined_as_another_entity_is_not_a_gene():
    text = "Reactive oxygen species (ROS) rose. ROS damaged DNA."
    chemical = Mention(0, 23, text[:23], CHEMICAL, "Reactive Oxygen Species", ("MESH:D017382",), "chemical")
    gene_hits = [Mention(25, 28, "ROS", GENE, "ROS1", ("HGNC:10261",), "gene"),
                 Mention(36, 39, "ROS", GENE, "ROS1", ("HGNC:10261",), "gene")]
    out = apply_abbreviations(text, [chemical, *gene_hits], [(25, 28, 0, 23)])
    assert not [m for m in out if m.label == GENE]
    assert [(m.start, m.norm) for m in out if m.text == "ROS"] == [(25, "Reactive Oxygen Species"),
                                                                    (36, "Reactive Oxygen Species")]


def test_a_short_form_defined_as_a_disease_is_no_gene_where_only_the_tagger_saw_one():
    # PMID 16005363 (held-out slice): the tagger read later "WFS" as genes; the text defines a syndrome
    text = "Wolfram syndrome (WFS) is rare. WFS1 causes WFS. MEN1 and WFS."
    late = [text.index("WFS.", 30), text.rindex("WFS")]
    model = [Mention(start, start + 3, "WFS", GENE, "WFS", (), "gene", "model") for start in late]
    wfs1 = Mention(32, 36, "WFS1", GENE, "WFS1", ("HGNC:12762",), "gene", "lexicon:gene")
    out = apply_abbreviations(text, [*model, wfs1], [(18, 21, 0, 16)])
    assert [m.text for m in out if m.label == GENE] == ["WFS1"]
    # a short form the lexicon names is left to the rule at the definition (it may be a gene too: MEN1)
    named = [Mention(start, start + 3, "WFS", GENE, "WFS", ("HGNC:1",), "gene", "lexicon:gene")
             for start in late]
    assert apply_abbreviations(text, [*named, wfs1], [(18, 21, 0, 16)]) == [*named, wfs1]


def test_abbreviation_with_an_undefined_long_form_keeps_the_gene():
    text = "Never in mitosis kinase 2 (NEK2) is high."
    gene = Mention(27, 31, "NEK2", GENE, "NEK2", ("HGNC:7745",), "gene")
    assert apply_abbreviations(text, [gene], [(27, 31, 0, 25)]) == [gene]


def test_unnormalised_definition_does_not_unname_a_known_short_form():
    # PMID 27460078: the tagger spans "von Hippel-Lindau" but no lexicon names it; VHL itself is HGNC:12687
    text = "VHL-deficient cells resist. The von Hippel-Lindau (VHL) gene."
    vhl = ("HGNC:12687",)
    short_hits = [Mention(start, start + 3, "VHL", GENE, "VHL", vhl, "gene") for start in (0, 51)]
    long_form = Mention(32, 49, text[32:49], GENE, text[32:49], (), "", "model")
    out = apply_abbreviations(text, [*short_hits, long_form], [(51, 54, 32, 49)])
    assert [(m.start, m.norm, m.ids) for m in out if m.text == "VHL"] == [(0, "VHL", vhl), (51, "VHL", vhl)]


SEED_GENES = {"MITF", "EZH2", "HAVCR2", "PTEN", "JAK1", "JAK2", "CBLB", "IDO1", "PDCD1"}
SEED_THERAPIES = {
    ("nivolumab", "immune checkpoint blockade"), ("pembrolizumab", "immune checkpoint blockade"),
    ("ipilimumab", "immune checkpoint blockade"),
    ("immune checkpoint blockade", "immune checkpoint blockade"),
    ("radiotherapy", "radiotherapy"), ("chemotherapy", "chemotherapy"),
    ("CpG oligonucleotide", "innate immune agonist"), ("LTX-315", "oncolytic therapy"),
    ("ARNAX", "innate immune agonist"), ("PRR agonist", "innate immune agonist"),
    ("IDO inhibitor", "targeted therapy"),
    ("anti-PD-1 monoclonal antibody", "immune checkpoint blockade"),
}


@pytest.fixture(scope="module")
def seed(nlp):
    from corpus.bundled import bundled_articles

    article = next(a for a in bundled_articles() if a.pmid == "31205532")
    return article, next(extract_articles([article], nlp))


def test_seed_genes_are_all_found_and_normalised(seed):
    _, result = seed
    found = {m.norm for m in result.mentions if m.label == GENE and m.category == "gene"}
    assert SEED_GENES <= found
    texts = {m.text for m in result.mentions if m.label == GENE}
    assert {"MITF", "Ezh2", "TIM-3", "PTEN", "JAK1/2", "Cbl-b", "PD-1"} <= texts


def test_seed_therapies_are_all_found_with_their_class(seed):
    _, result = seed
    found = {(m.norm, m.category) for m in result.mentions if m.label == THERAPY}
    assert SEED_THERAPIES <= found


def test_seed_mentions_have_valid_sorted_offsets(seed):
    article, result = seed
    text = article.text
    assert result.pmid == "31205532"
    assert all(0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text for m in result.mentions)
    keys = [(m.start, m.end) for m in result.mentions]
    assert keys == sorted(keys)


def test_unrelated_text_yields_no_checkpoint_therapy(nlp):
    result = next(extract_articles([Article(pmid="1", title="Soil bacteria in winter.")], nlp))
    assert not [m for m in result.mentions if m.label == THERAPY]


def test_an_unnamed_model_gene_yields_to_a_named_mesh_chemical_on_its_span():
    from extractors.ner.components import resolve

    text = "Nitroglycerin (NTG) and thymosin beta 4 with ETO and CCK-8 cells; PTEN."

    def at(word: str, label: str, ids: tuple[str, ...], category: str, source: str) -> Mention:
        start = text.index(word)
        return Mention(start, start + len(word), word, label, word, ids, category, source, 1.0)

    ntg = text.index("NTG")
    mentions = [
        at("Nitroglycerin", GENE, (), "gene", "model"),
        at("Nitroglycerin", CHEMICAL, ("MESH:D005996",), "chemical", "lexicon:chemical"),
        at("thymosin beta 4", GENE, (), "gene", "model"),
        at("thymosin beta 4", CHEMICAL, ("DRUGBANK:DB12003",), "drug", "lexicon:chemical"),
        at("ETO", GENE, (), "gene", "model"),
        at("ETO", CHEMICAL, ("MESH:D005047",), "chemical", "lexicon:chemical"),
        at("CCK-8", GENE, (), "gene", "model"),
        at("CCK-8", CHEMICAL, ("MESH:D012844",), "chemical", "lexicon:chemical"),
        at("PTEN", GENE, ("HGNC:9588",), "gene", "lexicon:gene"),
    ]
    pairs = [(ntg, ntg + 3, 0, len("Nitroglycerin"))]
    labels = {(m.text, m.label) for m in resolve(text, mentions, pairs)}
    # the definition and its abbreviation are the chemical the lexicon names, not the model's gene
    assert ("Nitroglycerin", CHEMICAL) in labels and ("NTG", CHEMICAL) in labels
    assert ("Nitroglycerin", GENE) not in labels and ("NTG", GENE) not in labels
    # a bare acronym and a DrugBank biologic stay the model's genes; a named gene is untouched
    assert {("thymosin beta 4", GENE), ("ETO", GENE), ("PTEN", GENE)} <= labels
    # CCK-8 is a bare acronym too: too short to overrule the model
    assert ("CCK-8", GENE) in labels


def test_resolver_drops_lexicon_acronyms_the_gene_model_read_and_passed_over():
    from extractors.ner.components import resolve

    text = "Nitroglycerin (NTG) raised BLM and PTEN levels in aspartate aminotransferase assays."

    def lex(word: str) -> Mention:
        start = text.index(word)
        return Mention(start, start + len(word), word, GENE, word, (), "gene", "lexicon:gene", 1.0)

    pten = text.index("PTEN")
    model = Mention(pten, pten + 4, "PTEN", GENE, "PTEN", (), "", "model", 1.0)
    mentions = [lex("NTG"), lex("BLM"), lex("PTEN"), model, lex("aspartate aminotransferase")]
    kept = lambda seen: {m.text for m in resolve(text, list(mentions), [], seen) if m.label == GENE}  # noqa: E731
    everything = kept(None)
    assert {"NTG", "BLM", "PTEN", "aspartate aminotransferase"} <= everything  # model absent: lexicon as is
    read_all = kept([(0, len(text))])
    assert "NTG" not in read_all and "BLM" not in read_all  # read and not tagged by the model
    assert {"PTEN", "aspartate aminotransferase"} <= read_all  # tagged by it / not an acronym
    assert "BLM" in kept([(0, 20)])  # outside the model's windows the lexicon stands
