"""Gene – mechanism – therapy triples from mentions: the surface-pattern relation extractor.

Pure functions over (text, sentences, mentions); the spaCy component in ``component.py`` only gathers
those from the Doc and adds negation/hedging. The steps:

1. **Units** — a gene in a stated state: a mechanism word bound to a gene by position (``loss of PTEN``,
   ``PTEN loss``, ``EGFR-mutated``, ``ATM-/-``, ``PD-1 and PD-L1 blockade``, ``Lower PRDM2 expression``),
   a gene-targeting therapy mention (``indoleamine 2, 3-dioxygenase inhibitors``), or a gene that is the
   subject of a verb governing a cue (``Star-PAP sensitized cells to chemotherapy``; mechanism
   ``expression``).
2. **Effect** — the nearest resistance cue in the unit's clause, else in its sentence; a sentence that only
   says ``are also involved`` takes the effect of the sentence before. What a cue means depends on the unit:
   a drug acting on the gene that sensitises or combines is a countermeasure, a genetic state a sensitivity.
3. **Therapy** — the therapy mention nearest the cue in the clause or sentence, else the therapy the cue
   word names (``chemoresistance``), else the abstract's dominant therapy (``therapy_scope = "abstract"``).
4. **Clean-up** — one row per statement per sentence; the fallback mechanism ``expression`` is dropped where
   the abstract states a specific mechanism for the same gene and effect.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from extractors.mentions import CANCER, CHEMICAL, GENE, MECHANISM, RESISTANCE_CUE, THERAPY, Mention
from extractors.relations.syntax import Syntax
from extractors.relations.vocab import cue_vocabulary, drug_class
from extractors.triples import OTHER_THERAPY_CLASS, Triple

RELATIONS_VERSION = "relations-0.1"

# Reliability of each way of finding a unit, cue and therapy; the product is the triple's confidence.
# Measured on the development gold set (tests/extractors/gold/triples_dev.tsv), rounded.
UNIT_RELIABILITY = {"suffix": 0.9, "prefix": 0.9, "modifier": 0.85, "therapy": 0.85, "agent": 0.6}
CUE_RELIABILITY = {"clause": 1.0, "sentence": 0.8, "anaphora": 0.75}
THERAPY_RELIABILITY = {"sentence": 1.0, "implied": 0.95, "abstract": 0.85}

# Generic therapy names that the abstract's dominant therapy refines when it is one of their kinds.
GENERIC_THERAPIES = {
    "immunotherapy": {
        "immune checkpoint blockade",
        "cell therapy",
        "cancer vaccine",
        "oncolytic therapy",
        "innate immune agonist",
    },
}

_LIST_GAP = re.compile(r"^(?:\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s+and/or\s+|\s*/\s*)$")
_NOUNS = r"(?:gene|genes|protein|proteins|mRNA|kinase|receptor|pathway|signal(?:l)?ing|transcripts?)"
_SUFFIX_GAP = re.compile(
    # an abbreviation in brackets may stand between: "phosphatase and tensin homolog (PTEN) loss"
    rf"^(?:\s*\([^()]{{1,20}}\))?(?:|-|\s+|\s+{_NOUNS}\s+|\s+{_NOUNS}\s+{_NOUNS}\s+|\s+[A-Z]\d{{2,4}}[A-Z]?\s+"
    r"|\s+(?:is|are|was|were)(?:\s+(?:found|shown|reported|frequently|often|highly|also|significantly|"
    r"markedly|strongly|commonly|consistently|not))*(?:\s+to\s+be)?\s+)$"
)
_PREFIX_GAP = re.compile(
    r"^\s+(?:of|in|for|on|within)\s+"
    r"(?:(?:the|a|an|human|mouse|murine|endogenous|mutant|wild-type|both|its|their|this|these|gene|genes|"
    r"protein|cellular|tumou?r|somatic|germline)\s+){0,3}(?:[\w\-/]+,\s+){0,2}$"
)
_VERB_PREFIX_GAP = re.compile(r"^\s+(?:(?:the|of)\s+)?$")
_VERB_MECHANISMS = re.compile(
    r"^(?:knock-?downs?|knocking down|targeting|inhibiting|blocking|silencing|depleting|"
    r"genetically depleting|"
    r"(?:pharmacologic(?:al)?(?:ly)? )?inactivating|expressing|over-?expressing|lowering)\b",
    re.IGNORECASE,
)
# "OPRM1-mediated pathway", "Atm-dependent apoptosis": the gene qualifies another noun and has no state.
_GENE_AS_MODIFIER = re.compile(
    r"^-(?:mediated|dependent|independent|induced|related|associated|regulated|driven|targeted|binding|"
    r"specific|positive|negative|expressing|interacting|like)\b"
)
_MODIFIER_TAIL = re.compile(
    r"^\s*(?:gene\s+)?(?:mRNA\s+|protein\s+)?(?:expression|levels?|activity|copy number)\b"
)
# Words that put an abstract in oncology, beyond the cancer names NER finds (``tumours``, ``malignant``).
_CANCER_TOPIC = re.compile(
    r"cancer|tumou?r|carcinom|neoplas|malignan|oncolog|leuka?emi|lymphoma|melanoma|sarcoma|gliom|myelom|"
    r"metasta|blastoma|mesothelioma|chemotherap|radiotherap|immunotherap",
    re.IGNORECASE,
)
# Segments end at ";" and at a full stop followed by a capitalised word that the sentence segmenter kept
# inside the sentence ("... et al. Genetic mutations such as ..."); clauses also end at contrast words.
_SEGMENT_BREAK = re.compile(r";\s*|(?<=[a-z]\.)\s+(?=[A-Z][a-z])")
_CLAUSE_BREAK = re.compile(
    r",?\s+(?:whereas|while|although|though)\s+|;\s*|(?<=[a-z]\.)\s+(?=[A-Z][a-z])"
    # "but" opens a new clause unless a verb follows: "X had no efficacy alone but enhanced ..." shares X
    r"|,?\s+but\s+(?!(?:also\s+|rather\s+)?[a-z]+(?:ed|es)\b)"
    r"|,\s+and\s+(?:this|these|that|it)\s+|,?\s+and\s+that\s+"
    r"|,?\s+(?:indicating|suggesting|showing|demonstrating|confirming|implying)\s+that\s+"
)
_SUBJECT_PREFIX = re.compile(
    r"(?:^|\bthat\s+|\bwhether\s+|,\s+)(?:(?:the|The|a|an|ectopic|exogenous|endogenous|human|mouse|only)\s+)?$"
)
_AGENT_VERB = re.compile(
    r"^\s*(?:\([^)]{0,40}\)\s*)?(?:,[^,]{0,60},\s*)?(?:also\s+|further\s+|thereby\s+|significantly\s+|"
    r"strongly\s+|directly\s+|not\s+only\s+)?"
    r"(?:confer|induc|promot|mediat|sensiti|render|caus|contribut|driv|enhanc|increas|reduc|decreas|regulat|"
    r"protect|play|determin|modulat|inhibit|suppress|activat|lead|led|result|augment|attenuat|impair|restor|"
    r"predict|correlat|associat|involv|requir|is\b|are\b|was\b|were\b|has\b|have\b|endow|render|gain|"
    r"show|exhibit|display)",
    re.IGNORECASE,
)
_OBJECT_OF_CUE = re.compile(
    r"(?:resistan\w*|sensitiv\w*|susceptib\w*|respon\w*|refractory)\s+to\s+(?:the\s+)?$", re.I
)
_THERAPY_TARGET = re.compile(
    r"^(?:anti-?(?P<anti>.+?)(?:\s+(?:monoclonal\s+)?(?:antibod(?:y|ies)|mAbs?))?"
    r"|(?:blockade|inhibition)\s+of\s+(?P<of>.+?)(?:\s+pathway)?"
    r"|(?P<pre>.+?)(?:\s+pathway)?[\s-]+(?P<word>inhibitors?|inhibition|blockade|blockers?|antagonists?|agonists?))$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Unit:
    """A gene in a stated state: the left half of a triple."""

    gene: Mention
    mechanism: str
    mechanism_text: str
    mechanism_start: int
    mechanism_end: int
    kind: str  # genetic | drug | level | agent
    how: str  # key of UNIT_RELIABILITY


@dataclass(frozen=True, slots=True)
class TherapyChoice:
    norm: str
    therapy_class: str
    text: str
    start: int
    end: int
    scope: str  # sentence | abstract
    how: str  # key of THERAPY_RELIABILITY


def _abstract_therapy(dominant: Mention) -> TherapyChoice:
    """The abstract's dominant therapy, for a statement whose own sentence names none (or a generic one)."""
    return TherapyChoice(
        dominant.norm, dominant.category, dominant.text, dominant.start, dominant.end, "abstract", "abstract"
    )


