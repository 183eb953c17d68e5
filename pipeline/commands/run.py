"""``resistmine run``: the mining flow once (PubMed, offline, or baseline files through pipeline.bulk)."""

from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_eutils_arguments, add_out_argument, add_store_argument
from pipeline.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_argument(parser)
    add_out_argument(parser)
    add_eutils_arguments(parser)
    parser.add_argument(
        "--offline", action="store_true", help="no network: mine the store and the bundled corpus"
    )
    parser.add_argument("--query", help="PubMed query (default from config)")
    parser.add_argument("--mindate", help="first entry date YYYY/MM/DD (default: the last successful run)")
    parser.add_argument("--maxdate", help="last entry date YYYY/MM/DD (default: today)")
    parser.add_argument(
        "--max-records", type=int, help="at most this many PMIDs per run (default from config)"
    )
    parser.add_argument(
        "--wait-lock", type=float, default=0.0, metavar="SECONDS",
        help="wait this long for another run holding the store lock (default: exit at once)",
    )  # fmt: skip
    parser.add_argument("--no-prefect", action="store_true", help="run the steps directly, without Prefect")
    parser.add_argument("--files", nargs="+", metavar="FILE", help="mine PubMed baseline/update XML files")
    parser.add_argument("--dask-address", help="with --files: Dask scheduler to spread files over")
    parser.add_argument("--workers", type=int, help="with --files: start a local Dask cluster of N workers")
    parser.add_argument("--processes", type=int, metavar="N",
                        help="with --files: processes that share each file's abstracts on this machine "
                        "(default: n_process of the config)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import InputError

    settings = settings.with_overrides(
        query=args.query, mindate=args.mindate, maxdate=args.maxdate, max_records=args.max_records,
        n_process=args.processes,
    )
    if args.max_records is not None and args.max_records < 1:
        raise InputError("--max-records must be at least 1")
    if args.files:
        from pipeline.bulk import run_bulk

        summary = run_bulk(args.files, settings, dask_address=args.dask_address, workers=args.workers)
        print(summary)
        return 0
    if args.dask_address or args.workers is not None or args.processes is not None:
        raise InputError("--dask-address, --workers and --processes go with --files")

    from pipeline import mining
    from pipeline.progress import rich_progress

    with rich_progress() as reporter:
        token = mining.PROGRESS.set(reporter)
        try:
            if args.no_prefect:
                summary = mining.mine(settings, offline=args.offline, lock_wait=args.wait_lock)
                result = summary.counts()
            else:
                from pipeline.flows import mine

                result = mine(
                    offline=args.offline,
                    query=settings.query,
                    mindate=settings.mindate,
                    maxdate=settings.maxdate,
                    max_records=settings.max_records,
                    store=str(settings.store),
                    out=str(settings.out),
                    config=args.config,
                    lock_wait=args.wait_lock,
                )
        finally:
            mining.PROGRESS.reset(token)
    print(
        f"resistmine: {result['articles']} articles, {result['triples']} triples, {result['knowledge']} "
        f"knowledge rows ({result['new']} new) in {settings.out}; {result['extracted']} articles extracted"
    )
    if result["failed_pmids"]:
        failed = result["failed_pmids"]
        print(
            f"resistmine: error: {len(failed)} PMIDs could not be fetched and will be retried next run: "
            + ", ".join(failed[:10]) + (" …" if len(failed) > 10 else ""),
            file=sys.stderr,
        )  # fmt: skip
        from corpus.errors import FetchError

        return FetchError.exit_code
    return 0
