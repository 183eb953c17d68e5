"""Run the gene model over texts, only where a cheap pass finds gene-like tokens.

The model's receptive field is a few tokens (a CNN of depth 2 with window 2 under a per-token tagger
head; the older transition-based NER head adds its state features), so it is run on windows of
``window`` tokens either side of each candidate token rather than on whole abstracts; overlapping
windows merge. ``window=None`` runs it on the whole text. The default
(4) was chosen on the held-out slice of BioRED train, in the full NER pipeline with a lexicon tuned
without that slice: strict F1 0.759 (window 4) vs 0.756 (whole texts) vs 0.741 (window 2); narrower
windows cost precision. A tagger head runs through ``head.TaggerRunner`` (no window docs are built)
and its tags are decoded by ``tags``. See ``models/gene_ner/MODEL_CARD.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import spacy
from spacy.attrs import IDX, LEMMA, LENGTH, ORTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from corpus.errors import InputError
from extractors.gene_model.features import FLAGS, GeneLexicon, load_hgnc_lexicon
from extractors.gene_model.head import TaggerRunner, supports
from extractors.gene_model.tags import decode_codes, viterbi_codes

CUE_WORDS_FILE = "cue_words.txt"
NON_CANDIDATES_FILE = "non_candidates.txt"
DEFAULT_WINDOW = 4
# Tagger head: "viterbi" = the best valid tag sequence; "greedy" = each token's best tag, repaired.
DECODERS = ("viterbi", "greedy")
DEFAULT_DECODER = "viterbi"
Offsets = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Window:
    """Token range ``[start, end)`` of text number ``index``."""

    index: int
    start: int
    end: int


def candidate_windows(
    words: Sequence[str], lexicon: GeneLexicon, window: int | None, index: int = 0
) -> list[Window]:
    """Merged token windows around candidate tokens (all tokens when ``window`` is None)."""
    candidates = [i for i, word in enumerate(words) if lexicon.is_candidate(word)]
    return windows_around(candidates, len(words), window, index)


def windows_around(candidates: Sequence[int], n: int, window: int | None, index: int = 0) -> list[Window]:
    """Merged windows of ``window`` tokens either side of each (ascending) candidate position."""
    if window is None:
        return [Window(index, 0, n)] if n else []
    windows: list[Window] = []
    start = end = -1
    for i in candidates:
        lo, hi = max(0, i - window), min(n, i + window + 1)
        if lo <= end:
            end = hi
        else:
            if end > 0:
                windows.append(Window(index, start, end))
            start, end = lo, hi
    if end > 0:
        windows.append(Window(index, start, end))
    return windows


class GeneTagger:
    """The model pipeline plus its lexicon; ``predict`` maps texts to gene spans (character offsets)."""

    def __init__(
        self,
        nlp: Language,
        lexicon: GeneLexicon,
        window: int | None = DEFAULT_WINDOW,
        batch_size: int = 256,
        decoder: str = DEFAULT_DECODER,
    ):
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r} (expected one of {', '.join(DECODERS)})")
        self.nlp = nlp
        self.decoder = decoder
        self.lexicon = lexicon
        self.window = window
        self.batch_size = batch_size
        self.tokens_seen = 0
        self.tokens_run = 0
        self._flags: dict[int, int] = {}
        self._flag_ids = {flag: nlp.vocab.strings.add(flag) for flag in FLAGS}
        # The candidate test as a lexeme flag: spaCy computes it once per new word and ``to_array`` reads
        # it for every token, so finding the windows costs no Python per token.
        self._candidate_attr = nlp.vocab.add_flag(lexicon.looks_like_gene)
        heads = [proc for _, proc in nlp.pipeline]
        self._runner = (
            TaggerRunner(heads[0], nlp.vocab, self._flag_hash)
            if len(heads) == 1 and supports(heads[0])
            else None
        )

    def reset(self) -> None:
        """Forget what was computed with the current weights (training calls this after updates)."""
        if self._runner is not None:
            self._runner.reset()

    def _flag_hash(self, word: str) -> int:
        """Hash of the word's lexicon flag, the model's LEMMA feature (the runner keeps its vectors, so it
        asks once per word)."""
        return self._flag_ids[self.lexicon.flag(word)]

    def _flag_of(self, orth: int) -> int:
        """``_flag_hash`` of a token, cached per token string (window docs ask for every token)."""
        flag = self._flags.get(orth)
        if flag is None:
            flag = self._flag_hash(self.nlp.vocab.strings[orth])
            if len(self._flags) < 500_000:
                self._flags[orth] = flag
        return flag

    def _windows(self, texts: Iterable[str]) -> Iterator[tuple[int, Any, list[Window]]]:
        """(text index, token array of ORTH, IDX, LENGTH, SPACY, candidate flag, its windows) per text.

        Works on token arrays: creating a ``Token`` object per token would cost more than the model.
        """
        tokenizer, columns = self.nlp.tokenizer, [ORTH, IDX, LENGTH, SPACY, self._candidate_attr]
        return self._windows_of(tokenizer(text).to_array(columns) for text in texts)

    def _windows_of(self, arrays: Iterable[Any]) -> Iterator[tuple[int, Any, list[Window]]]:
        for index, array in enumerate(arrays):
            n = len(array)
            if not n:
                continue
            self.tokens_seen += n
            candidates = numpy.flatnonzero(array[:, 4]).tolist()
            windows = windows_around(candidates, n, self.window, index)
            if windows:
                self.tokens_run += sum(w.end - w.start for w in windows)
                yield index, array, windows

    def _subdocs(self, texts: Iterable[str]) -> Iterator[tuple[int, Any, Any, Doc]]:
        """(text index, start and end offsets of the window's tokens, window doc with lexicon flags)."""
        vocab = self.nlp.vocab
        strings = vocab.strings
        for index, array, windows in self._windows(texts):
            n = len(array)
            orths = array[:, 0].tolist()
            starts = array[:, 1]
            ends = starts + array[:, 2]
            spaces = array[:, 3].astype(bool).tolist()
            flags = numpy.fromiter(map(self._flag_of, orths), dtype="uint64", count=n).reshape(-1, 1)
            for w in windows:
                words = [strings[orth] for orth in orths[w.start : w.end]]
                sub = Doc(vocab, words=words, spaces=spaces[w.start : w.end])
                sub.from_array([LEMMA], flags[w.start : w.end])
                yield index, starts[w.start : w.end], ends[w.start : w.end], sub

    def predict(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Gene spans per text, sorted, as ``(start, end)`` character offsets into that text."""
        return [spans for spans, _ in self.predict_with_coverage(texts)]

    def predict_with_coverage(
        self, texts: Sequence[str]
    ) -> list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
        """Per text: the gene spans, and the character ranges the model was run on (its windows)."""
        if self._runner is not None:
            return self._predict_tags(len(texts), self._windows(texts))
        out: list[list[tuple[int, int]]] = [[] for _ in texts]
        seen: list[list[tuple[int, int]]] = [[] for _ in texts]
        parts = list(self._subdocs(texts))
        docs: Iterable[Doc] = (doc for *_, doc in parts)
        for _, proc in self.nlp.pipeline:
            docs = proc.pipe(docs, batch_size=self.batch_size)
        for (index, starts, ends, _), doc in zip(parts, docs, strict=True):
            seen[index].append((int(starts[0]), int(ends[-1])))
            for ent in doc.ents:
                out[index].append((int(starts[ent.start]), int(ends[ent.end - 1])))
        for spans in out:
            spans.sort()
        return list(zip(out, seen, strict=True))

    def predict_docs_with_coverage(
        self, docs: Sequence[Doc]
    ) -> list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
        """``predict_with_coverage`` on Docs already tokenized with the model's rules: no second tokenization.

        For Docs of a pipeline that shares this tagger's vocab (``load_tagger(vocab=...)``) and whose
        tokenizer passes ``same_tokenization``; other Docs are tokenized again from their text."""
        if self._runner is None or any(doc.vocab is not self.nlp.vocab for doc in docs):
            return self.predict_with_coverage([doc.text for doc in docs])
        columns = [ORTH, IDX, LENGTH, SPACY, self._candidate_attr]
        return self._predict_tags(len(docs), self._windows_of(doc.to_array(columns) for doc in docs))

    def _predict_tags(
        self, count: int, found_windows: Iterable[tuple[int, Any, list[Window]]]
    ) -> list[tuple[list[Offsets], list[Offsets]]]:
        """The tagger head's path: windows as ORTH arrays, tags decoded into spans (see ``tags``)."""
        assert self._runner is not None
        out: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        seen: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        orths, starts, ends, owner = [], [], [], []
        for index, array, windows in found_windows:
            token_starts = array[:, 1]
            token_ends = token_starts + array[:, 2]
            for w in windows:
                orths.append(array[w.start : w.end, 0])
                starts.append(token_starts[w.start : w.end])
                ends.append(token_ends[w.start : w.end])
                owner.append(index)
                seen[index].append((int(token_starts[w.start]), int(token_ends[w.end - 1])))
        if not orths:
            return list(zip(out, seen, strict=True))
        lengths = [len(w) for w in orths]
        step = self.batch_size
        batches = (orths[i : i + step] for i in range(0, len(orths), step))
        logprobs = numpy.concatenate([self._runner.logprobs(batch) for batch in batches])
        if self.decoder == "viterbi":
            codes = viterbi_codes(logprobs, lengths, self._runner.scheme)
        else:
            codes = logprobs.argmax(axis=1)
        spans = decode_codes(codes, lengths)
        if spans:
            first, last = (numpy.array(side) for side in zip(*spans, strict=True))
            char_starts = numpy.concatenate(starts)[first].tolist()
            char_ends = numpy.concatenate(ends)[last - 1].tolist()
            texts_of = numpy.repeat(numpy.array(owner), lengths)[first].tolist()
            for index, start, end in zip(texts_of, char_starts, char_ends, strict=True):
                out[index].append((start, end))
        for found in out:
            found.sort()
        return list(zip(out, seen, strict=True))


def load_tagger(
    model_dir: Path, window: int | None = DEFAULT_WINDOW, vocab: Vocab | None = None
) -> GeneTagger:
    """Saved weights (a spaCy pipeline directory, ``cue_words.txt``, ``non_candidates.txt``) as a tagger.

    ``vocab``: a blank English pipeline's vocab to share, so the tagger reads that pipeline's Docs directly.
    """
    if not (model_dir / "config.cfg").is_file():
        raise InputError(f"no gene model at {model_dir} (retrain it with: resistmine train gene-ner)")
    nlp = spacy.load(model_dir, vocab=vocab if vocab is not None else True)
    cue_words, non_candidates = (_words(model_dir / name) for name in (CUE_WORDS_FILE, NON_CANDIDATES_FILE))
    return GeneTagger(nlp, load_hgnc_lexicon(cue_words, non_candidates), window=window)


def _words(path: Path) -> frozenset[str]:
    return frozenset(path.read_text(encoding="utf-8").split()) if path.exists() else frozenset()
