"""Run a trained tagger head (``spacy.Tagger.v2`` over ``spacy.Tok2Vec.v2``) on token windows, cheaply.

The model's embedding layer (hash embeddings of NORM, PREFIX, SUFFIX, SHAPE and the lexicon flag,
mixed by a Maxout) sees one token at a time, and every one of those features is a function of the
token's text. So each distinct token is embedded once and its vector kept; a window is then a row
gather, one CNN pass over all windows of a batch (laid out exactly as thinc's ``with_array`` pads
them) and an arg-max. Same tags as ``Tagger.pipe`` over the same window docs, without building
them.

The CNN and the softmax are then run by ``NumpyEncoder``: the same arithmetic as thinc's layers without
what only training needs (the arg-max maxout keeps for backprop, dropout, per-call BLAS thread limits).
On 3,500 tokens it takes half thinc's time (7.5 vs 15 ms), and gave the same tags on 1,120 abstracts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy
from spacy.attrs import LEMMA
from spacy.pipeline import Tagger
from spacy.tokens import Doc
from spacy.vocab import Vocab
from thinc.api import Model, NumpyOps
from thinc.layers.chain import forward as chain_forward
from thinc.layers.residual import forward as residual_forward
from thinc.layers.softmax import forward as softmax_forward
from threadpoolctl import ThreadpoolController

from extractors.gene_model.tags import CODES

# Distinct tokens whose vectors are kept; past this the table starts afresh (bounded memory).
MAX_ROWS = 200_000


class MatmulOps(NumpyOps):
    """thinc's numpy ops with ``gemm`` by ``numpy.matmul`` (OpenBLAS) on one thread: for the CNN's shapes
    (thousands of tokens × 240 → 144) it takes ~30 % less CPU than thinc's own BLIS kernel, and gave the
    same tags on 1,126 abstracts. One thread, as processes are the parallelism of a mining run."""

    _blas = ThreadpoolController()

    def gemm(self, x, y, out=None, trans1=False, trans2=False):  # noqa: ANN001, ANN201 - thinc's signature
        with self._blas.limit(limits=1, user_api="blas"):
            return numpy.matmul(x.T if trans1 else x, y.T if trans2 else y, out=out)


_MATMUL_OPS = MatmulOps()


@contextmanager
def matmul_ops(*models: Model) -> Iterator[None]:
    """Run ``models`` with ``MatmulOps`` for the block: the layers are the trained pipe's own, and
    training must keep its ops."""
    layers = [layer for model in models for layer in model.walk()]
    kept = [layer.ops for layer in layers]
    for layer in layers:
        layer.ops = _MATMUL_OPS
    try:
        yield
    finally:
        for layer, ops in zip(layers, kept, strict=True):
            layer.ops = ops


def supports(pipe: object) -> bool:
    """Is ``pipe`` a tagger whose model has the layout this runner reads?"""
    if not isinstance(pipe, Tagger):
        return False
    model = pipe.model
    if not (model.has_ref("tok2vec") and model.has_ref("softmax")):
        return False
    tok2vec = model.get_ref("tok2vec")
    if not (tok2vec.has_ref("embed") and tok2vec.has_ref("encode")):
        return False
    embed, encode = tok2vec.get_ref("embed"), tok2vec.get_ref("encode")
    return (
        embed.layers[0].name == "extract_features"
        and encode.name.startswith("with_array")
        and len(model.layers) == 2
        and model.layers[0] is tok2vec
    )


# One residual block of spaCy's MaxoutWindowEncoder, as its layers run.
CNN_LAYER = ["expand_window", "maxout", "layernorm", "dropout"]


def _leaves(model: Model) -> list[Model]:
    """The layers without sublayers, in the order they run (``Model.walk`` is breadth-first)."""
    return [leaf for layer in model.layers for leaf in _leaves(layer)] if model.layers else [model]


class NumpyEncoder:
    """The encoder (``residual(expand_window >> maxout >> layernorm >> dropout)`` × depth) and the
    softmax as plain numpy on the trained weights. ``of`` gives None for any other layout.

    Maxout's weight rows are put piece-major once, so a token's pieces are three contiguous slices and
    the maximum is two ``numpy.maximum`` calls."""

    def __init__(self, layers: list[tuple[int, numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]],
                 softmax_W: numpy.ndarray, softmax_b: numpy.ndarray) -> None:
        self.layers = layers
        self.softmax_W, self.softmax_b = softmax_W, softmax_b

    @classmethod
    def of(cls, encode: Model, softmax: Model) -> NumpyEncoder | None:
        if encode._func not in (residual_forward, chain_forward) or softmax._func is not softmax_forward:
            return None
        blocks = [encode] if encode._func is residual_forward else encode.layers
        layers = []
        for block in blocks:
            leaves = _leaves(block)
            if block._func is not residual_forward or [leaf.name for leaf in leaves] != CNN_LAYER:
                return None
            window, maxout, norm, _ = leaves
            if not all(layer.has_param(name) for layer, name in ((maxout, "W"), (maxout, "b"), (norm, "G"))):
                return None  # not initialised yet
            n_out, pieces, n_in = (maxout.get_dim(dim) for dim in ("nO", "nP", "nI"))
            weights = maxout.get_param("W").transpose(1, 0, 2).reshape(pieces * n_out, n_in)
            bias = maxout.get_param("b").transpose(1, 0).reshape(pieces * n_out)
            layers.append((int(window.attrs["window_size"]), numpy.ascontiguousarray(weights.T), bias,
                           norm.get_param("G"), norm.get_param("b")))
        if not softmax.has_param("W"):
            return None
        # spaCy's tagger scores by the unnormalised outputs; a normalising softmax divides by its temperature
        scale = 1.0 / softmax.attrs["softmax_temperature"] if softmax.attrs.get("softmax_normalize") else 1.0
        return cls(layers, numpy.ascontiguousarray(softmax.get_param("W").T) * scale,
                   softmax.get_param("b") * scale)

    def encode(self, X: numpy.ndarray) -> numpy.ndarray:
        """The encoder's output for the rows of ``X`` (token vectors, the windows laid end to end)."""
        seq2col = _MATMUL_OPS.seq2col
        with MatmulOps._blas.limit(limits=1, user_api="blas"):
            for window, weights, bias, gain, shift in self.layers:
                hidden = seq2col(X, window) @ weights
                hidden += bias
                width = gain.shape[0]
                best = numpy.maximum(hidden[:, :width], hidden[:, width:2 * width])
                for piece in range(2, hidden.shape[1] // width):
                    numpy.maximum(best, hidden[:, piece * width:(piece + 1) * width], out=best)
                # layer norm; the row means as a product with a column of 1/width (a tenth of ``mean``'s time)
                average = numpy.full((width, 1), 1.0 / width, dtype=best.dtype)
                best -= best @ average
                scale = numpy.square(best) @ average
                scale += 1e-08
                best *= scale ** -0.5
                best *= gain
                best += shift
                X = X + best
        return X

    def logits(self, hidden: numpy.ndarray) -> numpy.ndarray:
        """The softmax layer's scores of encoded rows, before normalising."""
        with MatmulOps._blas.limit(limits=1, user_api="blas"):
            return hidden @ self.softmax_W + self.softmax_b


class TaggerRunner:
    """Per-token tag log-probabilities of token windows given by their ORTH ids."""

    def __init__(self, pipe: Tagger, vocab: Vocab, flag_of: Callable[[str], int], max_rows: int = MAX_ROWS):
        if not supports(pipe):
            raise ValueError("not a spacy.Tagger.v2 over a spacy.Tok2Vec.v2 embed/encode model")
        tok2vec = pipe.model.get_ref("tok2vec")
        self.embed = tok2vec.get_ref("embed")
        encode = tok2vec.get_ref("encode")
        self.encode = encode.layers[0]
        self.pad = int(encode.attrs.get("pad", 0))
        self.softmax = pipe.model.get_ref("softmax")
        self.codes = numpy.array([CODES.index(label[0]) for label in pipe.labels], dtype="int64")
        self.scheme = "BILUO" if any(label[0] in "LU" for label in pipe.labels) else "BIO"
        self.vocab = vocab
        self.flag_of = flag_of
        self.max_rows = max_rows
        self.width = tok2vec.get_dim("nO")
        self.reset()

    def reset(self) -> None:
        """Forget the kept token vectors and the encoder's copied weights (stale once the weights change)."""
        self._clear_vectors()
        self._numpy_encoder = NumpyEncoder.of(self.encode, self.softmax)

    def _clear_vectors(self) -> None:
        self._rows: dict[int, int] = {}
        self._table = numpy.zeros((1024, self.width), dtype="f")  # row 0: the zero padding row

    def _embed(self, orths: list[int]) -> numpy.ndarray:
        """Context-free vectors of these tokens, computed as in training (a Doc of the words + flags)."""
        strings = self.vocab.strings
        words = [strings[orth] for orth in orths]
        doc = Doc(self.vocab, words=words)
        flags = numpy.fromiter(map(self.flag_of, words), dtype="uint64", count=len(words)).reshape(-1, 1)
        doc.from_array([LEMMA], flags)
        with matmul_ops(self.embed):
            return self.embed.predict([doc])[0]

    def rows_of(self, orths: numpy.ndarray) -> numpy.ndarray:
        """Table rows of these tokens' vectors, embedding the ones not seen yet."""
        unique, inverse = numpy.unique(orths, return_inverse=True)
        keys = unique.tolist()
        if len(self._rows) + len(keys) >= self.max_rows:
            self._clear_vectors()
        rows = self._rows
        missing = [orth for orth in keys if orth not in rows]
        if missing:
            first = len(rows) + 1
            needed = first + len(missing)
            if needed > len(self._table):
                grown = numpy.zeros((max(needed, 2 * len(self._table)), self.width), dtype="f")
                grown[: len(self._table)] = self._table
                self._table = grown
            self._table[first:needed] = self._embed(missing)
            rows.update(zip(missing, range(first, needed), strict=True))
        return numpy.array([rows[orth] for orth in keys], dtype="int64")[inverse]

    def logprobs(self, windows: Sequence[numpy.ndarray]) -> numpy.ndarray:
        """Log-probabilities of the concatenated windows' tokens (each window a non-empty array of
        ORTH ids), one column per tag code (``O``, ``B``, ``I``, ``L``, ``U``; -inf for unused codes)."""
        out = numpy.full((sum(len(w) for w in windows), len(CODES)), -numpy.inf, dtype="f")
        if not windows:
            return out
        lengths = numpy.array([len(w) for w in windows], dtype="int64")
        rows = self.rows_of(numpy.concatenate(windows))
        # thinc's with_array(pad=p) layout: p zero rows, window 1, p zero rows, window 2, ..., p zero rows.
        pads_before = numpy.repeat(numpy.arange(1, len(windows) + 1), lengths)
        positions = numpy.arange(len(rows)) + self.pad * pads_before
        gather = numpy.zeros(len(rows) + self.pad * (len(windows) + 1), dtype="int64")
        gather[positions] = rows
        if self._numpy_encoder is not None:
            logits = self._numpy_encoder.logits(self._numpy_encoder.encode(self._table[gather])[positions])
        else:
            with matmul_ops(self.encode, self.softmax):
                hidden = self.encode.predict(self._table[gather])
                logits = self.softmax.predict(hidden[positions])
            if self.softmax.attrs.get("softmax_normalize"):
                logits = numpy.log(numpy.maximum(logits, 1e-30))
        shifted = logits - logits.max(axis=1, keepdims=True)
        out[:, self.codes] = shifted - numpy.log(numpy.exp(shifted).sum(axis=1, keepdims=True))
        return out
