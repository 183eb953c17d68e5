"""``resistmine bench``: throughput per stage and peak memory on PubMed XML, with reference points."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", nargs="+", metavar="FILE",
                        help="PubMed/MEDLINE XML (.xml/.xml.gz; default: the shared baseline sample)")
    parser.add_argument("--limit", type=int, metavar="N", help="use at most N abstracts")
    parser.add_argument("--processes", type=int, metavar="N",
                        help="processes for the all-cores run (default: every core)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="nlp.pipe batch size (default: batch_size of the config, as the bulk flow uses)")
    parser.add_argument("--repeat", type=int, default=3, help="time the fast stages N times, keep the best")
    parser.add_argument("--copies", type=int, default=1, metavar="N",
                        help="mine the corpus N times over, PMIDs renumbered: a larger input, so the "
                        "all-cores run is not dominated by starting its workers (default 1)")
    parser.add_argument("--warm-up", nargs="+", metavar="FILE", default=(),
                        help="PubMed XML or PubTator files to mine before a second first-sight run, as a "
                        "long run's pipeline has seen many abstracts (the corpus's own PMIDs are left out)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import InputError
    from pipeline.bench import format_report, run_bench

    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, not {args.limit}")
    if args.batch_size is not None and args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.copies < 1:
        raise InputError(f"--copies must be at least 1, not {args.copies}")
    if args.copies > 1 and args.warm_up:
        raise InputError("--warm-up and --copies do not go together: the copies repeat the same texts, "
                         "so nothing would be new after the warm-up")

    def progress(message: str) -> None:
        if not args.json:
            print(f"… {message}", file=sys.stderr, flush=True)

    report = run_bench(args.corpus, limit=args.limit, model=settings.model, n_process=args.processes,
                       batch_size=args.batch_size or settings.batch_size, repeat=args.repeat,
                       progress=progress, copies=args.copies,
                       warm_up=args.warm_up)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report))
    return 0
