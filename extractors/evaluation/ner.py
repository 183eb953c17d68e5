"""NER evaluation against PubTator gold: P/R/F1 per label, strict and lenient, gene normalisation accuracy.

Gold types are mapped to our labels by ``TYPE_MAP``; predictions are deduplicated by span (``JAK1/2``
gives one predicted span with two genes). Normalisation accuracy counts strictly matched gene spans whose
gold carries NCBI Gene IDs, correct when a predicted ``NCBIGene`` id is among them; it is also reported on
the subset whose gold IDs are human genes (HGNC), since BioRED normalises mouse genes to mouse IDs.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.article import Article
from extractors.evaluation.pubtator import PubtatorDocument, read_pubtator
from extractors.mentions import CANCER, CHEMICAL, GENE, Mention

TYPE_MAP: dict[str, str] = {
    "GeneOrGeneProduct": GENE,  # BioRED
    "Gene": GENE,  # GNormPlus, NLM-Gene
    "ChemicalEntity": CHEMICAL,  # BioRED
    "Chemical": CHEMICAL,  # BC5CDR
    "DiseaseOrPhenotypicFeature": CANCER,  # BioRED (we recognise the neoplasm subset)
    "Disease": CANCER,  # BC5CDR
    "SpecificDisease": CANCER,  # NCBI disease
    "DiseaseClass": CANCER,
    "CompositeMention": CANCER,
    "Modifier": CANCER,
}


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(p, 4), "recall": round(r, 4),
                "f1": round(f, 4)}


@dataclass
class NerReport:
    gold_file: str
    documents: int
    strict: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    lenient: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    norm_total: int = 0
    norm_correct: int = 0
    norm_human_total: int = 0
    norm_human_correct: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        labels = sorted(set(self.strict) | set(self.lenient))
        return {
            "gold": self.gold_file,
            "documents": self.documents,
            "labels": {
                label: {"strict": self.strict[label].scores(), "lenient": self.lenient[label].scores()}
                for label in labels
            },
            "gene_normalisation": {
                "matched_with_ids": self.norm_total,
                "correct": self.norm_correct,
                "accuracy": round(self.norm_correct / self.norm_total, 4) if self.norm_total else None,
                "human_matched": self.norm_human_total,
                "human_accuracy": (round(self.norm_human_correct / self.norm_human_total, 4)
                                   if self.norm_human_total else None),
            },
            "seconds": round(self.seconds, 2),
            "abstracts_per_second": round(self.documents / self.seconds, 1) if self.seconds else None,
            # CPU time of this process: the per-core rate, less disturbed by other jobs on the machine
            "abstracts_per_cpu_second": (round(self.documents / self.cpu_seconds, 1)
                                         if self.cpu_seconds else None),
        }


def gold_spans(doc: PubtatorDocument, types: Iterable[str]) -> dict[str, dict[tuple[int, int], set[str]]]:
    wanted = set(types)
    out: dict[str, dict[tuple[int, int], set[str]]] = defaultdict(dict)
    for m in doc.mentions:
        if m.type in wanted and m.type in TYPE_MAP:
            out[TYPE_MAP[m.type]].setdefault((m.start, m.end), set()).update(m.ids)
    return out


def predicted_spans(mentions: Iterable[Mention], labels: Iterable[str],
                    ) -> dict[str, dict[tuple[int, int], set]]:
    wanted = set(labels)
    out: dict[str, dict[tuple[int, int], set[str]]] = defaultdict(dict)
    for m in mentions:
        if m.label in wanted:
            out[m.label].setdefault((m.start, m.end), set()).update(m.ids)
    return out


def score_document(report: NerReport, doc: PubtatorDocument, mentions: list[Mention], labels: set[str],
                   human_ncbi: set[str], keep_errors: bool = False,
                   types: Iterable[str] | None = None) -> None:
    types = [t for t, label in TYPE_MAP.items() if label in labels] if types is None else types
    gold = gold_spans(doc, types)
    pred = predicted_spans(mentions, labels)
    text = doc.text
    for label in labels:
        g, p = gold.get(label, {}), pred.get(label, {})
        strict, lenient = report.strict[label], report.lenient[label]
        matched = set(g) & set(p)
        strict.tp += len(matched)
        strict.fp += len(set(p) - matched)
        strict.fn += len(set(g) - matched)
        lenient.tp += sum(1 for s in g if any(_overlap(s, q) for q in p))
        lenient.fn += sum(1 for s in g if not any(_overlap(s, q) for q in p))
        lenient.fp += sum(1 for q in p if not any(_overlap(s, q) for s in g))
        if keep_errors:
            for s in sorted(set(p) - matched):
                report.errors.append({"pmid": doc.pmid, "label": label, "kind": "fp", "span": s,
                                      "text": text[s[0]:s[1]], "ids": sorted(p[s])})
            for s in sorted(set(g) - matched):
                report.errors.append({"pmid": doc.pmid, "label": label, "kind": "fn", "span": s,
                                      "text": text[s[0]:s[1]], "ids": sorted(g[s])})
        if label != GENE:
            continue
        for span in matched:
            gold_ids = {i for i in g[span] if i.isdigit()}
            if not gold_ids:
                continue
            ours = {i.split(":", 1)[1] for i in p[span] if i.startswith("NCBIGene:")}
            correct = bool(ours & gold_ids)
            report.norm_total += 1
            report.norm_correct += correct
            if gold_ids & human_ncbi:
                report.norm_human_total += 1
                report.norm_human_correct += correct
            if keep_errors and not correct:
                report.errors.append({"pmid": doc.pmid, "label": label, "kind": "norm", "span": span,
                                      "text": text[span[0]:span[1]], "ids": sorted(ours),
                                      "gold_ids": sorted(gold_ids)})


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def human_ncbi_ids() -> set[str]:
    from extractors.ner.sources import hgnc_rows

    return {r["NCBI Gene ID(supplied by NCBI)"] for r in hgnc_rows() if r["NCBI Gene ID(supplied by NCBI)"]}


def evaluate_ner(gold: Path | str, types: Iterable[str] | None = None, nlp=None, limit: int | None = None,
                 keep_errors: bool = False, batch_size: int = 32) -> NerReport:
    """Run the pipeline over the gold file's texts and score the labels of the gold ``types`` present."""
    from extractors.api import extract_articles, load_pipeline

    docs = list(read_pubtator(gold))[:limit]
    present = {m.type for d in docs for m in d.mentions}
    types = set(TYPE_MAP if types is None else types) & present
    labels = {TYPE_MAP[t] for t in types}
    nlp = nlp or load_pipeline(relations=False)
    report = NerReport(str(Path(gold).name), len(docs))
    articles = [Article(pmid=d.pmid, title=d.title, abstract=d.abstract) for d in docs]
    human = human_ncbi_ids() if GENE in labels else set()
    started, cpu_started = time.perf_counter(), time.process_time()
    results = list(extract_articles(articles, nlp=nlp, batch_size=batch_size))
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu_started
    for doc, result in zip(docs, results, strict=True):
        score_document(report, doc, list(result.mentions), labels, human, keep_errors, types)
    return report


