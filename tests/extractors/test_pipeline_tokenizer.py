"""The pipeline's tokenizer set-up: its caches change speed, never tokens."""

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
