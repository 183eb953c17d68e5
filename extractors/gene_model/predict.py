"""Run the gene model over texts, only where a cheap pass finds gene-like tokens.

The model's receptive field is a few tokens (a CNN of depth 2 with window 1, plus the NER's state
features), so it is run on windows of ``window`` tokens either side of each candidate token rather than
on whole abstracts; overlapping windows merge. ``window=None`` runs it on the whole text. The default
(4) was chosen on the held-out slice of BioRED train, in the full NER pipeline with a lexicon tuned
without that slice: strict F1 0.759 (window 4) vs 0.756 (whole texts) vs 0.741 (window 2); narrower
windows cost precision. See ``models/gene_ner/MODEL_CARD.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from corpus.errors import InputError
from extractors.gene_model.features import GeneLexicon, load_hgnc_lexicon

CUE_WORDS_FILE = "cue_words.txt"
DEFAULT_WINDOW = 4


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
    n = len(words)
    if window is None:
        return [Window(index, 0, n)] if n else []
    windows: list[Window] = []
    start = end = -1
    is_candidate = lexicon.is_candidate
    for i, word in enumerate(words):
        if not is_candidate(word):
            continue
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
        self, nlp: Language, lexicon: GeneLexicon, window: int | None = DEFAULT_WINDOW, batch_size: int = 256
    ):
        self.nlp = nlp
        self.lexicon = lexicon
        self.window = window
        self.batch_size = batch_size
        self.tokens_seen = 0
        self.tokens_run = 0
        self._flags: dict[str, str] = {}

    def _flag(self, word: str) -> str:
        flag = self._flags.get(word)
        if flag is None:
            flag = self.lexicon.flag(word)
            if len(self._flags) < 500_000:
                self._flags[word] = flag
        return flag

    def _subdocs(self, texts: Iterable[str]) -> Iterator[tuple[int, list[int], list[int], Doc]]:
        """(text index, start and end offsets of the window's tokens, window doc with lexicon flags)."""
        vocab = self.nlp.vocab
        for index, text in enumerate(texts):
            doc = self.nlp.make_doc(text)
            words, spaces, starts, ends = [], [], [], []
            for token in doc:
                words.append(token.text)
                spaces.append(bool(token.whitespace_))
                starts.append(token.idx)
                ends.append(token.idx + len(token.text))
            self.tokens_seen += len(words)
            for w in candidate_windows(words, self.lexicon, self.window, index):
                part = words[w.start : w.end]
                flags = [self._flag(word) for word in part]
                sub = Doc(vocab, words=part, spaces=spaces[w.start : w.end], lemmas=flags)
                self.tokens_run += len(part)
                yield index, starts[w.start : w.end], ends[w.start : w.end], sub

    def predict(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Gene spans per text, sorted, as ``(start, end)`` character offsets into that text."""
        return [spans for spans, _ in self.predict_with_coverage(texts)]

    def predict_with_coverage(
        self, texts: Sequence[str]
    ) -> list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
        """Per text: the gene spans, and the character ranges the model was run on (its windows)."""
        out: list[list[tuple[int, int]]] = [[] for _ in texts]
        seen: list[list[tuple[int, int]]] = [[] for _ in texts]
        parts = list(self._subdocs(texts))
        docs: Iterable[Doc] = (doc for *_, doc in parts)
        for _, proc in self.nlp.pipeline:
            docs = proc.pipe(docs, batch_size=self.batch_size)
        for (index, starts, ends, _), doc in zip(parts, docs, strict=True):
            seen[index].append((starts[0], ends[-1]))
            for ent in doc.ents:
                out[index].append((starts[ent.start], ends[ent.end - 1]))
        for spans in out:
            spans.sort()
        return list(zip(out, seen, strict=True))


def load_tagger(model_dir: Path, window: int | None = DEFAULT_WINDOW) -> GeneTagger:
    """Saved weights (a spaCy pipeline directory plus ``cue_words.txt``) as a ``GeneTagger``."""
    if not (model_dir / "config.cfg").is_file():
        raise InputError(f"no gene model at {model_dir} (retrain it with: resistmine train gene-ner)")
    nlp = spacy.load(model_dir)
    cue_file = model_dir / CUE_WORDS_FILE
    cue_words = frozenset(cue_file.read_text(encoding="utf-8").split()) if cue_file.exists() else frozenset()
    return GeneTagger(nlp, load_hgnc_lexicon(cue_words), window=window)
