"""spaCy components: lexicon recognisers that append ``Mention``s and the resolver that finishes them.

Each recogniser owns one label and one lexicon; the computing (``find_*``) is a plain function of the
text, the component only writes ``Doc._.mentions``.
"""

from __future__ import annotations

import re
from functools import cache

from spacy.language import Language
from spacy.tokens import Doc

from extractors.batching import BatchedPipe
from extractors.mentions import CANCER, CHEMICAL, GENE, THERAPY, Mention
from extractors.ner.abbreviations import ENTITY_LABELS, apply_abbreviations
from extractors.ner.build import disease_names, load_lexicons
from extractors.ner.matcher import LexiconSet, Scan
from extractors.ner.normalise import prepare as prepare_gene_lookups
from extractors.ner.normalise import resolve_gene
from extractors.ner.segment import PAIRS_KEY, doc_text
from extractors.ner.sources import MESH_CHEMICAL

_SLASHED = re.compile(r"/(\d{1,2}(?:/\d{1,2})*)(?![\w])")
_SYMBOL_DIGITS = re.compile(r"^(.*?[A-Za-z])(\d{1,2})$")
_SCAN_KEY = ("resistmine", "scan")  # shared by the recognisers, removed by the resolver
# Character ranges the trained gene model was run on (set by ``resistmine_gene_model``, removed here).
MODEL_SEEN_KEY = ("resistmine", "gene_model_seen")
# Short all-capitals forms (``NTG``, ``BLM``, ``CA1``, ``PA``): acronyms of anything, genes among them.
_ACRONYM = re.compile(r"[A-Z0-9][A-Z0-9-]{0,4}")
_MODEL_LABELS = {"GENE_OR_GENE_PRODUCT": GENE, "GENE": GENE, "PROTEIN": GENE, "SIMPLE_CHEMICAL": CHEMICAL,
                 "CHEMICAL": CHEMICAL, "CANCER": CANCER}


def ensure_extensions() -> None:
    from extractors.api import register_extensions

    register_extensions()


@cache
def lexicon_set() -> LexiconSet:
    """Every lexicon, matched with one walk of the text (``LexiconSet``)."""
    return LexiconSet(load_lexicons())


def find_mentions(text: str, label: str, scan: Scan | None = None) -> list[Mention]:
    """Lexicon mentions of one label in ``text`` (offsets into ``text``)."""
    mentions = []
    for hit in lexicon_set().find(label, text, scan):
        c = hit.concept
        score = 1.0 - 0.05 * hit.priority
        mentions.append(Mention(hit.start, hit.end, text[hit.start:hit.end], label, c.norm, c.ids, c.category,
                                f"lexicon:{label.lower()}", score))
    if label == GENE:
        mentions = expand_slashes(text, mentions)
    return mentions


def expand_slashes(text: str, mentions: list[Mention]) -> list[Mention]:
    """``JAK1/2`` → JAK1 and JAK2: one mention per gene, both spanning the whole ``JAK1/2``."""
    out = []
    for m in mentions:
        match = _SLASHED.match(text, m.end)
        stem = _SYMBOL_DIGITS.match(m.text)
        if not (match and stem):
            out.append(m)
            continue
        end = match.end()
        whole = text[m.start:end]
        genes = [(m.norm, m.ids, m.category)]
        for digits in match.group(1).split("/"):
            concept = resolve_gene(stem.group(1) + digits)
            if concept is None:
                break
            genes.append((concept.norm, concept.ids, concept.category))
        else:
            out.extend(Mention(m.start, end, whole, GENE, norm, ids, cat, m.source, m.score)
                       for norm, ids, cat in genes)
            continue
        out.append(m)
    return out


class _Recogniser(BatchedPipe):
    label = ""

    def __init__(self, nlp: Language, name: str) -> None:
        ensure_extensions()
        self.name = name
        lexicon_set()  # load the lexicons now, not on the first document

    def __call__(self, doc: Doc) -> Doc:
        scan = doc.user_data.get(_SCAN_KEY)
        if scan is None:
            scan = doc.user_data[_SCAN_KEY] = lexicon_set().scan(doc_text(doc))
        doc._.mentions.extend(find_mentions(scan.text, self.label, scan))
        return doc


