"""Gold gene mentions from the shared corpora, as spaCy ``Doc``s with ``GENE`` entities.

PubTator files (BioRED ``GeneOrGeneProduct``, GNormPlus and NLM-Gene ``Gene``; read with
``extractors.evaluation.pubtator``) carry character offsets into ``title + " " + abstract``; BC2GM
ships IOB-tagged sentences. Each reader yields plain
``GoldText`` records; ``to_docs`` aligns them to the model's tokenizer and counts what could not be
aligned, because a span that does not align to token edges can neither be learned nor predicted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import filter_spans

from corpus.errors import InputError
from extractors.evaluation import pubtator

GENE_LABEL = "GENE"

# PubTator entity types counted as gene mentions in each corpus.
GENE_TYPES = frozenset({"GeneOrGeneProduct", "Gene"})


@dataclass(frozen=True, slots=True)
class GoldText:
    """One text and its gold gene spans (character offsets into ``text``)."""

    doc_id: str
    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class AlignStats:
    """How many gold spans became entities on the model's tokens."""

    spans: int = 0
    aligned: int = 0
    overlapping: int = 0
    misaligned: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.aligned / self.spans if self.spans else 1.0


def read_pubtator(path: Path, types: frozenset[str] = GENE_TYPES) -> Iterator[GoldText]:
    """Documents of a PubTator file with their mentions of ``types`` (the project's one PubTator parser)."""
    for doc in pubtator.read_pubtator(path):
        spans = {(m.start, m.end) for m in doc.mentions if m.type in types}
        yield GoldText(doc.pmid, doc.text, tuple(sorted(spans)))


def read_iob(path: Path, prefix: str = "bc2gm") -> Iterator[GoldText]:
    """Sentences of a two-column IOB file (token, B-GENE/I-GENE/O), rebuilt with single spaces."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read IOB file {path}: {exc.strerror}") from exc
    with handle:
        tokens: list[tuple[str, str]] = []
        n = 0
        for line in [*handle, "\n"]:
            line = line.rstrip("\n")
            if line.strip():
                word, _, tag = line.partition("\t")
                tokens.append((word, tag.strip() or "O"))
                continue
            if not tokens:
                continue
            parts, spans, pos, start = [], [], 0, None
            for word, tag in tokens:
                if start is not None and not tag.startswith("I-"):
                    spans.append((start, pos - 1))
                    start = None
                if tag.startswith("B-") or (tag.startswith("I-") and start is None):
                    start = pos
                parts.append(word)
                pos += len(word) + 1
            if start is not None:
                spans.append((start, pos - 1))
            n += 1
            yield GoldText(f"{prefix}:{n}", " ".join(parts), tuple(spans))
            tokens = []


def to_doc(nlp: Language, gold: GoldText, stats: AlignStats | None = None) -> Doc:
    """Tokenize ``gold.text`` with the model's tokenizer and set its aligned spans as GENE entities."""
    doc = nlp.make_doc(gold.text)
    ents = []
    for start, end in gold.spans:
        span = doc.char_span(start, end, label=GENE_LABEL, alignment_mode="strict")
        if stats is not None:
            stats.spans += 1
            if span is None and len(stats.misaligned) < 200:
                stats.misaligned.append(gold.text[max(0, start - 15) : end + 15].replace("\n", " "))
        if span is not None:
            ents.append(span)
    kept = filter_spans(ents)
    if stats is not None:
        stats.aligned += len(kept)
        stats.overlapping += len(ents) - len(kept)
    doc.ents = kept
    return doc


def to_docbin(nlp: Language, golds: Iterable[GoldText], stats: AlignStats | None = None) -> DocBin:
    """A ``DocBin`` of aligned docs, ready for ``spacy`` training or for saving with ``to_disk``."""
    docbin = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    for gold in golds:
        docbin.add(to_doc(nlp, gold, stats))
    return docbin
