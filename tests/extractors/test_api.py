"""extract_articles: plain-data results, process parallelism, valid offsets on any text, user models."""

from __future__ import annotations

import gc
import multiprocessing
import random
import weakref

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.training import Example

from corpus.article import Article
from corpus.errors import InputError
from extractors.api import (
    EXTRACTOR_VERSION,
    ArticleResult,
    annotate,
    extract_articles,
    fresh_pipeline,
    load_pipeline,
    new_words,
)
from extractors.mentions import GENE, THERAPY
from extractors.pipeline import build_pipeline

ARTICLES = [
    Article(pmid="1", title="PTEN loss and resistance to anti-PD-1 therapy.",
            abstract="Loss of PTEN promoted resistance to nivolumab in melanoma."),
    Article(pmid="2", version=3, title="JAK1/2 mutations", abstract="JAK1/2 loss-of-function mutations."),
    Article(pmid="3", title="Nothing here."),
    Article(pmid="4", title="TIM-3 upregulation after PD-1 blockade.",
            abstract="Tim-3 and Cbl-b in T cells."),
    Article(pmid="5", title="", abstract=""),
]


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline(relations=False, gene_model=False)


def test_one_result_per_article_in_order(nlp):
    results = list(extract_articles(ARTICLES, nlp))
    assert [(r.pmid, r.version) for r in results] == [("1", 1), ("2", 3), ("3", 1), ("4", 1), ("5", 1)]
    assert all(isinstance(r, ArticleResult) and r.extractor_version == EXTRACTOR_VERSION for r in results)
    first = {(m.label, m.norm) for m in results[0].mentions}
    assert {(GENE, "PTEN"), (GENE, "PDCD1"), (THERAPY, "nivolumab")} <= first
    assert results[2].mentions == () and results[4].mentions == ()


def test_triples_carry_the_pmid_of_their_article():
    results = list(extract_articles(ARTICLES[:2], load_pipeline(gene_model=False)))
    triples = [t for r in results for t in r.triples]
    assert triples, "the PTEN and JAK1/2 sentences state resistance mechanisms"
    assert all(t.pmid == r.pmid for r in results for t in r.triples)


@pytest.mark.slow
def test_two_processes_give_the_same_results_as_one(nlp):
    one = list(extract_articles(ARTICLES * 3, nlp, n_process=1))
    two = list(extract_articles(ARTICLES * 3, nlp, n_process=2, batch_size=2))
    assert one == two