@Language.factory("resistmine_genes")
class GeneRecogniser(_Recogniser):
    label = GENE


@Language.factory("resistmine_chemicals")
class ChemicalRecogniser(_Recogniser):
    label = CHEMICAL


@Language.factory("resistmine_therapies")
class TherapyRecogniser(_Recogniser):
    label = THERAPY


@Language.factory("resistmine_cancers")
class CancerRecogniser(_Recogniser):
    label = CANCER


@Language.factory("resistmine_model_entities")
class ModelEntities:
    """Entity spans of an installed scispaCy/spaCy NER model become candidates, normalised here."""

    def __init__(self, nlp: Language, name: str) -> None:
        ensure_extensions()

    def __call__(self, doc: Doc) -> Doc:
        for ent in doc.ents:
            label = _MODEL_LABELS.get(ent.label_.upper())
            if label is None:
                continue
            mention = Mention(ent.start_char, ent.end_char, ent.text, label, "", (), "", "model", 0.8)
            doc._.mentions.append(mention)
        return doc


@Language.factory("resistmine_resolve_mentions")
class ResolveMentions(BatchedPipe):
    """Normalise model mentions, apply abbreviations, resolve overlaps between entity labels, sort."""

    def __init__(self, nlp: Language, name: str) -> None:
        ensure_extensions()
        prepare_gene_lookups()  # now, not on the first document (see there)
        disease_names()

    def __call__(self, doc: Doc) -> Doc:
        scan = doc.user_data.pop(_SCAN_KEY, None)
        text = scan.text if scan is not None else doc_text(doc)
        seen = doc.user_data.pop(MODEL_SEEN_KEY, None)
        doc._.mentions = resolve(text, doc._.mentions, abbreviation_pairs(doc), seen)
        return doc


def abbreviation_pairs(doc: Doc) -> list[tuple[int, int, int, int]]:
    """Definition pairs from ``resistmine_abbreviations`` or, in a user's pipeline, scispaCy's detector."""
    if PAIRS_KEY in doc.user_data:
        return doc.user_data[PAIRS_KEY]
    if not Doc.has_extension("abbreviations") or not doc._.abbreviations:
        return []
    pairs = []
    for short in doc._.abbreviations:
        if isinstance(short, dict):  # scispaCy's make_serializable form (token offsets)
            s, lf = doc[short["short_start"]:short["short_end"]], doc[short["long_start"]:short["long_end"]]
        else:
            s, lf = short, short._.long_form
        if lf is not None:
            pairs.append((s.start_char, s.end_char, lf.start_char, lf.end_char))
    return pairs


def resolve(text: str, mentions: list[Mention], pairs: list[tuple[int, int, int, int]] = (),
            model_seen: list[tuple[int, int]] | None = None) -> list[Mention]:
    """The finished mention list: normalised, abbreviation-aware, non-overlapping per entity, sorted.

    ``model_seen``: the character ranges the trained gene model read (None: it did not run); there a
    lexicon-only acronym the model did not tag is dropped (``rejected_acronyms``).
    """
    if model_seen:
        rejected = rejected_acronyms(mentions, model_seen)
        if rejected:
            mentions = [m for m in mentions if id(m) not in rejected]
    normalised = []
    for m in mentions:
        if m.source == "model" and m.label == GENE and not m.ids:
            concept = resolve_gene(m.text)
            if concept is not None:
                m = Mention(m.start, m.end, m.text, m.label, concept.norm, concept.ids, concept.category,
                            m.source, m.score)
            elif not m.norm:
                m = Mention(m.start, m.end, m.text, m.label, m.text, (), "gene", m.source, m.score)
        elif m.source == "model" and not m.norm:
            m = Mention(m.start, m.end, m.text, m.label, m.text, m.ids, m.category, m.source, m.score)
        normalised.append(m)
    normalised = apply_abbreviations(text, normalised, pairs)
    entities = _unnamed_genes_yield([m for m in normalised if m.label in ENTITY_LABELS])
    others = [m for m in normalised if m.label not in ENTITY_LABELS]
    kept = _non_overlapping(entities) + _dedupe(others)
    kept.sort(key=lambda m: (m.start, m.end, m.label, m.norm))
    return kept


