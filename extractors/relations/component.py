"""The ``resistmine_relations`` component: fills ``Doc._.triples`` from the Doc's mentions and sentences."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from extractors.batching import BatchedPipe
from extractors.ner.segment import doc_text
from extractors.relations.context import ContextMarker
from extractors.relations.extract import RELATIONS_VERSION, extract_triples, triple_genes
from extractors.relations.recognisers import ensure_doc_extensions
from extractors.relations.syntax import Syntax, load_parser


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


class RelationExtractor(BatchedPipe):
    """Gene – mechanism – therapy triples, negation and hedging by NegEx over the relation cues.

    Sentences come from the pipeline's segmenter (``doc.sents``); without one the whole text is one
    sentence. With a dependency parse (the pipeline's, or ``parser``'s) subjects and objects come from it.
    The triples are computed by ``extract_triples`` (a plain function); this class only gathers its inputs
    from the Doc and writes its output.
    """

    def __init__(self, nlp: Language, name: str, negation: bool = True, parser: str = "auto") -> None:
        self.name = name
        self.parser_name = parser
        self.parser = load_parser(parser) if parser not in ("auto", "none") else None
        self.context = ContextMarker(nlp) if negation else None
        self.normalise_gene = _gene_normaliser()
        self.version = extractor_version()
        ensure_doc_extensions()

    def __call__(self, doc: Doc) -> Doc:
        mentions = list(doc._.mentions or ())
        if not triple_genes(mentions):  # no gene a triple could name: skip sentences, negation and parsing
            doc._.triples = []
            return doc
        text = doc_text(doc)
        if doc.has_annotation("SENT_START"):
            sentences = [(s.start_char, s.end_char) for s in doc.sents]
        else:
            sentences = [(0, len(text))]
        cache: dict[tuple[int, int], tuple[bool, bool]] = {}

        def context(start: int, end: int) -> tuple[bool, bool]:
            if self.context is None:
                return False, False
            if not cache:  # first triple of the Doc: one NegEx pass for every span a triple may ask about
                spans = [(m.start, m.end) for m in mentions if m.label in ("RESISTANCE_CUE", "MECHANISM")]
                cache.update(self.context.mark(doc, spans))
            if (start, end) not in cache:
                cache.update(self.context.mark(doc, [(start, end)]))
            return cache[(start, end)]

        doc._.triples = extract_triples(
            text,
            sentences,
            mentions,
            doc._.pmid or "",
            context=context,
            normalise_gene=self.normalise_gene,
            extractor_version=self.version,
            syntax=self._syntax(doc, mentions),
        )
        return doc

    def _syntax(self, doc: Doc, mentions: list) -> Syntax | None:
        """The Doc's own parse ("auto"), or the configured parser's over the same text when the Doc has
        genes and cues to relate; None means the surface patterns decide."""
        if self.parser_name == "none":
            return None
        if doc.has_annotation("DEP"):
            return Syntax(doc)
        if self.parser is None:
            return None
        labels = {m.label for m in mentions}
        if not {"GENE", "RESISTANCE_CUE"} <= labels:
            return None
        return Syntax(self.parser(doc_text(doc)))


@Language.factory("resistmine_relations", default_config={"negation": True, "parser": "auto"})
def make_relation_extractor(nlp: Language, name: str, negation: bool, parser: str) -> RelationExtractor:
    """``parser``: "auto" (use the pipeline's parse when it has one), "none" (surface patterns only), or a
    spaCy model to parse with (e.g. "en_core_web_sm")."""
    return RelationExtractor(nlp, name, negation, parser)
