"""``resistmine fetch [PMID...] [--query Q]``: fetch citations from E-utilities into the store.

PMIDs are checked before any request (``abc``, ``-1`` or 20 digits are refused with exit code 2).
Only PMIDs not yet stored are fetched (``--refresh`` fetches all again), so after a failed batch
(exit code 3, the missing PMIDs named) the same command picks up exactly what is missing.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_eutils_arguments, add_store_argument
from pipeline.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pmids", nargs="*", metavar="PMID", help="PubMed IDs to fetch")
    parser.add_argument("--query", help="PubMed query whose results to fetch")
    parser.add_argument("--mindate", help="with --query: first date, YYYY[/MM[/DD]]")
    parser.add_argument("--maxdate", help="with --query: last date, YYYY[/MM[/DD]]")
    parser.add_argument(
        "--datetype", choices=("edat", "pdat", "mdat", "crdt"), help="date field (default edat)"
    )
    parser.add_argument(
        "--max-records", type=int, help="with --query: at most this many PMIDs (default 10000)"
    )
    parser.add_argument("--refresh", action="store_true", help="fetch PMIDs already stored again")
    add_store_argument(parser)
    add_eutils_arguments(parser)
    parser.add_argument(
        "--wait-lock", type=float, default=0.0, metavar="SECONDS",
        help="wait this long for another run holding the store lock (default: exit at once)",
    )  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import FetchError, InputError
    from corpus.eutils import EutilsClient
    from corpus.pmids import validate_pmids
    from corpus.store import CorpusStore, UpsertStats

    pmids = validate_pmids(args.pmids)
    if not pmids and not args.query:
        raise InputError("give PMIDs or --query")
    if (args.mindate or args.maxdate or args.max_records is not None) and not args.query:
        raise InputError("--mindate, --maxdate and --max-records go with --query")
    if args.max_records is not None and args.max_records < 1:
        raise InputError(f"--max-records must be at least 1, not {args.max_records}")
    client = EutilsClient.from_settings(settings)
    store = CorpusStore(settings.store)
    with store.lock(wait=args.wait_lock):
        wanted = list(pmids)
        if args.query:
            result = client.search(
                args.query, mindate=args.mindate, maxdate=args.maxdate,
                datetype=args.datetype or settings.datetype,
                max_records=args.max_records if args.max_records is not None else settings.max_records,
            )  # fmt: skip
            for warning in result.warnings:
                print(f"resistmine: warning: {warning}", file=sys.stderr)
            print(f"search: {result.count} records match, {len(result.pmids)} PMIDs taken")
            wanted = list(dict.fromkeys([*wanted, *result.pmids]))
        todo = wanted if args.refresh else store.missing(wanted)
        if len(todo) < len(wanted):
            print(f"{len(wanted) - len(todo)} PMIDs already stored (use --refresh to fetch them again)")
        stats = UpsertStats()
        try:
            for batch in client.fetch(todo):
                stats += store.upsert_articles(batch, source="eutils", query=args.query)
        except FetchError:
            print(f"fetched before the failure: {_counts(stats)}")
            raise
        finally:
            if client.not_found:
                shown = ", ".join(client.not_found[:20]) + (" ..." if len(client.not_found) > 20 else "")
                count = len(client.not_found)
                message = f"PubMed has no record for {count} PMID(s): {shown}"
                print(f"resistmine: warning: {message}", file=sys.stderr)
    print(f"fetched: {_counts(stats)}; store holds {store.count()} articles")
    if todo and client.not_found and len(client.not_found) == len(todo):
        raise InputError(f"none of the {len(todo)} PMID(s) exists in PubMed")
    return 0


def _counts(stats) -> str:
    return f"{stats.inserted} inserted, {stats.updated} updated, {stats.unchanged} unchanged"
