"""Entity mentions: the one record NER produces and relation extraction, tables and evaluation read."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.pickling import pickled_as_fields

GENE = "GENE"
THERAPY = "THERAPY"
CHEMICAL = "CHEMICAL"
MECHANISM = "MECHANISM"
CANCER = "CANCER"
RESISTANCE_CUE = "RESISTANCE_CUE"

LABELS = (GENE, THERAPY, CHEMICAL, MECHANISM, CANCER, RESISTANCE_CUE)


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Mention:
    """A span of ``Article.text`` with its normalised concept.

    ``ids`` are CURIEs (``HGNC:9588``, ``NCBIGene:5728``, ``MESH:D008545``, ``DRUGBANK:DB09035``);
    ``category`` refines the label (a therapy's class, ``family`` for gene families, a cue's kind);
    ``source`` names the component that found it, so errors can be traced.
    """

    start: int
    end: int
    text: str
    label: str
    norm: str
    ids: tuple[str, ...] = ()
    category: str = ""
    source: str = ""
    score: float = 1.0

    def overlaps(self, other: Mention) -> bool:
        return self.start < other.end and other.start < self.end
