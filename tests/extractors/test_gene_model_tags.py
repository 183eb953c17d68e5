"""The gene model's tagger head: BILUO/BIO tags, decoding (invalid sequences, window edges), Viterbi,
and the cached-vector runner against spaCy's own ``Tagger.pipe``."""

from __future__ import annotations

import itertools
import random

import numpy
import pytest
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed

from extractors.gene_model.data import AlignStats, GoldText
from extractors.gene_model.features import GeneLexicon
from extractors.gene_model.predict import GeneTagger
from extractors.gene_model.tags import (
    CODES,
    codes_of,
    decode,
    decode_codes,
    encode,
    tag_names,
    viterbi_codes,
)
from extractors.gene_model.tags import _transitions as transitions
from extractors.gene_model.train import TrainConfig, _example, build_pipeline


def _tags(letters: str) -> list[str]:
    return [letter if letter == "O" else f"{letter}-GENE" for letter in letters.split()]


@pytest.mark.parametrize("scheme", ["BILUO", "BIO"])
def test_encode_then_decode_gives_the_spans_back(scheme):
    spans = [(0, 1), (2, 5), (5, 6), (7, 9)]
    tags = encode(10, spans, scheme, "GENE")
    assert set(tags) <= set(tag_names(scheme, "GENE"))
    assert decode(tags) == spans


def test_encode_writes_biluo_and_bio_tags():
    assert encode(4, [(0, 1), (1, 4)], "BILUO", "GENE") == _tags("U B I L")
    assert encode(4, [(0, 1), (1, 4)], "BIO", "GENE") == _tags("B B I I")
    with pytest.raises(ValueError):
        encode(1, [], "IOB2", "GENE")


@pytest.mark.parametrize(
    ("letters", "spans"),
    [
        ("O I I O", [(1, 3)]),  # I without B: the span starts at the first tagged token
        ("B O", [(0, 1)]),  # B without L: closed where the tags stop
        ("B B L", [(0, 1), (1, 3)]),  # a B opens a new span
        ("L O U", [(0, 1), (2, 3)]),  # L alone is a one-token span
        ("U I L", [(0, 1), (1, 3)]),  # U closes its span
        ("B L I", [(0, 2), (2, 3)]),  # L closes, the stray I starts another
        ("B I", [(0, 2)]),  # still open at the end of the sequence
        ("O O", []),
    ],
)
def test_decode_repairs_invalid_sequences_without_dropping_tagged_tokens(letters, spans):
    assert decode(_tags(letters)) == spans


def test_decode_never_joins_spans_across_window_edges():
    # Two windows of 3 and 2 tokens: "O B I" | "I L". The second window's span starts at its edge.
    codes = codes_of(_tags("O B I I L"))
    assert decode_codes(codes, [3, 2]) == [(1, 3), (3, 5)]
    # A span at the very start and the very end of windows.
    assert decode_codes(codes_of(_tags("U O U U")), [2, 1, 1]) == [(0, 1), (2, 3), (3, 4)]
    assert decode_codes(numpy.zeros(0, dtype="int8"), []) == []


def _brute_force(logprobs: numpy.ndarray, scheme: str) -> tuple[int, ...]:
    allowed, first, last = transitions(scheme)
    letters = [CODES.index(letter) for letter in scheme]
    best, best_score = (), -numpy.inf
    for seq in itertools.product(letters, repeat=len(logprobs)):
        valid = first[seq[0]] and last[seq[-1]] and all(allowed[a, b] for a, b in itertools.pairwise(seq))
        total = sum(logprobs[i, c] for i, c in enumerate(seq))
        if valid and total > best_score:
            best, best_score = seq, total
    return best


@pytest.mark.parametrize("scheme", ["BILUO", "BIO"])
def test_viterbi_finds_the_best_valid_sequence_of_each_window(scheme):
    rng = numpy.random.default_rng(0)
    for _ in range(40):
        lengths = rng.integers(1, 5, size=rng.integers(1, 5)).tolist()
        logprobs = numpy.log(rng.dirichlet(numpy.ones(5), size=sum(lengths))).astype("f")
        got = viterbi_codes(logprobs, lengths, scheme)
        offset = 0
        for n in lengths:
            window = slice(offset, offset + n)
            assert tuple(got[window].tolist()) == _brute_force(logprobs[window], scheme)
            offset += n


def test_viterbi_turns_a_broken_greedy_reading_into_one_span():
    # Greedy: "B O L" (two fragments); the best valid reading is B I L, one span.
    probs = numpy.full((3, 5), 0.01, dtype="f")
    probs[0, CODES.index("B")] = 0.9
    probs[1, CODES.index("O")], probs[1, CODES.index("I")] = 0.5, 0.45
    probs[2, CODES.index("L")] = 0.9
    logprobs = numpy.log(probs)
    assert decode_codes(logprobs.argmax(axis=1), [3]) == [(0, 1), (2, 3)]
    assert decode_codes(viterbi_codes(logprobs, [3], "BILUO"), [3]) == [(0, 3)]


SENTENCES = [
    "Loss of PTEN and JAK1/2 mutations confer resistance to anti-PD-1 therapy .",
    "TIM-3 and Cbl-b are expressed on CD8+ T cells with high Ezh2 levels .",
    "We saw no change in the levels of any of the proteins measured in these patients .",
]