ContextFn = Callable[[int, int], tuple[bool, bool]]
GeneNormaliser = Callable[[str], "tuple[str, tuple[str, ...], str] | None"]


def _no_context(start: int, end: int) -> tuple[bool, bool]:
    return False, False


def triple_genes(mentions: Iterable[Mention]) -> list[Mention]:
    """The gene mentions a triple can name: an HGNC gene; families and mentions no lexicon could normalise
    (no ids) take no part."""
    return [m for m in mentions if m.label == GENE and m.norm and m.ids and m.category != "family"]


def extract_triples(
    text: str,
    sentences: Sequence[tuple[int, int]],
    mentions: Sequence[Mention],
    pmid: str = "",
    *,
    context: ContextFn = _no_context,
    normalise_gene: GeneNormaliser | None = None,
    extractor_version: str = RELATIONS_VERSION,
    syntax: Syntax | None = None,
) -> list[Triple]:
    """All triples stated in ``text``. ``sentences`` are (start, end) character spans in order;
    ``context(start, end)`` says whether a span is negated and whether it is hedged; ``syntax``, when
    given, answers the subject/object questions from a dependency parse instead of word order."""
    genes = triple_genes(mentions)
    if not genes:  # most abstracts: nothing to relate
        return []
    sents = [Sentence(i, s, e) for i, (s, e) in enumerate(sentences)] or [Sentence(0, 0, len(text))]
    all_genes = [m for m in mentions if m.label == GENE]
    therapies = [m for m in mentions if m.label == THERAPY and m.norm]
    # Drugs come as CHEMICAL mentions without a therapy class; they stand in for therapies, after them.
    drugs = [
        Mention(m.start, m.end, m.text, THERAPY, m.norm.lower(), m.ids, drug_class(m.text, m.norm), m.source)
        for m in mentions
        if m.label == CHEMICAL and m.norm and not any(t.overlaps(m) for t in therapies)
    ]
    cancers = [m for m in mentions if m.label == CANCER and m.norm]
    mechanisms = [m for m in mentions if m.label == MECHANISM]
    cancers_all = [m for m in mentions if m.label == CANCER]
    cues = [
        m
        for m in mentions
        if m.label == RESISTANCE_CUE
        and m.category != "process"
        and not any(c.overlaps(m) for c in cancers_all)
    ]  # "castration-resistant prostate cancer" names a disease, it states no resistance
    dominant = _dominant_therapy(therapies) or _dominant_therapy(drugs)
    therapies = sorted(therapies + drugs, key=lambda m: (m.start, m.end))
    dominant_cancer = _dominant(cancers)
    triples: list[Triple] = []
    effect_cues = [c for c in cues if c.norm in ("resistance", "sensitivity")]
    for sent in sents:
        s_genes = [
            g
            for g in genes
            if sent.start <= g.start and g.end <= sent.end and not _in_pathway_name(text, g, all_genes)
        ]
        s_cues = [c for c in cues if sent.start <= c.start and c.end <= sent.end]
        s_therapies = [t for t in therapies if sent.start <= t.start and t.end <= sent.end]
        s_mechs = [m for m in mechanisms if sent.start <= m.start and m.end <= sent.end]
        has_resistance = any(c.norm == "resistance" for c in s_cues)
        s_cues = [c for c in s_cues if c.category != "needs_resistance" or has_resistance]
        s_cues = [c for c in s_cues if c.norm != "conditional" or s_therapies]
        s_all_genes = [g for g in all_genes if sent.start <= g.start and g.end <= sent.end]
        units = _units(text, s_genes, s_mechs, s_therapies, normalise_gene, s_all_genes)
        units = _drop_objects(text, sent, units, s_all_genes + s_therapies, syntax)
        units += _agent_units(text, sent, s_genes, s_cues, s_therapies, units, syntax)
        window_start = sents[sent.index - 1].start if sent.index > 0 else sent.start
        for unit in units:
            segment_start = _clause_bounds(text, sent, unit.gene.start, _SEGMENT_BREAK)[0]
            before = [c for c in effect_cues if window_start <= c.start and c.end <= segment_start]
            previous_effect = before[-1].norm if before else None
            triple = _triple_for(
                text,
                pmid,
                sent,
                unit,
                units,
                s_cues,
                s_therapies,
                cancers,
                dominant,
                dominant_cancer,
                previous_effect,
                context,
                extractor_version,
            )
            if triple is not None:
                triples.append(triple)
    triples = _clean(triples)
    unclassed = [t for t in triples if t.therapy_class == OTHER_THERAPY_CLASS]
    # resistmine mines cancer therapy. Where an abstract is not about cancer, a chemical of no known
    # anticancer class (capsaicin, glucose, house dust) is another field's exposure, not a therapy. (The
    # topic pattern takes ~0.2 ms an abstract, so it is asked only when it could drop something.)
    if unclassed and not cancers_all and not _CANCER_TOPIC.search(text):
        triples = [t for t in triples if t.therapy_class != OTHER_THERAPY_CLASS]
    return triples


