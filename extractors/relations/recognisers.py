"""MECHANISM and RESISTANCE_CUE mentions: pure finders over the text, and the spaCy components that wrap them.

The finders work on characters, not tokens, so they give the same spans under scispaCy's tokenizer (which
keeps ``VHL-deficient`` or ``anti-PD-1`` whole) and under spaCy's default one.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from extractors.batching import BatchedPipe
from extractors.mentions import MECHANISM, RESISTANCE_CUE, Mention
from extractors.ner.segment import doc_text
from extractors.relations.vocab import Vocabulary, cue_vocabulary, mechanism_vocabulary

MECHANISM_SOURCE = "resistmine_mechanisms"
CUE_SOURCE = "resistmine_cues"


def find_mechanisms(text: str, vocabulary: Vocabulary | None = None) -> list[Mention]:
    """Mechanism words; ``norm`` is one of ``MECHANISMS``, ``category`` is "<attach>:<kind>" (see data/)."""
    vocabulary = vocabulary or mechanism_vocabulary()
    return [
        Mention(
            hit.start,
            hit.end,
            hit.text,
            MECHANISM,
            hit.entry.norm,
            category=f"{hit.entry.attach}:{hit.entry.kind}",
            source=MECHANISM_SOURCE,
        )
        for hit in vocabulary.find(text)
    ]


def find_cues(text: str, vocabulary: Vocabulary | None = None) -> list[Mention]:
    """Resistance cues. Effect cues have ``norm`` = their effect and ``category`` = their kind; resistance
    processes have ``norm`` = the process and ``category`` = "process". Exclusions (anoikis resistance)
    are matched so that they hide the shorter cue inside them, and are not returned."""
    vocabulary = vocabulary or cue_vocabulary()
    mentions = []
    for hit in vocabulary.find(text):
        entry = hit.entry
        if entry.effect == "exclude":
            continue
        if entry.effect == "process":
            norm, category = entry.kind, "process"
        else:
            norm, category = entry.effect, entry.kind
        mentions.append(
            Mention(hit.start, hit.end, hit.text, RESISTANCE_CUE, norm, category=category, source=CUE_SOURCE)
        )
    return mentions


def ensure_doc_extensions() -> None:
    """Declare ``Doc._.mentions`` / ``Doc._.triples`` / ``Doc._.pmid`` when the NER package has not yet.

    ``extractors.api`` owns these declarations; this only fills in when the relation components run in a
    pipeline built without it (tests, a user's own pipeline), and never overrides them.
    """
    try:
        from extractors.api import register_extensions
    except ImportError:
        register_extensions = None
    if register_extensions is not None:
        register_extensions()
        return
    for name in ("mentions", "triples", "pmid"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


def append_mentions(doc: Doc, mentions: list[Mention]) -> None:
    current = doc._.mentions
    merged = list(current) if current else []
    merged.extend(mentions)
    merged.sort(key=lambda m: (m.start, -m.end, m.label))
    doc._.mentions = merged


class MechanismRecogniser(BatchedPipe):
    """Appends MECHANISM mentions to ``Doc._.mentions``."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.vocabulary = mechanism_vocabulary()
        ensure_doc_extensions()

    def __call__(self, doc: Doc) -> Doc:
        append_mentions(doc, find_mechanisms(doc_text(doc), self.vocabulary))
        return doc


class CueRecogniser(BatchedPipe):
    """Appends RESISTANCE_CUE mentions to ``Doc._.mentions``."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.vocabulary = cue_vocabulary()
        ensure_doc_extensions()

    def __call__(self, doc: Doc) -> Doc:
        append_mentions(doc, find_cues(doc_text(doc), self.vocabulary))
        return doc


@Language.factory("resistmine_mechanisms")
def make_mechanism_recogniser(nlp: Language, name: str) -> MechanismRecogniser:
    return MechanismRecogniser(nlp, name)


@Language.factory("resistmine_cues")
def make_cue_recogniser(nlp: Language, name: str) -> CueRecogniser:
    return CueRecogniser(nlp, name)
