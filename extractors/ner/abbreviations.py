"""Abbreviations resolve to their long forms' concepts (Schwartz & Hearst pairs from scispaCy).

Pure function over plain data: given the pairs ``(short_start, short_end, long_start, long_end)`` and the
mentions found so far, return the mentions with (a) every occurrence of a short form given its long
form's concept, and (b) short forms whose long form is *not* an entity of that label dropped (``ITD``
defined as a disease is not the gene ``ITD``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from extractors.mentions import CANCER, CHEMICAL, GENE, Mention

ENTITY_LABELS = (GENE, CHEMICAL, CANCER)
_COVER = 0.6  # a long form "is" a mention when the mention covers this share of it


def apply_abbreviations(text: str, mentions: list[Mention],
                        pairs: Iterable[tuple[int, int, int, int]]) -> list[Mention]:
    out = list(mentions)
    for short_start, short_end, long_start, long_end in pairs:
        short = text[short_start:short_end]
        if not short.strip() or long_end <= long_start:
            continue
        long_len = long_end - long_start
        for label in ENTITY_LABELS:
            same = [m for m in out if m.label == label]
            inside = [m for m in same if m.start >= long_start - 1 and m.end <= long_end + 1]
            covering = [m for m in inside if (m.end - m.start) >= _COVER * long_len]
            short_hits = [m for m in same if m.start == short_start and m.end == short_end]
            if covering:
                concept = max(covering, key=lambda m: m.end - m.start)
                if not concept.ids:  # a definition nobody could normalise must not unname a known short form
                    concept = max((m for m in short_hits if m.ids), key=lambda m: m.score, default=concept)
                out = _propagate(text, out, short, concept)
            elif (short_hits or _unnamed_model_genes(same, short)) and (
                    _covered_by_other(out, label, long_start, long_end) or
                    (label == GENE and is_disease_name(text[long_start:long_end]))):
                # the short form was matched as this label but its definition is another kind of entity
                out = [m for m in out if not (m.label == label and m.text == short)]
    return out


_DISEASE_WORD = re.compile(r"(?:syndrome|disease|disorder|dysplasia|dystrophy|deficiency|itis|osis|emia|"
                           r"opathy|plasia|trophy|ism|cancer|tumou?r|oma)s?$", re.IGNORECASE)


def is_disease_name(long_form: str) -> bool:
    """A disease-like suffix, or the last one to four words name a disease or phenotype."""
    from extractors.ner.build import disease_names
    from extractors.ner.text import fold

    long_form = long_form.strip()
    if _DISEASE_WORD.search(long_form):
        return True
    names = disease_names()
    words = fold(long_form).split()
    return any(" ".join(words[-k:]) in names for k in range(1, min(4, len(words)) + 1))


def _unnamed_model_genes(mentions: list[Mention], short: str) -> bool:
    """The tagger found the short form as a gene somewhere, but no lexicon names it."""
    return any(m.label == GENE and m.source == "model" and not m.ids and m.text == short for m in mentions)


def _covered_by_other(mentions: list[Mention], label: str, long_start: int, long_end: int) -> bool:
    return any(m.label != label and m.label in ENTITY_LABELS and m.start <= long_start + 1
               and m.end >= long_end - 1 for m in mentions)


def _propagate(text: str, mentions: list[Mention], short: str, concept: Mention) -> list[Mention]:
    pattern = re.compile(r"(?<![\w-])" + re.escape(short) + r"(?![\w])")
    kept = [m for m in mentions if not (m.label == concept.label and m.text == short)]
    for match in pattern.finditer(text):
        if any(m.label == concept.label and m.start < match.end() and match.start() < m.end for m in kept):
            continue
        kept.append(Mention(match.start(), match.end(), short, concept.label, concept.norm, concept.ids,
                            concept.category, "abbreviation", concept.score))
    return kept