# --- units -------------------------------------------------------------------------------------------


def _inside(inner: Mention | Unit, outer: Mention) -> bool:
    start, end = (
        (inner.start, inner.end) if isinstance(inner, Mention) else (inner.gene.start, inner.gene.end)
    )
    return outer.start <= start and end <= outer.end


def _gene_lists(text: str, genes: list[Mention]) -> list[list[Mention]]:
    """Adjacent genes joined by commas, ``and``, ``or`` or ``/`` (``JAK1/2`` gives two genes on one span)."""
    groups: list[list[Mention]] = []
    for gene in sorted(genes, key=lambda g: (g.start, g.end)):
        if groups:
            last = groups[-1][-1]
            if gene.start <= last.end or _LIST_GAP.match(text[last.end : gene.start]):
                groups[-1].append(gene)
                continue
        groups.append([gene])
    return groups


def _in_pathway_name(text: str, gene: Mention, all_genes: list[Mention] | None) -> bool:
    """``PI3K-AKT``, ``RAS/MAPK``: a gene joined by "-" or "/" to a gene family names a pathway."""
    for other in all_genes or ():
        if other.category != "family" or other is gene:
            continue
        if 0 < gene.start - other.end <= 1 and text[other.end : gene.start] in "-/":
            return True
        if 0 < other.start - gene.end <= 1 and text[gene.end : other.start] in "-/":
            return True
    return False


