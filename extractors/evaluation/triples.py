"""``resistmine evaluate triples --gold FILE.tsv [--json]``: extracted triples against a curated gold set.

Scores two levels: the statement ``(pmid, gene, mechanism, effect)`` — the target of issue 4 — and the
full triple, which adds the therapy class. Negation and hedging are compared on the matched statements.
Every false positive and false negative is listed, with the evidence sentence, so errors can be read.

The gold TSV names PMIDs and offsets only (``tests/extractors/gold/README.md``); texts come from the
PubTator or PubMed XML file in its ``source`` column (relative to ``--data``, by default ``../shared/data``
beside the repository), else from the bundled corpus, else from the corpus store.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus.article import Article
from corpus.errors import InputError
from extractors.triples import EFFECTS, MECHANISMS, Triple

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
REQUIRED_COLUMNS = ("pmid", "gene", "mechanism", "effect")
_TRUE = {"true", "1", "yes", "y"}

Key = tuple[str, str, str, str]
FullKey = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class GoldTriple:
    pmid: str
    gene: str
    mechanism: str
    effect: str
    therapy: str = ""
    therapy_class: str = ""
    gene_text: str = ""
    gene_start: int | None = None
    gene_end: int | None = None
    mechanism_text: str = ""
    negated: bool = False
    hedged: bool = False

    @property
    def key(self) -> Key:
        return (self.pmid, self.gene.upper(), self.mechanism, self.effect)

    @property
    def full_key(self) -> FullKey:
        return (*self.key, (self.therapy_class or self.therapy).lower())


@dataclass
class GoldSet:
    """The abstracts of a gold file (with the PubTator file each comes from) and their triples."""

    path: Path
    sources: dict[str, str] = field(default_factory=dict)
    triples: list[GoldTriple] = field(default_factory=list)


def read_gold(path: Path | str) -> GoldSet:
    """Rows with an empty ``gene`` declare an abstract in which a curator reads no triple."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"cannot read gold file {path}: {exc.strerror}") from None
    gold = GoldSet(path)
    with handle:
        reader = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"gold file {path} lacks columns: {', '.join(missing)}")
        for number, row in enumerate(reader, 2):
            pmid = (row.get("pmid") or "").strip()
            if not pmid.isdigit():
                raise InputError(f"{path}:{number}: bad PMID {pmid!r}")
            gold.sources.setdefault(pmid, (row.get("source") or "").strip())
            if not (row.get("gene") or "").strip():
                continue
            gold.triples.append(_gold_triple(path, number, pmid, row))
    if not gold.sources:
        raise InputError(f"gold file {path} has no rows")
    return gold


