"""The trained gene model: tokenizer, corpus conversion, the shipped weights, reproducible training."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
import spacy
from spacy.tokens import Doc

from extractors.gene_model.component import MODEL_DIR, load_tagger
from extractors.gene_model.data import AlignStats, read_iob, read_pubtator, to_doc
from extractors.gene_model.features import GeneLexicon
from extractors.gene_model.predict import candidate_windows
from extractors.gene_model.tokenizer import make_nlp
from extractors.gene_model.train import TrainConfig, score, train

# Sentences of the seed review's abstract (PMID 31205532).
SEED_1 = (
    "This review summarizes related mechanisms of tumor immunotherapy resistance, including MITF "
    "suppression, Ezh2 upregulation, TIM-3 upregulation, microRNA-driven deregulation of cytokine "
    "expression and et al."
)
SEED_2 = (
    "Genetic mutations such as PTEN loss, JAK1/2 loss-of-function mutations and Cbl-b deficiency are "
    "also involved."
)


def test_tokenizer_splits_gene_boundaries_inside_compounds():
    nlp = make_nlp()
    text = "IL-17-producing cells, PI3K/Akt/mTOR, CD4(+) T cells and anti-PD-1 therapy"
    doc = nlp.make_doc(text)
    for gene in ("IL-17", "PI3K", "Akt", "mTOR", "CD4", "PD-1"):
        start = text.index(gene)
        assert doc.char_span(start, start + len(gene)) is not None, gene


def test_pubtator_reader_keeps_gene_types_and_offsets(tmp_path):
    path = tmp_path / "x.PubTator"
    path.write_text(
        "10491763|t|Hepatocyte nuclear factor-6: associations with type II diabetes.\n"
        "10491763|a|The HNF-6 gene.\n"
        "10491763\t0\t27\tHepatocyte nuclear factor-6\tGeneOrGeneProduct\t3175\n"
        "10491763\t47\t63\ttype II diabetes\tDiseaseOrPhenotypicFeature\tD003924\n"
        "10491763\t69\t74\tHNF-6\tGeneOrGeneProduct\t3175\n"
        "10491763\tAssociation\tD003924\t3175\tNo\n\n",
        encoding="utf-8",
    )
    (gold,) = read_pubtator(path)
    assert gold.doc_id == "10491763"
    assert [gold.text[s:e] for s, e in gold.spans] == ["Hepatocyte nuclear factor-6", "HNF-6"]
    doc = to_doc(make_nlp(), gold)
    assert [e.text for e in doc.ents] == ["Hepatocyte nuclear factor-6", "HNF-6"]


def test_iob_reader_rebuilds_sentences_and_spans(tmp_path):
    path = tmp_path / "x.tsv"
    lines = "The\tO\nhuman\tO\ninsulin\tB-GENE\nreceptor\tI-GENE\n.\tO\n\nRas\tB-GENE\n"
    path.write_text(lines, encoding="utf-8")
    first, second = read_iob(path)
    assert first.text == "The human insulin receptor ."
    assert [first.text[s:e] for s, e in first.spans] == ["insulin receptor"]
    assert [second.text[s:e] for s, e in second.spans] == ["Ras"]


def test_converter_aligns_at_least_97_percent_of_biored_train_spans(shared_dir):
    nlp = make_nlp()
    stats = AlignStats()
    for gold in read_pubtator(shared_dir / "data" / "biored" / "Train.PubTator"):
        to_doc(nlp, gold, stats)
    assert stats.spans > 4000
    assert stats.rate >= 0.97, stats.misaligned[:10]


def test_candidate_windows_cover_gene_like_tokens_only():
    lexicon = GeneLexicon.from_entries(["PTEN"], ["glucagon"])
    words = "we saw that the level of PTEN was low in all of these many patients today".split()
    (window,) = candidate_windows(words, lexicon, window=2)
    assert words[window.start : window.end] == "level of PTEN was low".split()
    assert len(candidate_windows(words, lexicon, window=None)) == 1
    assert candidate_windows("nothing here at all".split(), lexicon, window=2) == []


def test_score_counts_strict_and_lenient_matches():
    s = score([[(0, 4), (10, 15)]], [[(0, 4), (10, 13), (20, 22)]])
    assert (s.strict_p, s.strict_r) == (round(1 / 3, 4), 0.5)
    assert (s.lenient_p, s.lenient_r) == (round(2 / 3, 4), 1.0)


def test_shipped_model_finds_the_seed_review_genes():
    assert (MODEL_DIR / "config.cfg").is_file(), "weights missing: run `resistmine train gene-ner`"
    assert (MODEL_DIR / "MODEL_CARD.md").is_file()
    tagger = load_tagger()
    spans_1, spans_2 = tagger.predict([SEED_1, SEED_2])
    found = {SEED_1[s:e] for s, e in spans_1} | {SEED_2[s:e] for s, e in spans_2}
    for gene in ("MITF", "Ezh2", "TIM-3", "PTEN"):
        assert gene in found, (gene, found)
    # The tagger head (2026-11-25) reads "Cbl-b" as "Cbl"; the pipeline's lexicon span "Cbl-b" -> CBLB wins.
    assert found & {"Cbl-b", "Cbl"}, found
    assert any(g.startswith("JAK1") for g in found), found
    assert not found & {"tumor", "review", "mutations", "cytokine"}


def test_component_appends_model_mentions_with_valid_offsets():
    import extractors.gene_model  # noqa: F401  registers the factory

    nlp = spacy.blank("en")
    nlp.add_pipe("resistmine_gene_model")
    docs = list(nlp.pipe([SEED_2, "No genes are named in this sentence."]))
    mentions = docs[0]._.mentions
    assert mentions and all(m.label == "GENE" and m.source == "model" for m in mentions)
    for m in mentions:
        assert SEED_2[m.start : m.end] == m.text == m.norm
    assert "PTEN" in {m.text for m in mentions}
    assert not docs[1]._.mentions
    assert Doc.has_extension("mentions")


@pytest.mark.slow
def test_tiny_training_run_is_reproducible_with_the_same_seed(tmp_path, shared_dir):
    shared = shared_dir
    config = TrainConfig(seed=3, max_docs=12, max_steps=4, eval_every=1000, width=32, depth=1,
                         hidden_width=16, embed_rows=(500, 100, 200, 200, 10))
    runs = []
    for name in ("a", "b"):
        result = train(shared, tmp_path / name, config, log=lambda line: None)
        runs.append(result)
    assert runs[0]["training"]["steps"] == 4
    assert runs[0]["training"]["history"] == runs[1]["training"]["history"]
    weights = [(tmp_path / name / "tagger" / "model").read_bytes() for name in ("a", "b")]
    assert weights[0] == weights[1]
    train(shared, tmp_path / "c", replace(config, seed=4), log=lambda line: None)
    assert (tmp_path / "c" / "tagger" / "model").read_bytes() != weights[0]
    # The transition-based head, the model shipped before, still trains.
    result = train(shared, tmp_path / "p", replace(config, head="parser"), log=lambda line: None)
    assert result["training"]["steps"] == 4 and (tmp_path / "p" / "ner" / "model").is_file()


@pytest.mark.slow
def test_train_command_prints_one_json_object_with_dev_figures(tmp_path, shared_dir, capsys):
    from pipeline.cli import main

    code = main(["train", "gene-ner", "--max-minutes", "0.05", "--shared", str(shared_dir),
                 "--model-dir", str(tmp_path / "m"), "--json", "--tag-scheme", "BIO", "--width", "24",
                 "--depth", "1", "--encoder-window", "2"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    config = result["config"]
    assert (config["head"], config["tag_scheme"], config["width"]) == ("tagger", "BIO", 24)
    assert (config["depth"], config["encoder_window"]) == (1, 2)
    assert result["alignment"]["rate"] >= 0.97
    assert result["data"]["dev_pmids_excluded"] == 100
    for row in result["dev"].values():
        assert row["abstracts"] == 100 and 0.0 <= row["strict_f"] <= row["lenient_f"] <= 1.0
    assert (tmp_path / "m" / "cue_words.txt").is_file()


def test_train_command_names_a_missing_corpus(tmp_path, capsys):
    from pipeline.cli import main

    code = main(["train", "gene-ner", "--shared", str(tmp_path), "--model-dir", str(tmp_path / "m")])
    assert code == 2
    assert "training corpus not found" in capsys.readouterr().err


def test_training_data_never_contains_biored_dev(shared_dir):
    from extractors.gene_model.train import load_data

    dev_ids = {g.doc_id for g in read_pubtator(shared_dir / "data" / "biored" / "Dev.PubTator")}
    data = load_data(shared_dir, TrainConfig())
    assert data.train and data.holdout
    assert not dev_ids & {g.doc_id for g in data.train + data.holdout}
    assert not {g.doc_id for g in data.holdout} & {g.doc_id for g in data.train}
    assert data.counts["generic_families_dropped"] > 0


def test_component_records_where_the_model_read_the_text():
    import extractors.gene_model  # noqa: F401  registers the factory
    from extractors.ner.components import MODEL_SEEN_KEY

    tagger = load_tagger()
    ((spans, seen),) = tagger.predict_with_coverage([SEED_2])
    assert spans == tagger.predict([SEED_2])[0]
    assert seen and all(any(a <= s and e <= b for a, b in seen) for s, e in spans)
    nlp = spacy.blank("en")
    nlp.add_pipe("resistmine_gene_model")
    doc = nlp(SEED_2)
    assert doc.user_data[MODEL_SEEN_KEY] == seen


def test_same_tokenization_tells_the_model_rules_from_others():
    from extractors.gene_model.tokenizer import same_tokenization

    assert same_tokenization(make_nlp().tokenizer, make_nlp().tokenizer)
    assert not same_tokenization(make_nlp().tokenizer, spacy.blank("en").tokenizer)
    assert not same_tokenization(make_nlp().tokenizer, object())


@pytest.mark.parametrize("tokenizer, shared", [("gene", True), ("scispacy", False)])
def test_pipeline_reads_its_own_tokens_only_when_they_are_the_models(tokenizer, shared):
    """Sharing tokens is a speed-up only: the spans are those the model finds tokenizing the text itself."""
    from extractors.pipeline import build_pipeline

    nlp = build_pipeline(relations=False, tokenizer=tokenizer)
    component = nlp.get_pipe("resistmine_gene_model")
    assert component.shared_tokens is shared
    assert (component.tagger.nlp.vocab is nlp.vocab) is shared
    texts = [SEED_2, "IL-17-producing CD4(+) T cells and PI3K/Akt/mTOR in anti-PD-1 resistant tumours.", ""]
    docs = [nlp.make_doc(text) for text in texts]
    expected = load_tagger().predict_with_coverage(texts)
    assert component.tagger.predict_docs_with_coverage(docs) == expected
    assert expected[0][0] and expected[1][0]


def test_non_candidates_are_gene_like_tokens_never_inside_a_gene():
    from extractors.gene_model.data import GoldText
    from extractors.gene_model.train import learn_non_candidates

    lexicon = GeneLexicon.from_entries(["PTEN", "CI"])
    text = "PTEN loss in NSCLC (95% CI) raised mRNA levels."
    golds = [GoldText(str(i), text, ((0, 4),)) for i in range(5)]
    learned = learn_non_candidates(make_nlp(), golds + golds, lexicon, min_count=5)
    assert learned == {"NSCLC", "mRNA"}  # PTEN is a gene; CI is an HGNC symbol; duplicates count once
    assert learn_non_candidates(make_nlp(), golds[:4], lexicon, min_count=5) == set()
    gated = load_tagger().lexicon
    assert gated.non_candidates and not gated.non_candidates & gated.symbols
    assert not gated.is_candidate(sorted(gated.non_candidates)[0]) and gated.is_candidate("PTEN")


def test_matmul_ops_multiply_as_thincs_own_and_are_restored_after_the_block():
    import numpy
    from thinc.api import Linear, NumpyOps

    from extractors.gene_model.head import MatmulOps, matmul_ops

    rng = numpy.random.default_rng(0)
    x, y = rng.random((7, 5), dtype="f"), rng.random((5, 3), dtype="f")
    ours, theirs = MatmulOps(), NumpyOps()
    for a, b, t1, t2 in ((x, y, False, False), (x.T.copy(), y, True, False), (x, y.T.copy(), False, True)):
        numpy.testing.assert_allclose(ours.gemm(a, b, trans1=t1, trans2=t2),
                                      theirs.gemm(a, b, trans1=t1, trans2=t2), rtol=1e-6)
    out = numpy.zeros((7, 3), dtype="f")
    assert ours.gemm(x, y, out=out) is out and numpy.allclose(out, x @ y)
    layer = Linear(3, 5).initialize()
    before = layer.ops
    with matmul_ops(layer):
        assert isinstance(layer.ops, MatmulOps)
        layer.predict(x)
    assert layer.ops is before


@pytest.mark.slow
def test_a_built_wheel_carries_the_gene_model_and_the_pipeline_finds_it(tmp_path):
    """models/ sits beside the packages; a wheel must carry the weights, or an installed resistmine
    silently loses the tagger (BioRED dev F1 0.83 -> 0.78)."""
    import shutil
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    source = tmp_path / "src"
    skipped = (".git", ".venv", "build", "*.egg-info", "__pycache__", "*.so", "store", ".prefect", "tests",
               ".*_cache")
    shutil.copytree(repo, source, ignore=shutil.ignore_patterns(*skipped))
    pip_wheel = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q"]
    built = subprocess.run([*pip_wheel, "-w", str(tmp_path / "dist")], capture_output=True, text=True,
                           cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("resistmine-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    weights = {str(path.relative_to(repo)) for path in (repo / "models").rglob("*") if path.is_file()}
    assert {f"extractors/{name}" for name in weights} <= names
    probe = ("from extractors.gene_model.component import MODEL_DIR, load_tagger; print(MODEL_DIR); "
             "print(load_tagger().predict(['Loss of PTEN confers resistance to anti-PD-1 therapy.']))")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert ran.returncode == 0, ran.stderr[-2000:]
    model_dir, spans = ran.stdout.splitlines()
    assert Path(model_dir) == tmp_path / "site" / "extractors" / "models" / "gene_ner"
    assert "(8, 12)" in spans  # PTEN, found by the model the wheel carries