def _mechanism_kind(mechanism: Mention) -> tuple[str, str]:
    attach, _, kind = mechanism.category.partition(":")
    return attach or "either", kind or "genetic"


def _units(
    text: str,
    genes: list[Mention],
    mechanisms: list[Mention],
    therapies: list[Mention],
    normalise_gene: GeneNormaliser | None,
    all_genes: list[Mention] | None = None,
) -> list[Unit]:
    units: list[Unit] = []
    target_therapies = [t for t in therapies if _THERAPY_TARGET.match(t.text)]
    for group in _gene_lists(text, genes):
        group_end = max(g.end for g in group)
        group_start = min(g.start for g in group)
        for gene in group:
            if any(_inside(gene, t) for t in target_therapies):
                continue  # the therapy rule below reads these
            if _GENE_AS_MODIFIER.match(text[gene.end : gene.end + 16]) or _in_pathway_name(
                text, gene, all_genes
            ):
                continue
            candidates: list[tuple[int, int, Unit]] = []
            for mech in mechanisms:
                attach, kind = _mechanism_kind(mech)
                how = None
                if gene.start < mech.start and mech.end == gene.end:
                    if attach in ("suffix", "either"):
                        how = "suffix"  # the gene mention took its suffix along: "FLT3-ITD"
                elif mech.start >= gene.end:
                    if attach in ("suffix", "either"):
                        ends = (gene.end, group_end) if mech.start >= group_end else (gene.end,)
                        if any(_SUFFIX_GAP.match(text[end : mech.start]) for end in ends):
                            how = "suffix"
                elif mech.end <= gene.start:
                    if attach in ("prefix", "either"):
                        for start in (gene.start, group_start):
                            gap = text[mech.end : start]
                            if _PREFIX_GAP.match(gap) or (
                                _VERB_MECHANISMS.match(mech.text) and _VERB_PREFIX_GAP.match(gap)
                            ):
                                how = "prefix"
                                break
                    elif attach == "modifier" and not text[mech.end : gene.start].strip():
                        if _MODIFIER_TAIL.match(text[group_end:]):
                            how = "modifier"
                if how is None:
                    continue
                distance = mech.start - gene.end if mech.start >= gene.end else gene.start - mech.end
                rank = 1 if mech.norm == "expression" else 0
                candidates.append(
                    (rank, abs(distance), Unit(gene, mech.norm, mech.text, mech.start, mech.end, kind, how))
                )
            if candidates:
                candidates.sort(key=lambda c: (c[0], c[1]))
                best = candidates[0][2]
                units.append(best)
                units.extend(_coordinated_mechanisms(text, best, mechanisms))
    units.extend(_therapy_units(text, genes, target_therapies, normalise_gene, all_genes or genes))
    refined = []
    for unit in units:
        after = text[unit.gene.end : unit.gene.end + 80]
        if unit.how == "prefix" and _READOUT.match(after):
            continue  # "inhibition of prolactin (PRL) secretion": a readout, not a state of the gene
        if unit.mechanism in ("downregulation", "expression") and _METHOD_OF_SILENCING.match(after):
            unit = Unit(
                unit.gene,
                "silencing",
                unit.mechanism_text,
                unit.mechanism_start,
                unit.mechanism_end,
                unit.kind,
                unit.how,
            )  # "Lowering IGF1R expression via siRNA"
        refined.append(unit)
    return refined


