"""Run the gene model over texts, only where a cheap pass finds gene-like tokens.

The model's receptive field is a few tokens (a CNN of depth 4 with window 1, plus the NER's state
features), so it is run on windows of ``window`` tokens either side of each candidate token rather than
on whole abstracts; overlapping windows merge. ``window=None`` runs it on the whole text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from corpus.errors import InputError
from extractors.gene_model.features import GeneLexicon, load_hgnc_lexicon, set_flags

CUE_WORDS_FILE = "cue_words.txt"


@dataclass(frozen=True, slots=True)
class Window:
    """Token range ``[start, end)`` of text number ``index`` and its first character."""

    index: int
    start: int
    end: int
    char_offset: int


def candidate_windows(doc: Doc, lexicon: GeneLexicon, window: int | None, index: int = 0) -> list[Window]:
    """Merged token windows around candidate tokens (the whole doc when ``window`` is None)."""
    if window is None:
        return [Window(index, 0, len(doc), 0)] if len(doc) else []
    windows: list[Window] = []
    start = end = -1
    n = len(doc)
    for i, token in enumerate(doc):
        if not lexicon.is_candidate(token.text):
            continue
        lo, hi = max(0, i - window), min(n, i + window + 1)
        if lo <= end:
            end = hi
        else:
            if end > 0:
                windows.append(Window(index, start, end, doc[start].idx))
            start, end = lo, hi
    if end > 0:
        windows.append(Window(index, start, end, doc[start].idx))
    return windows


class GeneTagger:
    """The model pipeline plus its lexicon; ``predict`` maps texts to gene spans (character offsets)."""

    def __init__(self, nlp: Language, lexicon: GeneLexicon, window: int | None = 8, batch_size: int = 256):
        self.nlp = nlp
        self.lexicon = lexicon
        self.window = window
        self.batch_size = batch_size
        self.tokens_seen = 0
        self.tokens_run = 0

    def _subdocs(self, texts: Iterable[str]) -> Iterator[tuple[Window, Doc]]:
        for index, text in enumerate(texts):
            doc = self.nlp.make_doc(text)
            self.tokens_seen += len(doc)
            for w in candidate_windows(doc, self.lexicon, self.window, index):
                sub = doc if (w.start == 0 and w.end == len(doc)) else doc[w.start : w.end].as_doc()
                self.tokens_run += len(sub)
                yield w, set_flags(sub, self.lexicon)

    def predict(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Gene spans per text, sorted, as ``(start, end)`` character offsets into that text."""
        out: list[list[tuple[int, int]]] = [[] for _ in texts]
        pairs = list(self._subdocs(texts))
        docs: Iterable[Doc] = (d for _, d in pairs)
        for _, proc in self.nlp.pipeline:
            docs = proc.pipe(docs, batch_size=self.batch_size)
        for (w, _), doc in zip(pairs, docs, strict=True):
            out[w.index].extend((w.char_offset + e.start_char, w.char_offset + e.end_char) for e in doc.ents)
        for spans in out:
            spans.sort()
        return out


def load_tagger(model_dir: Path, window: int | None = 4) -> GeneTagger:
    """Saved weights (a spaCy pipeline directory plus ``cue_words.txt``) as a ``GeneTagger``."""
    if not (model_dir / "config.cfg").is_file():
        raise InputError(f"no gene model at {model_dir} (retrain it with: resistmine train gene-ner)")
    nlp = spacy.load(model_dir)
    cue_file = model_dir / CUE_WORDS_FILE
    cue_words = frozenset(cue_file.read_text(encoding="utf-8").split()) if cue_file.exists() else frozenset()
    return GeneTagger(nlp, load_hgnc_lexicon(cue_words), window=window)
