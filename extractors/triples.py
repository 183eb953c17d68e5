"""The gene – mechanism – therapy triple: defined once, used by extraction, tables and evaluation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from corpus.pickling import pickled_as_fields

EFFECTS = ("resistance", "sensitivity", "countermeasure", "association")

# Canonical mechanism names; every surface form normalises to one of these.
MECHANISMS = (
    "loss",
    "deletion",
    "loss_of_function_mutation",
    "mutation",
    "amplification",
    "overexpression",
    "upregulation",
    "downregulation",
    "silencing",
    "methylation",
    "deficiency",
    "activation",
    "inhibition",
    "expression",
)

# Therapy classes (the therapy lexicon's, and drugs' by INN stem); ``other``: a chemical of no known class.
OTHER_THERAPY_CLASS = "other"
THERAPY_CLASSES = (
    "immune checkpoint blockade", "radiotherapy", "chemotherapy", "targeted therapy", "cell therapy",
    "cancer vaccine", "oncolytic therapy", "innate immune agonist", "microbiome modulation",
    OTHER_THERAPY_CLASS,
)

THERAPY_SCOPES = ("sentence", "abstract")


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Triple:
    """One statement: ``gene`` altered by ``mechanism`` has ``effect`` on ``therapy``.

    Offsets refer to ``Article.text``; ``therapy_*`` offsets are those of the mention the
    therapy was taken from, which lies outside the sentence when ``therapy_scope == "abstract"``.
    """

    pmid: str
    sentence_id: int
    gene: str
    gene_id: str
    gene_text: str
    mechanism: str
    mechanism_text: str
    effect: str
    therapy: str
    therapy_class: str
    therapy_text: str
    therapy_scope: str
    cancer_type: str
    negated: bool
    hedged: bool
    evidence: str
    sentence_start: int
    sentence_end: int
    gene_start: int
    gene_end: int
    mechanism_start: int
    mechanism_end: int
    therapy_start: int
    therapy_end: int
    confidence: float
    extractor_version: str

    def knowledge_key(self) -> str:
        """What makes two triples say the same thing across papers (the review key)."""
        return knowledge_key(self.gene, self.mechanism, self.effect, self.therapy_class)

    def row_key(self) -> str:
        """One row per statement per sentence: re-extraction of the same text yields the same key."""
        return f"{self.pmid}:{self.sentence_id}:{self.gene}:{self.mechanism}:{self.effect}:{self.therapy}"

    def as_row(self) -> dict:
        return asdict(self)


TRIPLE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Triple))


def knowledge_key(gene: str, mechanism: str, effect: str, therapy_class: str) -> str:
    return "|".join((gene.upper(), mechanism.lower(), effect.lower(), therapy_class.lower()))
