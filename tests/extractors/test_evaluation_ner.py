"""PubTator reading and NER scoring: small inline gold, then the real command on BioRED dev."""

from __future__ import annotations

import json

import pytest

from corpus.errors import InputError
from extractors.evaluation.ner import NerReport, score_document
from extractors.evaluation.pubtator import read_pubtator, split_ids
from extractors.mentions import CHEMICAL, GENE, Mention
from pipeline.cli import main

GOLD = """\
100|t|PTEN loss in melanoma.
100|a|JAK1/2 mutations and cisplatin.
100\t0\t4\tPTEN\tGeneOrGeneProduct\t5728
100\t23\t29\tJAK1/2\tGeneOrGeneProduct\t3716;3717
100\t44\t53\tcisplatin\tChemicalEntity\tD002945
100\tAssociation\t5728\tD002945\tNovel

200|t|Nothing.
200|a|
"""


@pytest.fixture
def gold_file(tmp_path):
    path = tmp_path / "gold.PubTator"
    path.write_text(GOLD)
    return path


def test_reader_keeps_offsets_types_and_ids_and_skips_relations(gold_file):
    docs = list(read_pubtator(gold_file))
    assert [d.pmid for d in docs] == ["100", "200"]
    first = docs[0]
    assert first.text == "PTEN loss in melanoma. JAK1/2 mutations and cisplatin."
    assert [(m.text, m.type, m.ids) for m in first.mentions] == [
        ("PTEN", "GeneOrGeneProduct", ("5728",)),
        ("JAK1/2", "GeneOrGeneProduct", ("3716", "3717")),
        ("cisplatin", "ChemicalEntity", ("D002945",)),
    ]
    assert all(first.text[m.start:m.end] == m.text for m in first.mentions)


def test_split_ids_handles_separators_and_missing():
    assert split_ids("3716;3717") == ("3716", "3717")
    assert split_ids("D001|D002") == ("D001", "D002")
    assert split_ids("-") == ()


def test_offsets_outside_the_text_are_an_input_error(tmp_path):
    path = tmp_path / "bad.PubTator"
    path.write_text("1|t|Short.\n1|a|\n1\t0\t99\tShort\tGene\t1\n")
    with pytest.raises(InputError, match="offsets 0-99"):
        list(read_pubtator(path))


def test_strict_lenient_and_normalisation_counts(gold_file):
    doc = next(read_pubtator(gold_file))
    predicted = [
        Mention(0, 4, "PTEN", GENE, "PTEN", ("HGNC:9588", "NCBIGene:5728")),  # exact, right id
        Mention(23, 29, "JAK1/2", GENE, "JAK1", ("HGNC:6190", "NCBIGene:3716")),  # same span twice: one
        Mention(23, 29, "JAK1/2", GENE, "JAK2", ("HGNC:6192", "NCBIGene:3717")),  # predicted span
        Mention(13, 21, "melanoma", GENE, "X", ()),  # false positive
        Mention(44, 52, "cisplati", CHEMICAL, "Cisplatin", ()),  # overlap only
    ]
    report = NerReport("gold", 1)
    score_document(report, doc, predicted, {GENE, CHEMICAL}, human_ncbi={"5728", "3716", "3717"})
    assert (report.strict[GENE].tp, report.strict[GENE].fp, report.strict[GENE].fn) == (2, 1, 0)
    assert (report.strict[CHEMICAL].tp, report.strict[CHEMICAL].fn) == (0, 1)
    assert report.lenient[CHEMICAL].tp == 1
    assert (report.norm_total, report.norm_correct, report.norm_human_correct) == (2, 2, 2)
    data = report.as_dict()
    assert data["labels"][GENE]["strict"]["precision"] == pytest.approx(2 / 3, abs=1e-3)


def test_evaluate_command_prints_one_json_object(gold_file, capsys):
    code = main(["evaluate", "ner", "--gold", str(gold_file), "--no-gene-model", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["documents"] == 2
    assert data["labels"][GENE]["strict"]["tp"] == 2  # PTEN and JAK1/2 (same span, two genes)
    assert data["gene_normalisation"]["accuracy"] == 1.0


def test_a_compressed_or_binary_file_is_an_input_error_naming_it(tmp_path):
    import gzip

    path = tmp_path / "gold.PubTator.gz"
    path.write_bytes(gzip.compress(b"1|t|PTEN loss.\n1|a|Abstract.\n\n"))
    with pytest.raises(InputError, match=r"gold.PubTator.gz: not UTF-8 text \(compressed\?\)"):
        list(read_pubtator(path))


def test_evaluate_command_names_a_missing_gold_file(tmp_path, capsys):
    assert main(["evaluate", "ner", "--gold", str(tmp_path / "none.PubTator")]) == 2
    assert "none.PubTator" in capsys.readouterr().err


@pytest.mark.slow
def test_biored_dev_gene_and_chemical_scores_hold(shared_dir, capsys):
    gold = shared_dir / "data" / "biored" / "Dev.PubTator"
    if not gold.exists():
        pytest.skip(f"shared data not available: {gold}")
    assert main(["evaluate", "ner", "--gold", str(gold), "--no-gene-model", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # measured 0.78 / 0.79 strict F1 (lexicons only, BioRED dev); guard against regressions
    assert data["labels"][GENE]["strict"]["f1"] >= 0.75
    assert data["labels"][CHEMICAL]["strict"]["f1"] >= 0.75
    assert data["gene_normalisation"]["human_accuracy"] >= 0.85