def rejected_acronyms(mentions: list[Mention], model_seen: list[tuple[int, int]]) -> set[int]:
    """``id()``s of lexicon GENE mentions that are short all-capitals forms (``NTG``, ``BLM``), lie where
    the gene model read the text, and overlap none of its GENE mentions: the model saw the context and
    said no. On the held-out slice of BioRED train (lexicon tuned without it) this removed 29 false
    positives in 10 of its 40 abstracts (13 in one) and lost no true one; longer and lower-case lexicon
    forms the model passes over are right too often to drop (dropping all: strict F1 0.766 vs 0.793)."""
    model = [m for m in mentions if m.label == GENE and m.source == "model"]
    out = set()
    for m in mentions:
        if m.label != GENE or not m.source.startswith("lexicon") or not _ACRONYM.fullmatch(m.text):
            continue
        if not any(c.isalpha() for c in m.text) or any(c.overlaps(m) for c in model):
            continue
        if any(start <= m.start and m.end <= end for start, end in model_seen):
            out.add(id(m))
    return out


def _unnamed_genes_yield(mentions: list[Mention]) -> list[Mention]:
    """Drop the GENE mentions no gene lexicon could name (the model's, and abbreviations of them) whose
    exact span the chemical lexicon names as a MeSH chemical: by a name, or through an abbreviation the
    text defines (``nitroglycerin (NTG)``). Not a bare acronym (``ETO``, ``TCR`` are genes too), and not
    a DrugBank drug, whose biologics (``thymosin beta 4``, ``rhBMP-2``) gene corpora count as genes."""
    chemical_spans = {
        (m.start, m.end) for m in mentions
        if m.label == CHEMICAL and m.ids and m.category == MESH_CHEMICAL
        and (m.source == "abbreviation" or not _ACRONYM.fullmatch(m.text))
    }
    return [m for m in mentions if not (m.label == GENE and not m.ids and (m.start, m.end) in chemical_spans)]


_LABEL_RANK = {GENE: 0, CANCER: 1, CHEMICAL: 2}


def _non_overlapping(mentions: list[Mention]) -> list[Mention]:
    """Longest span wins; same span: lexicon over model, gene over cancer over chemical. Same-span
    mentions of one label with different concepts (``JAK1/2``) are all kept."""
    ordered = sorted(mentions, key=lambda m: (m.start - m.end, _LABEL_RANK[m.label], m.source == "model",
                                              -m.score, m.start))
    chosen: list[Mention] = []
    for m in ordered:
        clash = [c for c in chosen if c.overlaps(m)]
        if not clash:
            chosen.append(m)
        elif all(c.start == m.start and c.end == m.end and c.label == m.label and c.source == m.source
                 and c.norm != m.norm for c in clash):
            chosen.append(m)
    return chosen


def _dedupe(mentions: list[Mention]) -> list[Mention]:
    """Same label: keep the longest of overlapping spans (recognisers may both fire, e.g. model + lexicon)."""
    by_label: dict[str, list[Mention]] = {}
    for m in mentions:
        by_label.setdefault(m.label, []).append(m)
    out = []
    for group in by_label.values():
        chosen: list[Mention] = []
        for m in sorted(group, key=lambda m: (m.start - m.end, -m.score, m.start)):
            if not any(c.overlaps(m) and (c.start, c.end) != (m.start, m.end) or
                       (c.start, c.end, c.norm) == (m.start, m.end, m.norm) for c in chosen):
                chosen.append(m)
        out.extend(chosen)
    return out


