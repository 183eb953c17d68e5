"""Negation and hedging of relation cues: NegEx, through negspacy's ``Negex`` component.

negspacy (MIT, installed without dependencies) implements NegEx (Chapman et al. 2001): cue phrases found
with a PhraseMatcher negate the spans after (or before) them up to a termination word or the sentence
end. Its clinical termset does not fit abstracts ("absence of", "loss of" are alterations here), so the
termsets come from ``data/context.json``; hedging runs the same algorithm with speculation cues
(``may``, ``likely``, ``suggest``). medspacy's ConText would add more machinery (and dependencies) for
the same two flags.
"""

from __future__ import annotations

from negspacy.negation import Negex
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractors.relations.vocab import context_termsets

SPAN_KEY = "resistmine_relation_spans"
NEGATED = "resistmine_negated"
HEDGED = "resistmine_hedged"


class ContextMarker:
    """Says, for character spans of a Doc, whether NegEx finds them negated and hedged."""

    def __init__(self, nlp: Language) -> None:
        termsets = context_termsets()
        self._negex = Negex(
            nlp, "resistmine_negex", termsets["negation"], extension_name=NEGATED, span_keys=[SPAN_KEY]
        )
        self._hedges = Negex(
            nlp, "resistmine_hedges", termsets["hedging"], extension_name=HEDGED, span_keys=[SPAN_KEY]
        )

    def mark(self, doc: Doc, spans: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[bool, bool]]:
        """(negated, hedged) for each character span; spans are widened to whole tokens."""
        if not spans or not doc.has_annotation("SENT_START"):
            return {span: (False, False) for span in spans}
        token_spans: dict[tuple[int, int], Span] = {}
        for start, end in spans:
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is not None and len(span):
                token_spans[(start, end)] = span
        previous = doc.spans.get(SPAN_KEY)
        doc.spans[SPAN_KEY] = list(token_spans.values())
        try:
            self._negex(doc)
            self._hedges(doc)
            marked = {key: (bool(s._.get(NEGATED)), bool(s._.get(HEDGED))) for key, s in token_spans.items()}
        finally:
            if previous is None:
                del doc.spans[SPAN_KEY]
            else:
                doc.spans[SPAN_KEY] = previous
        return {span: marked.get(span, (False, False)) for span in spans}