def _gold_triple(path: Path, number: int, pmid: str, row: dict[str, str]) -> GoldTriple:
    mechanism, effect = row["mechanism"].strip(), row["effect"].strip()
    if mechanism not in MECHANISMS or effect not in EFFECTS:
        raise InputError(f"{path}:{number}: unknown mechanism {mechanism!r} or effect {effect!r}")

    def offset(name: str) -> int | None:
        value = (row.get(name) or "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise InputError(f"{path}:{number}: bad {name} {value!r}")
        return int(value)

    return GoldTriple(
        pmid=pmid,
        gene=row["gene"].strip(),
        mechanism=mechanism,
        effect=effect,
        therapy=(row.get("therapy") or "").strip(),
        therapy_class=(row.get("therapy_class") or "").strip(),
        gene_text=(row.get("gene_text") or "").strip(),
        gene_start=offset("gene_start"),
        gene_end=offset("gene_end"),
        mechanism_text=(row.get("mechanism_text") or "").strip(),
        negated=(row.get("negated") or "").strip().lower() in _TRUE,
        hedged=(row.get("hedged") or "").strip().lower() in _TRUE,
    )


def load_articles(gold: GoldSet, data_dir: Path, store: Path | None = None) -> list[Article]:
    """The gold abstracts, in gold order; gold offsets are checked against the texts."""
    found: dict[str, Article] = {}
    by_source: dict[str, set[str]] = {}
    for pmid, source in gold.sources.items():
        if source:
            by_source.setdefault(source, set()).add(pmid)
    for source, pmids in by_source.items():
        path = data_dir / source
        if not path.is_file():
            raise InputError(f"gold source {path} not found (pass --data DIR, the folder holding {source})")
        for article in _read_source(path):
            if article.pmid in pmids and article.pmid not in found:
                found[article.pmid] = article
    missing = [p for p in gold.sources if p not in found]
    if missing:
        from corpus.bundled import bundled_articles

        for article in bundled_articles():
            if article.pmid in missing:
                found[article.pmid] = article
    missing = [p for p in gold.sources if p not in found]
    if missing and store is not None and Path(store).exists():
        from corpus.store import CorpusStore

        corpus = CorpusStore(store)
        for pmid in missing:
            article = corpus.get(pmid)
            if article is not None:
                found[pmid] = article
    missing = [p for p in gold.sources if p not in found]
    if missing:
        raise InputError(
            f"no text for gold PMIDs {', '.join(missing[:10])} (not in the sources, bundle or store)"
        )
    for triple in gold.triples:
        if triple.gene_start is None or triple.gene_end is None:
            continue
        text = found[triple.pmid].text
        if text[triple.gene_start : triple.gene_end] != triple.gene_text:
            raise InputError(
                f"{gold.path}: PMID {triple.pmid}: gene offsets {triple.gene_start}-{triple.gene_end} do not "
                f"hold {triple.gene_text!r} in the text"
            )
    return [found[p] for p in gold.sources]


def _read_source(path: Path) -> Iterable[Article]:
    """Articles of a PubTator file, or of PubMed/MEDLINE XML (``.xml``, ``.xml.gz``) as the flow reads it."""
    if path.name.endswith((".xml", ".xml.gz")):
        from corpus.pubmed_xml import iter_pubmed_xml

        for record in iter_pubmed_xml(path):
            if isinstance(record, Article):
                yield record
        return
    from extractors.evaluation.pubtator import read_pubtator

    for doc in read_pubtator(path):
        yield Article(pmid=doc.pmid, title=doc.title, abstract=doc.abstract, source=path.name)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def score(gold: GoldSet, predicted: Iterable[Triple]) -> dict:
    """Precision, recall and F1 at both levels, flag agreement and the error listing (plain data)."""
    pmids = set(gold.sources)
    predicted = [t for t in predicted if t.pmid in pmids]
    gold_keys = {t.key for t in gold.triples}
    gold_full = {t.full_key for t in gold.triples}
    pred_by_key: dict[Key, list[Triple]] = {}
    for t in predicted:
        pred_by_key.setdefault((t.pmid, t.gene.upper(), t.mechanism, t.effect), []).append(t)
    pred_full = {(*k, t.therapy_class.lower()) for k, ts in pred_by_key.items() for t in ts}
    pred_full |= {(*k, t.therapy.lower()) for k, ts in pred_by_key.items() for t in ts if not t.therapy_class}
    # a statement found with several therapies is right at the full level when one of them is
    full_tp = {k for k in gold_full if k in pred_full}
    full_fp = {k for k in pred_full if k not in gold_full and k[:4] not in {g[:4] for g in full_tp}}
    matched = gold_keys & set(pred_by_key)
    negated_agree = sum(
        any(g.negated for g in gold.triples if g.key == k) == any(t.negated for t in pred_by_key[k])
        for k in matched
    )
    hedged_agree = sum(
        any(g.hedged for g in gold.triples if g.key == k) == any(t.hedged for t in pred_by_key[k])
        for k in matched
    )
    errors = []
    for key in sorted(set(pred_by_key) - gold_keys):
        t = max(pred_by_key[key], key=lambda x: x.confidence)
        errors.append(
            {
                "error": "false_positive",
                "pmid": key[0],
                "gene": key[1],
                "mechanism": key[2],
                "effect": key[3],
                "gene_text": t.gene_text,
                "mechanism_text": t.mechanism_text,
                "therapy": t.therapy,
                "confidence": t.confidence,
                "evidence": t.evidence,
            }
        )
    for key in sorted(gold_keys - set(pred_by_key)):
        g = next(x for x in gold.triples if x.key == key)
        errors.append(
            {
                "error": "false_negative",
                "pmid": key[0],
                "gene": key[1],
                "mechanism": key[2],
                "effect": key[3],
                "gene_text": g.gene_text,
                "mechanism_text": g.mechanism_text,
                "therapy": g.therapy,
                "gene_start": g.gene_start,
            }
        )
    return {
        "gold": str(gold.path),
        "abstracts": len(pmids),
        "gold_statements": len(gold_keys),
        "predicted_statements": len(pred_by_key),
        "statement": _prf(len(matched), len(set(pred_by_key) - gold_keys), len(gold_keys - set(pred_by_key))),
        "full": _prf(len(full_tp), len(full_fp), len(gold_full - full_tp)),
        "flags": {"matched": len(matched), "negated_agree": negated_agree, "hedged_agree": hedged_agree},
        "errors": errors,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", required=True, help="gold TSV (pmid, source, gene, mechanism, effect, ...)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--data", help="folder the gold 'source' paths are relative to (default ../shared/data)"
    )
    parser.add_argument(
        "--model", help="spaCy/scispaCy model to build the pipeline on (default: blank English)"
    )
    parser.add_argument(
        "--parser",
        help="relation extraction's parser: auto (the model's, if any), none (surface patterns), or a spaCy "
        "model such as en_core_web_sm",
    )
    try:
        parser.add_argument("--store", help="corpus store to read gold texts from when not in --data")
    except argparse.ArgumentError:
        pass  # the evaluate command already offers --store


def run(args: argparse.Namespace, settings: object | None = None) -> int:
    from extractors.api import extract_articles, load_pipeline

    gold = read_gold(args.gold)
    data_dir = Path(args.data) if getattr(args, "data", None) else DEFAULT_DATA
    store = getattr(args, "store", None) or getattr(settings, "store", None)
    articles = load_articles(gold, data_dir, Path(store) if store else None)
    parser = getattr(args, "parser", None)
    if parser:
        from extractors.pipeline import build_pipeline

        nlp = build_pipeline(getattr(args, "model", None))
        if "resistmine_relations" in nlp.pipe_names:
            nlp.replace_pipe("resistmine_relations", "resistmine_relations", config={"parser": parser})
    else:
        nlp = load_pipeline(getattr(args, "model", None))
    if "resistmine_relations" not in nlp.pipe_names:
        raise InputError(
            "the pipeline has no resistmine_relations component (is extractors.relations importable?)"
        )
    predicted = [
        t if t.pmid else replace(t, pmid=result.pmid)  # a pipeline that does not set Doc._.pmid
        for result in extract_articles(articles, nlp)
        for t in result.triples
    ]
    report = score(gold, predicted)
    if getattr(args, "json", False):
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_report(report)
    return 0


def _print_report(report: dict, out=None) -> None:
    out = out or sys.stdout
    print(
        f"gold: {report['gold']}  abstracts: {report['abstracts']}  gold statements: "
        f"{report['gold_statements']}  predicted: {report['predicted_statements']}",
        file=out,
    )
    print(f"{'level':<34}{'P':>8}{'R':>8}{'F1':>8}{'TP':>6}{'FP':>6}{'FN':>6}", file=out)
    for name, label in (("statement", "(pmid, gene, mechanism, effect)"), ("full", "+ therapy class")):
        r = report[name]
        print(
            f"{label:<34}{r['precision']:>8.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}{r['tp']:>6}{r['fp']:>6}"
            f"{r['fn']:>6}",
            file=out,
        )
    flags = report["flags"]
    print(
        f"negation agrees on {flags['negated_agree']}/{flags['matched']} matched statements, "
        f"hedging on {flags['hedged_agree']}/{flags['matched']}",
        file=out,
    )
    for e in report["errors"]:
        tag = "FP" if e["error"] == "false_positive" else "FN"
        print(
            f"{tag} {e['pmid']} {e['gene']} {e['mechanism']} {e['effect']}  "
            f"[{e['gene_text']} | {e['mechanism_text']} | {e['therapy']}]",
            file=out,
        )
        if e.get("evidence"):
            print(f"     {e['evidence'][:220]}", file=out)