_MECHANISM_COORDINATION = re.compile(r"^\s*(?:,|or|and|and/or|,\s*or|,\s*and)\s*$")
_METHOD_OF_SILENCING = re.compile(
    r"^\s*(?:expression\s+|levels?\s+)?(?:via|using|by|with)\s+(?:an?\s+)?(?:small interfering RNAs?|siRNAs?|"
    r"short hairpin RNAs?|shRNAs?|RNA interference|RNAi)\b",
    re.IGNORECASE,
)
_READOUT = re.compile(
    r"^\s*(?:\([^)]{1,15}\)\s*)?(?:secretion|production|release|phosphorylation|ubiquitination|"
    r"ubiquitylation|degradation|translocation|accumulation|transcription)\b",
    re.IGNORECASE,
)


def _coordinated_mechanisms(text: str, unit: Unit, mechanisms: list[Mention]) -> list[Unit]:
    """Coordinated mechanisms share the gene: "genetically depleting or pharmacologically inactivating
    Skp2" (prefixes) and "Sesn2 deletion or knockdown" (suffixes) each name a state of the gene."""
    extra = []
    if unit.how == "prefix":
        start = unit.mechanism_start
        for mech in sorted(mechanisms, key=lambda m: -m.start):
            if mech.end <= start and _MECHANISM_COORDINATION.match(text[mech.end : start]):
                attach, kind = _mechanism_kind(mech)
                if attach in ("prefix", "either"):
                    extra.append(Unit(unit.gene, mech.norm, mech.text, mech.start, mech.end, kind, "prefix"))
                    start = mech.start
    elif unit.how == "suffix":
        end = unit.mechanism_end
        for mech in sorted(mechanisms, key=lambda m: m.start):
            if mech.start >= end and _MECHANISM_COORDINATION.match(text[end : mech.start]):
                attach, kind = _mechanism_kind(mech)
                if attach in ("suffix", "either") and mech.norm != "expression":
                    extra.append(Unit(unit.gene, mech.norm, mech.text, mech.start, mech.end, kind, "suffix"))
                    end = mech.end
    return extra


