"""sorted_json writes what json.dumps writes for all an Article holds, so stored digests stay valid."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from corpus.article import Article
from corpus.jsonio import (
    article_digest,
    article_from_json,
    article_to_json,
    result_from_json,
    result_to_json,
    sorted_json,
)
from extractors.mentions import GENE, Mention

ARTICLE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF)),  # surrogates and control characters
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), ARTICLE_VALUES, max_size=6))
def test_sorted_json_is_the_json_modules_text(data):
    assert sorted_json(data) == json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_floats_and_odd_keys_round_trip():
    article = Article(pmid="7", title="T\u2028\x1f", extra={"score": 1e-7, "n": 2**80})
    assert article_from_json(article_to_json(article)) == article
    assert article_from_json(article_to_json(article)).extra == article.extra
    assert article_digest(article) == article_digest(Article(pmid="7", title="T\u2028\x1f"))


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=4),
       st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=6))
def test_results_round_trip_whatever_their_scores_and_text(scores, text):
    mentions = tuple(Mention(0, 1, text, GENE, "N", ("HGNC:1",), score=score) for score in scores)
    back, triples = result_from_json(result_to_json(mentions, ()))
    assert triples == ()
    assert [repr(m.score) for m in back] == [repr(score) for score in scores] and back[0].text == text
    assert [m.ids for m in back] == [m.ids for m in mentions]
