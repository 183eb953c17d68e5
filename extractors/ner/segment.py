"""Fast document-level components: sentence boundaries and abbreviation definitions.

Both work on token arrays and the text instead of iterating ``Token`` objects (creating one per token
costs more than all the lexicon matching). Abbreviations use scispaCy's Schwartz & Hearst implementation
(``filter_matches``, ``find_abbreviation``) on parenthesis candidates found with numpy.
"""

from __future__ import annotations

import re

import numpy
from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.attrs import IDX, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractors.batching import BatchedPipe

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a capital, digit or bracket,
# unless the word before the period is a common abbreviation or a single capital (initials, "e.g.").
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9(\[\"'])")
_WORD_BEFORE = re.compile(r"(\w+)$")
NOT_SENTENCE_END = frozenset({"al", "vs", "eg", "ie", "e.g", "i.e", "Fig", "fig", "Figs", "approx", "ca",
                              "Dr",
                              "No", "no", "St", "Ref", "ref", "cf", "Eq", "spp", "sp"})
PAIRS_KEY = ("resistmine", "abbreviation_pairs")
TEXT_KEY = ("resistmine", "text")


class TextKeepingTokenizer:
    """Wraps a tokenizer to keep the input string on the Doc: ``Doc.text`` rebuilds it from Token objects,
    which costs more per abstract than all the lexicon matching."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str):
        if name == "tokenizer":  # not set yet (``copy``, unpickling): without this, endless recursion
            raise AttributeError(name)
        return getattr(self.tokenizer, name)


def doc_text(doc: Doc) -> str:
    """The Doc's text, without rebuilding it from the tokens: the text the tokenizer kept, else joined once
    and kept (a Doc's text never changes after it is made)."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start (the first is 0)."""
    starts = [0]
    for match in _SENTENCE_END.finditer(text):
        if text[match.start()] == ".":
            before = _WORD_BEFORE.search(text, max(0, match.start() - 12), match.start())
            if before and (before.group(1) in NOT_SENTENCE_END or
                           (len(before.group(1)) == 1 and before.group(1).isupper())):
                continue
        starts.append(match.end())
    return starts


@Language.factory("resistmine_sentences")
class SentenceSegmenter(BatchedPipe):
    """Rule-based sentence starts set through one array write (``doc.sents`` works afterwards)."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        idx = doc.to_array(IDX)
        starts = numpy.searchsorted(idx, sentence_starts(doc_text(doc)))
        flags = numpy.full(len(doc), -1, dtype="int64")
        flags[starts[starts < len(doc)]] = 1
        flags[0] = 1
        doc.from_array([SENT_START], flags.astype("uint64").reshape(-1, 1))
        return doc


@Language.factory("resistmine_abbreviations")
class AbbreviationFinder(BatchedPipe):
    """``Doc._.abbreviations`` (short-form spans with ``._.long_form``), as scispaCy's detector sets them,
    plus the definition pairs as character offsets for the mention resolver."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        if not Doc.has_extension("abbreviations"):
            Doc.set_extension("abbreviations", default=None)
        if not Span.has_extension("long_form"):
            Span.set_extension("long_form", default=None)
        self.open_id = nlp.vocab.strings.add("(")
        self.close_id = nlp.vocab.strings.add(")")

    def __call__(self, doc: Doc) -> Doc:
        orth = doc.to_array(ORTH).astype("uint64")
        opens = numpy.flatnonzero(orth == self.open_id)
        closes = numpy.flatnonzero(orth == self.close_id)
        # each "(" with the first ")" after the token that follows it, for all of them in one sorted search
        first_close = numpy.searchsorted(closes, opens + 2)
        found = first_close < len(closes)
        paren_spans = zip(opens[found].tolist(), closes[first_close[found]].tolist(), strict=True)
        matches = [(0, o + 1, c) for o, c in paren_spans]
        shorts, pairs, seen = [], [], set()
        for long_candidate, short_candidate in filter_matches(matches, doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if long is None or short.text in seen:
                continue
            seen.add(short.text)
            short._.long_form = long
            shorts.append(short)
            pairs.append((short.start_char, short.end_char, long.start_char, long.end_char))
        doc._.abbreviations = shorts
        doc.user_data[PAIRS_KEY] = pairs
        return doc