def _therapy_units(
    text: str,
    genes: list[Mention],
    therapies: list[Mention],
    normalise_gene: GeneNormaliser | None,
    all_genes: list[Mention],
) -> list[Unit]:
    """Units from therapies naming their target: ``IDO inhibitors``, ``blockade of TIM-3``, ``anti-TIM-3``."""
    units = []
    for therapy in therapies:
        match = _THERAPY_TARGET.match(therapy.text)
        if match is None:
            continue
        word = (match.group("word") or "").lower()
        mechanism = "activation" if word.startswith("agonist") else "inhibition"
        inner = [g for g in genes if _inside(g, therapy)]
        named = any(_inside(g, therapy) for g in all_genes)  # families too: "blockade of PI3K-AKT"
        if not named and normalise_gene is not None:
            target = match.group("anti") or match.group("of") or match.group("pre") or ""
            start = therapy.start + therapy.text.find(target) if target else therapy.start
            normalised = normalise_gene(target) if target else None
            if normalised is not None and normalised[2] != "family":
                symbol, ids, category = normalised
                inner = [
                    Mention(
                        start, start + len(target), target, GENE, symbol, tuple(ids), category, "relations"
                    )
                ]
        group = next(g for g in ("word", "anti", "of") if match.group(g) is not None)
        if group == "word":
            m_start, m_end = therapy.start + match.start("word"), therapy.start + match.end("word")
        elif group == "anti":
            m_start, m_end = therapy.start, therapy.start + len("anti")
        else:
            m_start = therapy.start
            m_end = therapy.start + len(therapy.text.split()[0])
        for gene in inner:
            units.append(Unit(gene, mechanism, text[m_start:m_end], m_start, m_end, "drug", "therapy"))
    return units


def _clause_bounds(text: str, sent: Sentence, position: int, breaks: re.Pattern[str]) -> tuple[int, int]:
    start, end = sent.start, sent.end
    for match in breaks.finditer(text, sent.start, sent.end):
        if match.end() <= position:
            start = max(start, match.end())
        elif match.start() >= position:
            end = min(end, match.start())
            break
    return start, end


def _drop_objects(
    text: str, sent: Sentence, units: list[Unit], subjects: list[Mention], syntax: Syntax | None = None
) -> list[Unit]:
    """Units inside the predicate of another subject are that subject's objects, not the cue's agent:
    "Myc enhances B-cell receptor signaling ... and confers resistance" speaks of Myc."""
    if syntax is not None:
        return [u for u in units if not syntax.is_object_of_subject(u.gene, subjects)]
    kept = []
    for unit in units:
        start = _unit_span(unit)[0]
        c_start, _ = _clause_bounds(text, sent, start, _CLAUSE_BREAK)
        is_object = False
        for subject in subjects:
            if subject.end > start or subject.start < c_start or subject.overlaps(unit.gene):
                continue
            if not _SUBJECT_PREFIX.search(text[c_start : subject.start]):
                continue
            verb = _AGENT_VERB.match(text[subject.end : start])
            if verb is not None:
                is_object = True
                break
        if not is_object:
            kept.append(unit)
    return kept


def _agent_units(
    text: str,
    sent: Sentence,
    genes: list[Mention],
    cues: list[Mention],
    therapies: list[Mention],
    units: list[Unit],
    syntax: Syntax | None = None,
) -> list[Unit]:
    """Genes that are the subject of a verb whose clause holds a cue: mechanism ``expression``."""
    taken = {id(u.gene) for u in units} | {(u.gene.start, u.gene.end) for u in units}
    effect_cues = [c for c in cues if c.norm in ("resistance", "sensitivity", "reversal", "combination")]
    if not effect_cues:
        return []
    agents = []
    for group in _gene_lists(text, genes):
        group_end = max(g.end for g in group)
        first = group[0]
        if any((g.start, g.end) in taken for g in group) or any(_inside(first, t) for t in therapies):
            continue
        if _GENE_AS_MODIFIER.match(text[group_end : group_end + 16]):
            continue
        c_start, c_end = _clause_bounds(text, sent, first.start, _CLAUSE_BREAK)
        near = [c for c in effect_cues if group_end <= c.start < min(c_end, group_end + 160)]
        if syntax is not None:
            if not any(syntax.is_subject_of(first, c) for c in near):
                continue
        elif not (
            near
            and _SUBJECT_PREFIX.search(text[c_start : first.start])
            and _AGENT_VERB.match(text[group_end:c_end])
        ):
            continue
        for gene in group:
            agents.append(Unit(gene, "expression", gene.text, gene.start, gene.end, "agent", "agent"))
    return agents


# --- effect, therapy, triple -------------------------------------------------------------------------


