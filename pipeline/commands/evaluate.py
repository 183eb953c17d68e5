"""``resistmine evaluate ner|triples``: measure extraction against gold files nobody here annotated."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from pipeline.config import Settings

NER_TYPES_HELP = ("PubTator types to score (default: every gene, chemical and disease type present); e.g. "
                  "GeneOrGeneProduct,ChemicalEntity or Gene or Chemical,Disease")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    ner = sub.add_parser("ner", help="mention P/R/F1 per type (strict, lenient) and gene normalisation")
    ner.add_argument("--gold", required=True, metavar="FILE.PubTator", help="gold PubTator file")
    ner.add_argument("--types", help=NER_TYPES_HELP)
    ner.add_argument("--limit", type=int, metavar="N", help="score only the first N documents")
    ner.add_argument("--model", help="spaCy/scispaCy model to build on (default from config: none)")
    ner.add_argument("--no-gene-model", action="store_true", help="leave out the trained gene tagger")
    ner.add_argument("--errors", type=int, default=0, metavar="N",
                     help="also list the N most frequent false positives/negatives per label")
    ner.add_argument("--json", action="store_true", help="print one JSON object")
    ner.set_defaults(_run=_run_ner)
    triples = sub.add_parser("triples", help="triple P/R/F1 against a gold TSV (see extractors.evaluation)")
    module = _triples_module()
    if module is not None:
        module.add_arguments(triples)
    else:
        triples.add_argument("rest", nargs=argparse.REMAINDER)
    triples.set_defaults(_run=_run_triples)


def _triples_module():
    try:
        return importlib.import_module("extractors.evaluation.triples")
    except ModuleNotFoundError as exc:
        if exc.name != "extractors.evaluation.triples":
            raise
        return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    return args._run(args, settings)


def _run_triples(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import ResistmineError

    module = _triples_module()
    if module is None:
        raise ResistmineError("triple evaluation is not installed (extractors.evaluation.triples)")
    return module.run(args, settings)


def _run_ner(args: argparse.Namespace, settings: Settings) -> int:
    from collections import Counter
    from pathlib import Path

    from corpus.errors import InputError
    from extractors.api import load_pipeline
    from extractors.evaluation.ner import TYPE_MAP, evaluate_ner

    gold = Path(args.gold)
    if not gold.is_file():
        raise InputError(f"gold file {gold} does not exist")
    types = [t.strip() for t in args.types.split(",")] if args.types else list(TYPE_MAP)
    unknown = [t for t in types if t not in TYPE_MAP]
    if unknown:
        known = ", ".join(TYPE_MAP)
        raise InputError(f"--types: unknown PubTator type(s) {', '.join(unknown)} (known: {known})")
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, not {args.limit}")
    nlp = load_pipeline(args.model or settings.model, relations=False, gene_model=not args.no_gene_model)
    report = evaluate_ner(gold, types=types, nlp=nlp, limit=args.limit, keep_errors=bool(args.errors))
    data = report.as_dict()
    data["pipeline"] = nlp.pipe_names
    if args.errors:
        top: dict[str, list] = {}
        for kind in ("fp", "fn", "norm"):
            for label in sorted({e["label"] for e in report.errors}):
                counts = Counter(e["text"] for e in report.errors
                                 if e["kind"] == kind and e["label"] == label)
                if counts:
                    top[f"{label}.{kind}"] = counts.most_common(args.errors)
        data["errors"] = top
    if args.json:
        print(json.dumps(data))
        return 0
    print(format_report(data))
    return 0


def format_report(data: dict) -> str:
    lines = [f"{data['gold']}: {data['documents']} documents, {data['abstracts_per_second']} abstracts/s",
             f"{'label':10} {'match':8} {'P':>7} {'R':>7} {'F1':>7} {'tp':>6} {'fp':>6} {'fn':>6}"]
    for label, modes in data["labels"].items():
        for mode, s in modes.items():
            lines.append(f"{label:10} {mode:8} {s['precision']:7.3f} {s['recall']:7.3f} {s['f1']:7.3f} "
                         f"{s['tp']:6d} {s['fp']:6d} {s['fn']:6d}")
    norm = data.get("gene_normalisation") or {}
    if norm.get("matched_with_ids"):
        lines.append(f"gene normalisation (NCBI Gene) on {norm['matched_with_ids']} matched spans: "
                     f"{norm['accuracy']:.3f}; human genes only ({norm['human_matched']}): "
                     f"{norm['human_accuracy']:.3f}")
    for key, items in data.get("errors", {}).items():
        lines.append(f"{key}: " + ", ".join(f"{text!r}×{n}" for text, n in items))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: resistmine evaluate ner --gold FILE")