@pytest.mark.slow
def test_spawned_workers_build_their_own_pipeline_and_give_the_same_results(nlp, monkeypatch):
    """Where there is no fork (Windows), workers are spawned and the pipeline cannot be pickled to them
    (its automata do not pickle): each builds its own from the arguments that built the caller's."""
    import extractors.api as api

    one = list(extract_articles(ARTICLES * 3, nlp, n_process=1))
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(api.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(api.multiprocessing, "get_context", lambda method=None: spawn)
    assert list(extract_articles(ARTICLES * 3, nlp, n_process=2, batch_size=2)) == one
    with pytest.raises(InputError, match="load_pipeline"):
        list(extract_articles(ARTICLES, build_pipeline(relations=False, gene_model=False), n_process=2))


def test_the_text_keeping_tokenizer_copies_and_pickles(nlp):
    import copy
    import pickle

    for clone in (copy.copy(nlp.tokenizer), pickle.loads(pickle.dumps(nlp.tokenizer))):
        doc = clone("PTEN-null cells.")
        assert [t.text for t in doc] == [t.text for t in nlp.tokenizer("PTEN-null cells.")]


def test_the_extractor_version_follows_the_extractors_code_data_and_weights(tmp_path):
    from extractors.version import extractor_version

    package, model = tmp_path / "extractors", tmp_path / "gene_ner"
    (package / "ner" / "data").mkdir(parents=True)
    (package / "evaluation").mkdir()
    (package / "__pycache__").mkdir()
    model.mkdir()
    (package / "rules.py").write_text("CUE = 'resistance'\n")
    (package / "ner" / "data" / "filters.tsv").write_text("GENE\tcat\tdrop\n")
    (package / "evaluation" / "score.py").write_text("F1 = 1\n")
    (model / "weights").write_bytes(b"\0\1")
    first = extractor_version(package, model)
    assert first.startswith("ner-") and first == extractor_version(package, model)
    # what cannot change the output leaves it alone
    (package / "evaluation" / "score.py").write_text("F1 = 0.5\n")
    (package / "__pycache__" / "rules.cpython-311.pyc").write_bytes(b"\0")
    assert extractor_version(package, model) == first
    # code, data, weights and file names each change it
    for path in (package / "rules.py", package / "ner" / "data" / "filters.tsv", model / "weights"):
        kept = path.read_bytes()
        path.write_bytes(kept + b"\n")
        assert extractor_version(package, model) != first, path.name
        path.write_bytes(kept)
    assert extractor_version(package, model) == first
    (package / "rules.py").rename(package / "cues.py")
    assert extractor_version(package, model) != first
    assert EXTRACTOR_VERSION == extractor_version()  # the shipped tree's, as results are stamped


def test_docs_carry_pmid_mentions_and_sentences(nlp):
    doc = annotate("PTEN was lost. Resistance to ICB followed.", nlp, pmid="9")
    assert doc._.pmid == "9"
    assert [s.text for s in doc.sents] == ["PTEN was lost.", "Resistance to ICB followed."]
    assert doc._.triples == []
    with_gene, empty = nlp("PTEN"), nlp("x")
    assert [m.norm for m in with_gene._.mentions] == ["PTEN"]
    assert empty._.mentions == []  # each Doc has its own list, never a shared default


def _check(nlp, text: str) -> None:
    doc = annotate(text, nlp)
    for m in doc._.mentions:
        assert 0 <= m.start < m.end <= len(text), m
        assert text[m.start:m.end] == m.text, m


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_random_text_never_crashes_and_offsets_are_valid(nlp, text):
    _check(nlp, text)


def _mutations(seed_text: str, rng: random.Random, n: int = 40) -> list[str]:
    pieces = list(seed_text)
    out = []
    for _ in range(n):
        text = pieces[:]
        for _ in range(rng.randint(1, 30)):
            i = rng.randrange(len(text))
            choice = rng.random()
            if choice < 0.3:
                del text[i]
            elif choice < 0.6:
                text.insert(i, rng.choice("()-/ ,.;γİß\u00a0\n\tPD1"))
            else:
                text[i] = text[i].upper() if rng.random() < 0.5 else text[i].lower()
        out.append("".join(text))
    return out


def test_mutated_seed_text_never_crashes_and_offsets_are_valid(nlp):
    from corpus.bundled import bundled_articles

    seed = next(a for a in bundled_articles() if a.pmid == "31205532")
    for text in _mutations(seed.text, random.Random(7)):
        _check(nlp, text)


def test_unknown_model_is_an_input_error():
    with pytest.raises(InputError, match="no_such_model_xyz"):
        build_pipeline("no_such_model_xyz")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A spaCy NER model trained in seconds to tag two made-up gene names."""
    model = spacy.blank("en")
    ner = model.add_pipe("ner")
    ner.add_label("GENE_OR_GENE_PRODUCT")
    data = [
        ("Expression of QWZ7 was high.", [(14, 18)]),
        ("We knocked down QWZ7 in cells.", [(16, 20)]),
        ("Loss of QWZ7 and PTEN.", [(8, 12)]),
        ("QWZ7 mutations were frequent.", [(0, 4)]),
    ]
    examples = [
        Example.from_dict(model.make_doc(t), {"entities": [(s, e, "GENE_OR_GENE_PRODUCT") for s, e in spans]})
        for t, spans in data
    ]
    model.initialize(lambda: examples)
    for _ in range(30):
        model.update(examples, drop=0.0)
    path = tmp_path_factory.mktemp("model") / "tiny_ner"
    model.to_disk(path)
    return str(path)


def test_a_user_model_runs_first_and_its_entities_become_candidates(tiny_model):
    nlp = build_pipeline(tiny_model, relations=False, gene_model=False)
    assert nlp.pipe_names[0] == "ner" and nlp.pipe_names.index("resistmine_model_entities") == 1
    mentions = annotate("Expression of QWZ7 was high.", nlp)._.mentions
    model_genes = [(m.text, m.source) for m in mentions if m.label == GENE]
    assert ("QWZ7", "model") in model_genes


def test_batched_components_give_what_one_doc_at_a_time_gives():
    """Components run batch by batch in ``nlp.pipe`` (cache locality); results must not depend on batching."""
    nlp = load_pipeline(gene_model=False)
    articles = [a for a in ARTICLES if a.text] * 3
    for batch_size in (1, 2, 64):
        batched = list(extract_articles(articles, nlp, batch_size=batch_size))
        single = [annotate(a.text, nlp, pmid=a.pmid) for a in articles]
        assert [r.mentions for r in batched] == [tuple(doc._.mentions) for doc in single]
        assert [r.triples for r in batched] == [tuple(doc._.triples) for doc in single]
    assert any(r.triples for r in batched)


def test_a_pipeline_past_its_word_budget_is_rebuilt_freed_and_mines_the_same():
    nlp = fresh_pipeline()
    before = list(extract_articles(ARTICLES, nlp))
    assert new_words(nlp) > 0
    assert fresh_pipeline(max_new_words=new_words(nlp)) is nlp  # within budget: the cached one
    old = weakref.ref(nlp)
    del nlp
    rebuilt = fresh_pipeline(max_new_words=0)
    gc.collect()
    assert old() is None, "the outgrown pipeline is still referenced, so its memory is never freed"
    assert new_words(rebuilt) == 0
    assert list(extract_articles(ARTICLES, rebuilt)) == before
    assert load_pipeline() is rebuilt
