"""The pipeline's set-up: its tokenizer caches change speed, never tokens; missing weights are reported."""

from __future__ import annotations

from extractors.pipeline import TOKENIZER_CACHE_CHUNKS, build_pipeline

TEXTS = [
    "PD-L1 expression (e.g. in CD8+ T cells) and/or IL-17-producing cells vs. controls.",
    "Resistance to anti-PD-1 therapy in PI3K/Akt/mTOR-driven melanoma, i.e. in 12.5% of patients.",
]


def test_the_tokenizer_caches_more_chunks_than_spacys_default_and_splits_alike():
    nlp = build_pipeline(relations=False, gene_model=False)
    assert nlp.tokenizer.max_cache_size >= TOKENIZER_CACHE_CHUNKS > 10_000
    first = [[t.text for t in nlp.make_doc(text)] for text in TEXTS]
    again = [[t.text for t in nlp.make_doc(text)] for text in TEXTS]  # now from the cache
    assert first == again
    assert "PD-L1" not in first[0] and "L1" in first[0]


def test_missing_gene_model_weights_are_reported_not_silently_skipped(tmp_path, monkeypatch, caplog):
    import extractors.pipeline

    monkeypatch.setattr(extractors.pipeline, "GENE_MODEL_DIR", tmp_path / "models" / "gene_ner")
    with caplog.at_level("WARNING", logger="extractors.pipeline"):
        nlp = build_pipeline(relations=False)
    assert "resistmine_gene_model" not in nlp.pipe_names
    assert f"no gene model weights at {tmp_path / 'models' / 'gene_ner'}" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="extractors.pipeline"):
        build_pipeline(relations=False, gene_model=False)  # asked for none: nothing to report
    assert "no gene model" not in caplog.text
