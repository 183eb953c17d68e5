"""The ``resistmine_relations`` component: fills ``Doc._.triples`` from the Doc's mentions and sentences."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from extractors.relations.context import ContextMarker
from extractors.relations.extract import RELATIONS_VERSION, extract_triples
from extractors.relations.recognisers import ensure_doc_extensions


def extractor_version() -> str:
    """The NER version and this extractor's, so stored results are redone when either changes."""
    try:
        from extractors.api import EXTRACTOR_VERSION
    except ImportError:
        return RELATIONS_VERSION
    return f"{EXTRACTOR_VERSION}+{RELATIONS_VERSION}"


def _gene_normaliser():
    try:
        from extractors.ner.normalise import normalise_gene
    except ImportError:
        return None
    return normalise_gene


class RelationExtractor:
    """Gene – mechanism – therapy triples, negation and hedging by NegEx over the relation cues.

    Sentences come from the pipeline's segmenter (``doc.sents``); without one the whole text is one
    sentence. The triples are computed by ``extract_triples`` (a plain function); this class only
    gathers its inputs from the Doc and writes its output.
    """

    def __init__(self, nlp: Language, name: str, negation: bool = True) -> None:
        self.name = name
        self.context = ContextMarker(nlp) if negation else None
        self.normalise_gene = _gene_normaliser()
        self.version = extractor_version()
        ensure_doc_extensions()

    def __call__(self, doc: Doc) -> Doc:
        mentions = list(doc._.mentions or ())
        if doc.has_annotation("SENT_START"):
            sentences = [(s.start_char, s.end_char) for s in doc.sents]
        else:
            sentences = [(0, len(doc.text))]
        cache: dict[tuple[int, int], tuple[bool, bool]] = {}

        def context(start: int, end: int) -> tuple[bool, bool]:
            if self.context is None:
                return False, False
            if (start, end) not in cache:
                cache.update(self.context.mark(doc, [(start, end)]))
            return cache[(start, end)]

        doc._.triples = extract_triples(
            doc.text,
            sentences,
            mentions,
            doc._.pmid or "",
            context=context,
            normalise_gene=self.normalise_gene,
            extractor_version=self.version,
        )
        return doc


@Language.factory("resistmine_relations", default_config={"negation": True})
def make_relation_extractor(nlp: Language, name: str, negation: bool) -> RelationExtractor:
    return RelationExtractor(nlp, name, negation)
