"""``resistmine evaluate triples``: gold reading, scoring, error listing, and a run on the dev gold set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from conftest import REPO, shared_path

from corpus.errors import InputError
from extractors.evaluation.triples import GoldSet, GoldTriple, load_articles, read_gold, run, score
from extractors.triples import Triple

GOLD = REPO / "tests" / "extractors" / "gold"
HEADER = (
    "pmid\tsource\tgene\tgene_text\tgene_start\tgene_end\tmechanism\tmechanism_text\teffect\ttherapy\t"
    "therapy_class\tnegated\thedged\n"
)


def _triple(
    pmid: str,
    gene: str,
    mechanism: str,
    effect: str,
    therapy_class: str = "chemotherapy",
    negated: bool = False,
) -> Triple:
    return Triple(
        pmid,
        0,
        gene,
        "",
        gene,
        mechanism,
        mechanism,
        effect,
        "x",
        therapy_class,
        "x",
        "sentence",
        "",
        negated,
        False,
        "evidence sentence",
        0,
        17,
        0,
        1,
        0,
        1,
        0,
        1,
        0.9,
        "test",
    )


def test_read_gold_keeps_abstracts_without_triples(tmp_path: Path):
    path = tmp_path / "gold.tsv"
    path.write_text(
        HEADER + "1\ta.PubTator\tPTEN\tPTEN\t0\t4\tloss\tloss\tresistance\tICB\timmune checkpoint "
        "blockade\tfalse\ttrue\n2\ta.PubTator\t\t\t\t\t\t\t\t\t\t\t\n",
        encoding="utf-8",
    )
    gold = read_gold(path)
    assert gold.sources == {"1": "a.PubTator", "2": "a.PubTator"}
    [triple] = gold.triples
    assert (triple.key, triple.hedged, triple.negated) == (("1", "PTEN", "loss", "resistance"), True, False)


@pytest.mark.parametrize(
    "row",
    [
        "x\t\tPTEN\t\t\t\tloss\t\tresistance\t\t\t\t\n",
        "1\t\tPTEN\t\t\t\tvanished\t\tresistance\t\t\t\t\n",
        "1\t\tPTEN\t\tfour\t\tloss\t\tresistance\t\t\t\t\n",
    ],
)
def test_read_gold_names_bad_rows(tmp_path: Path, row: str):
    path = tmp_path / "gold.tsv"
    path.write_text(HEADER + row, encoding="utf-8")
    with pytest.raises(InputError, match="gold.tsv"):
        read_gold(path)


def test_read_gold_missing_file_and_columns(tmp_path: Path):
    with pytest.raises(InputError, match="cannot read"):
        read_gold(tmp_path / "absent.tsv")
    path = tmp_path / "gold.tsv"
    path.write_text("pmid\tgene\n1\tPTEN\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks columns: mechanism, effect"):
        read_gold(path)


def test_score_counts_statements_full_triples_and_lists_errors():
    gold = GoldSet(
        Path("g.tsv"),
        {"1": "", "2": ""},
        [
            GoldTriple("1", "PTEN", "loss", "resistance", therapy_class="chemotherapy", negated=True),
            GoldTriple("1", "EGFR", "mutation", "resistance", therapy_class="targeted therapy"),
            GoldTriple("2", "MET", "amplification", "sensitivity", therapy_class="targeted therapy"),
        ],
    )
    predicted = [
        _triple("1", "PTEN", "loss", "resistance", "chemotherapy", negated=True),  # right, full too
        _triple("1", "EGFR", "mutation", "resistance", "chemotherapy"),  # right statement, wrong class
        _triple("2", "BRAF", "mutation", "resistance"),  # false positive
        _triple("3", "KRAS", "mutation", "resistance"),  # not a gold abstract: ignored
    ]
    report = score(gold, predicted)
    assert report["statement"] == {
        "tp": 2,
        "fp": 1,
        "fn": 1,
        "precision": 0.6667,
        "recall": 0.6667,
        "f1": 0.6667,
    }
    # full level: EGFR with the wrong class and BRAF are false; EGFR and MET are missed
    assert (report["full"]["tp"], report["full"]["fp"], report["full"]["fn"]) == (1, 2, 2)
    assert report["flags"] == {"matched": 2, "negated_agree": 2, "hedged_agree": 2}
    kinds = {(e["error"], e["gene"]) for e in report["errors"]}
    assert kinds == {("false_positive", "BRAF"), ("false_negative", "MET")}


@pytest.mark.parametrize("name", ["triples_dev.tsv", "triples_test.tsv"])
def test_gold_sets_point_at_real_texts(name: str):
    """Every gold offset holds its gene text in the shared corpus; both halves have >= 20 abstracts."""
    data = shared_path("data")
    gold = read_gold(GOLD / name)
    articles = load_articles(gold, data)
    assert len(articles) == len(gold.sources) >= 20
    assert sum(1 for t in gold.triples if t.gene_start is not None) == len(gold.triples) > 20


def test_blind_medline_set_points_at_parsed_articles():
    """The second blind set reads its texts through the PubMed XML parser (offsets into Article.text)."""
    data = shared_path("data")
    gold = read_gold(GOLD / "triples_test2.tsv")
    assert len(load_articles(gold, data)) == len(gold.sources) == 7
    assert len(gold.triples) == 12


def test_dev_and_test_halves_do_not_overlap():
    dev, test = read_gold(GOLD / "triples_dev.tsv"), read_gold(GOLD / "triples_test.tsv")
    assert not set(dev.sources) & set(test.sources)
    assert len(dev.sources) + len(test.sources) >= 40


def test_load_articles_rejects_offsets_that_miss(tmp_path: Path):
    data = shared_path("data")
    path = tmp_path / "gold.tsv"
    path.write_text(
        HEADER + "10639512\tgnormplus/GNormPlus_Train.PubTator\tBCAR1\tBCAR1\t1\t6\toverexpression\t"
        "x\tresistance\t\t\tfalse\tfalse\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="do not hold 'BCAR1'"):
        load_articles(read_gold(path), data)


@pytest.mark.slow
def test_run_on_the_dev_gold_prints_one_json_object(capsys):
    shared_path("data")
    args = argparse.Namespace(
        gold=str(GOLD / "triples_dev.tsv"), json=True, data=None, model=None, store=None
    )
    assert run(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["abstracts"] == 22
    # the targets of issue 4 on the half the rules were tuned on (measured 0.84 / 0.875)
    assert report["statement"]["precision"] >= 0.8 and report["statement"]["recall"] >= 0.7