_DRUG_TARGET = re.compile(
    r"(?:inhibitors?|inhibition|blockade|blockers?|antagonists?|agonists?|antibod(?:y|ies)|targeting)"
    r"\s+(?:of|against|to|for)?\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_COMPARED = re.compile(r"(?:compared (?:to|with)|than|versus|vs\.?|relative to)\s+(?:\S+\s+){0,3}$")
_COORDINATED = re.compile(r"^\s*(?:,|and|or|/|,\s*and|,\s*or|as well as)?\s*$")


def _unit_span(unit: Unit) -> tuple[int, int]:
    return min(unit.gene.start, unit.mechanism_start), max(unit.gene.end, unit.mechanism_end)


def _blocked(text: str, unit: Unit, cue: Mention, units: list[Unit]) -> bool:
    """A cue speaks of the nearest unit (or list of units) on its side: "ATM-/- cells are hypersensitive
    ..., correlating with a defective up-regulation of p53" binds ATM, not p53."""
    start, end = _unit_span(unit)
    low, high = (end, cue.start) if cue.start >= end else (cue.end, start)
    between = sorted(
        (
            _unit_span(v)
            for v in units
            if v is not unit and low <= _unit_span(v)[0] and _unit_span(v)[1] <= high
        ),
    )
    if not between:
        return False
    # blocked unless the units between form one coordinated list with this unit
    chain = [(start, end), *between] if cue.start >= end else [*between, (start, end)]
    chain.sort()
    return any(
        b[0] > a[1] and not _COORDINATED.match(text[a[1] : b[0]])
        for a, b in zip(chain, chain[1:], strict=False)
    )


def _effect(cue_effect: str, unit: Unit, cue: Mention) -> str | None:
    drug = unit.kind == "drug"
    if cue_effect == "resistance":
        return None if drug else "resistance"
    if cue_effect == "sensitivity":
        return "countermeasure" if drug else "sensitivity"
    if cue_effect == "reversal":
        return "countermeasure" if drug else "sensitivity"
    if cue_effect == "combination":
        if drug:
            return "countermeasure"
        return "sensitivity" if cue.text.lower().startswith("synerg") else None
    if cue_effect == "association":
        return "association"
    return None


def _nearest(mentions: list[Mention], start: int, end: int) -> Mention | None:
    best = None
    best_distance = None
    for m in mentions:
        distance = (
            0 if (m.start < end and start < m.end) else (start - m.end if m.end <= start else m.start - end)
        )
        if best_distance is None or distance < best_distance:
            best, best_distance = m, distance
    return best


def _dominant(mentions: list[Mention]) -> Mention | None:
    if not mentions:
        return None
    counts = Counter(m.norm for m in mentions)
    top = max(counts.values())
    return next(m for m in mentions if counts[m.norm] == top)


def _dominant_therapy(therapies: list[Mention]) -> Mention | None:
    """The abstract's main therapy: the most mentioned class, generic names counting only when alone."""
    specific = [t for t in therapies if t.norm not in GENERIC_THERAPIES] or therapies
    if not specific:
        return None
    counts = Counter(t.category for t in specific)
    top = max(counts.values())
    return next(t for t in specific if counts[t.category] == top)


def _choose_therapy(
    text: str,
    sent: Sentence,
    cue: Mention,
    unit: Unit,
    therapies: list[Mention],
    dominant: Mention | None,
) -> TherapyChoice | None:
    usable = [
        t
        for t in therapies
        if not (t.start < unit.mechanism_end and unit.mechanism_start < t.end) and not _inside(unit.gene, t)
    ]
    c_start, c_end = _clause_bounds(text, sent, cue.start, _SEGMENT_BREAK)
    in_segment = [t for t in usable if c_start <= t.start and t.end <= c_end]
    chosen = _nearest(in_segment, cue.start, cue.end)
    entry = cue_vocabulary().entry_for(cue.text)
    if chosen is not None:
        generic = GENERIC_THERAPIES.get(chosen.norm)
        if generic and dominant is not None and dominant.category in generic:
            return _abstract_therapy(dominant)
        return TherapyChoice(
            chosen.norm, chosen.category, chosen.text, chosen.start, chosen.end, "sentence", "sentence"
        )
    if entry is not None and entry.implied_therapy:
        return TherapyChoice(
            entry.implied_therapy, entry.implied_class, cue.text, cue.start, cue.end, "sentence", "implied"
        )
    if dominant is not None and not (
        dominant.start < unit.mechanism_end and unit.mechanism_start < dominant.end
    ):
        return _abstract_therapy(dominant)
    return None


def _triple_for(
    text: str,
    pmid: str,
    sent: Sentence,
    unit: Unit,
    units: list[Unit],
    cues: list[Mention],
    therapies: list[Mention],
    cancers: list[Mention],
    dominant: Mention | None,
    dominant_cancer: Mention | None,
    previous_effect: str | None,
    context: ContextFn,
    extractor_version: str,
) -> Triple | None:
    if unit.kind == "drug" and _OBJECT_OF_CUE.search(text[sent.start : _unit_span(unit)[0]]):
        return None  # "resistance to EGFR inhibitors": the drug is the therapy, not a state of the gene
    position = unit.gene.start
    clause = _clause_bounds(text, sent, position, _CLAUSE_BREAK)
    if _COMPARED.search(text[clause[0] : _unit_span(unit)[0]]):
        return None  # "compared to OPRM1-depleted cells": the reference group, not the finding
    if unit.kind != "drug" and _DRUG_TARGET.search(text[clause[0] : _unit_span(unit)[0]]):
        return None  # "inhibitors of BCR signaling": the gene names a drug's target
    effect_cues = [
        c
        for c in cues
        if c.norm in ("resistance", "sensitivity", "reversal", "combination", "association", "conditional")
        and clause[0] <= c.start
        and c.end <= clause[1]
        and not _blocked(text, unit, c, units)
    ]
    cue = _nearest(effect_cues, position, unit.gene.end)
    how = "clause"
    segment = _clause_bounds(text, sent, position, _SEGMENT_BREAK)
    cue_effect = None
    if cue is not None:
        cue_effect = "resistance" if cue.norm == "conditional" else cue.norm
    else:
        anaphora = [c for c in cues if c.norm == "anaphora" and segment[0] <= c.start and c.end <= segment[1]]
        if anaphora and previous_effect is not None and unit.kind != "agent":
            cue, cue_effect, how = anaphora[0], previous_effect, "anaphora"
    if cue is None or cue_effect is None:
        return None
    effect = _effect(cue_effect, unit, cue)
    if effect is None:
        return None
    therapy = _choose_therapy(text, sent, cue, unit, therapies, dominant)
    if therapy is None:
        return None
    cancer = _nearest([c for c in cancers if sent.start <= c.start and c.end <= sent.end], position, position)
    cancer = cancer or dominant_cancer
    negated_cue, hedged_cue = context(cue.start, cue.end)
    negated_mech, hedged_mech = context(unit.mechanism_start, unit.mechanism_end)
    confidence = UNIT_RELIABILITY[unit.how] * CUE_RELIABILITY[how] * THERAPY_RELIABILITY[therapy.how]
    gene = unit.gene
    gene_id = next((i for i in gene.ids if i.startswith("HGNC:")), gene.ids[0] if gene.ids else "")
    return Triple(
        pmid=pmid,
        sentence_id=sent.index,
        gene=gene.norm,
        gene_id=gene_id,
        gene_text=gene.text,
        mechanism=unit.mechanism,
        mechanism_text=unit.mechanism_text,
        effect=effect,
        therapy=therapy.norm,
        therapy_class=therapy.therapy_class,
        therapy_text=therapy.text,
        therapy_scope=therapy.scope,
        cancer_type=cancer.norm if cancer else "",
        negated=negated_cue or negated_mech,
        hedged=hedged_cue or hedged_mech,
        evidence=text[sent.start : sent.end],
        sentence_start=sent.start,
        sentence_end=sent.end,
        gene_start=gene.start,
        gene_end=gene.end,
        mechanism_start=unit.mechanism_start,
        mechanism_end=unit.mechanism_end,
        therapy_start=therapy.start,
        therapy_end=therapy.end,
        confidence=round(min(1.0, max(0.0, confidence)), 3),
        extractor_version=extractor_version,
    )


def _clean(triples: list[Triple]) -> list[Triple]:
    best: dict[str, Triple] = {}
    for triple in triples:
        key = triple.row_key()
        if key not in best or triple.confidence > best[key].confidence:
            best[key] = triple
    specific = {(t.gene, t.effect) for t in best.values() if t.mechanism != "expression"}
    kept = [t for t in best.values() if t.mechanism != "expression" or (t.gene, t.effect) not in specific]
    return sorted(kept, key=lambda t: (t.sentence_id, t.gene_start, t.mechanism_start, t.effect))