@pytest.mark.parametrize(("scheme", "depth"), [("BILUO", 1), ("BIO", 1), ("BILUO", 2)])
def test_cached_runner_tags_exactly_as_spacy_tagger_pipe_on_window_docs(scheme, depth):
    """The fast path (token vectors kept, windows gathered, the CNN in numpy) against the model run the
    ordinary way."""
    fix_random_seed(0)
    config = TrainConfig(width=16, depth=depth, tag_scheme=scheme, embed_rows=(200, 50, 100, 100, 10))
    nlp = build_pipeline(config)
    lexicon = GeneLexicon.from_entries(["PTEN", "JAK1", "TIM-3", "CBLB", "EZH2"], ["glucagon"])
    golds = []
    for i, text in enumerate(SENTENCES):
        spans = tuple((text.index(g), text.index(g) + len(g)) for g in ("PTEN", "TIM-3", "Ezh2") if g in text)
        golds.append(GoldText(str(i), text, spans))
    examples = [_example(nlp, lexicon, gold, AlignStats(), scheme) for gold in golds]
    nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(40):
        rng.shuffle(examples)
        nlp.update(examples, drop=0.0)
    tagger = GeneTagger(nlp, lexicon, window=2, decoder="greedy")
    assert tagger._runner is not None and tagger._runner._numpy_encoder is not None
    fast = tagger.predict(SENTENCES)
    slow: list[list[tuple[int, int]]] = [[] for _ in SENTENCES]
    parts = list(tagger._subdocs(SENTENCES))
    for (index, starts, ends, _), doc in zip(parts, nlp.get_pipe("tagger").pipe([p[-1] for p in parts]),
                                              strict=True):
        slow[index] += [(int(starts[s]), int(ends[e - 1])) for s, e in decode([t.tag_ for t in doc])]
    assert fast == [sorted(spans) for spans in slow]
    assert any(fast), "the tiny model should tag something"
    # Kept vectors are dropped on reset, and the same tags come back.
    tagger.reset()
    assert tagger.predict(SENTENCES) == fast


def test_numpy_encoder_computes_what_thincs_layers_do_on_the_shipped_model():
    from extractors.gene_model.component import load_tagger
    from extractors.gene_model.head import NumpyEncoder, matmul_ops

    runner = load_tagger()._runner
    assert runner is not None
    encoder = NumpyEncoder.of(runner.encode, runner.softmax)
    assert encoder is not None and len(encoder.layers) == 2
    # token vectors as the embedding gives them, a few windows laid end to end, padding rows among them
    vectors = numpy.random.default_rng(0).normal(size=(300, runner.width)).astype("f")
    vectors[[0, 57, 299]] = 0.0
    with matmul_ops(runner.encode, runner.softmax):
        hidden = runner.encode.predict(vectors)
        expected = runner.softmax.predict(hidden)
    numpy.testing.assert_allclose(encoder.encode(vectors), hidden, rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(encoder.logits(encoder.encode(vectors)), expected, rtol=1e-4, atol=1e-4)


def test_numpy_encoder_declines_layouts_it_does_not_know_and_weights_not_set():
    from spacy.ml.models.tok2vec import MaxoutWindowEncoder
    from thinc.api import Maxout, Softmax_v2, chain, residual

    from extractors.gene_model.head import NumpyEncoder

    softmax = Softmax_v2(5, 8).initialize()
    plain = chain(Maxout(8, 8, nP=3), Maxout(8, 8, nP=3)).initialize()  # no residual, no window
    assert NumpyEncoder.of(plain, softmax) is None
    unnormalised = residual(Maxout(8, 8, nP=3, normalize=False)).initialize()
    assert NumpyEncoder.of(unnormalised, softmax) is None
    # spaCy's encoder, as the tagger's tok2vec holds it inside with_array: only once initialised
    spacys = MaxoutWindowEncoder(width=8, window_size=1, maxout_pieces=3, depth=2)
    assert NumpyEncoder.of(spacys.layers[0], softmax) is None
    spacys.initialize(X=[numpy.zeros((4, 8), dtype="f")])
    encoder = NumpyEncoder.of(spacys.layers[0], softmax)
    assert encoder is not None and [layer[0] for layer in encoder.layers] == [1, 1]


def test_example_carries_the_scheme_tags_of_its_gold_spans():
    nlp = build_pipeline(TrainConfig(width=16, depth=1, embed_rows=(200, 50, 100, 100, 10)))
    text = "TIM-3 and PTEN"
    gold = GoldText("x", text, ((0, 5), (10, 14)))
    example = _example(nlp, GeneLexicon.from_entries(["PTEN"]), gold, AlignStats(), "BILUO")
    assert [t.tag_ for t in example.reference] == _tags("B I L O U")
    assert isinstance(example, Example) and isinstance(example.predicted, Doc)
    assert [t.lemma_ for t in example.predicted][-1] == "GSYM"


def test_unknown_head_and_decoder_are_refused():
    with pytest.raises(ValueError):
        build_pipeline(TrainConfig(head="crf"))
    nlp = build_pipeline(TrainConfig(width=16, depth=1, embed_rows=(200, 50, 100, 100, 10)))
    with pytest.raises(ValueError):
        GeneTagger(nlp, GeneLexicon.from_entries(["PTEN"]), decoder="beam")
