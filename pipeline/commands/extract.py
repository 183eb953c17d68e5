"""``resistmine extract PMID [PMID...]``: the triples of some articles, from the store, fetching if missing.

Articles missing from the store come from the bundled corpus, else from E-utilities (unless
``--offline``). When the store's run lock is free, fetched articles and new results are saved; while a
run holds it, extraction still works, in memory, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipeline.cli import add_eutils_arguments, add_out_argument, add_store_argument
from pipeline.config import Settings

SHOWN = (
    "pmid",
    "gene",
    "mechanism",
    "effect",
    "therapy",
    "therapy_class",
    "therapy_scope",
    "negated",
    "hedged",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pmids", nargs="+", metavar="PMID", help="PubMed IDs")
    add_store_argument(parser)
    add_out_argument(parser)
    add_eutils_arguments(parser)
    parser.add_argument(
        "--offline", action="store_true", help="never fetch: the store and bundled corpus only"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import FetchError, StoreError
    from corpus.pmids import validate_pmids
    from corpus.store import CorpusStore

    pmids = validate_pmids(args.pmids)
    store = CorpusStore(settings.store)
    try:
        try:
            with store.lock():
                results, missing = _collect(store, settings, pmids, args.offline, save=True)
                if args.out and not missing:
                    from pipeline.mining import write_tables

                    write_tables(store, settings.out)
        except StoreError as exc:
            if "lock" not in str(exc):
                raise
            print("resistmine: a run holds the store lock; extracting without saving", file=sys.stderr)
            results, missing = _collect(store, settings, pmids, args.offline, save=False)
    finally:
        store.close()
    triples = [t.as_row() for r in results for t in r.triples]
    if args.json:
        print(json.dumps({"pmids": pmids, "missing": missing, "triples": triples}, ensure_ascii=False))
    else:
        _print_table(results, triples)
    if missing:
        where = "in the store or the bundled corpus (offline)" if args.offline else "in PubMed"
        raise FetchError(f"PMID(s) not found {where}: {', '.join(missing)}", tuple(missing))
    return 0


def _collect(store: Any, settings: Settings, pmids: list[str], offline: bool, save: bool):
    from corpus.bundled import bundled_articles
    from extractors.api import EXTRACTOR_VERSION, extract_articles, load_pipeline

    articles = {a.pmid: a for a in store.iter_articles(pmids)}
    wanted = [p for p in pmids if p not in articles]
    if wanted:
        found = [a for a in bundled_articles() if a.pmid in wanted]
        if not offline and len(found) < len(wanted):
            from corpus.eutils import EutilsClient

            have = {a.pmid for a in found}
            client = EutilsClient.from_settings(settings)
            for batch in client.fetch([p for p in wanted if p not in have]):
                found.extend(batch)
        if save and found:
            store.upsert_articles(found, source="extract")
        articles.update((a.pmid, a) for a in found if a.pmid in wanted)
    stored = {
        r.pmid: r
        for r in store.iter_results([p for p in pmids if p in articles], extractor_version=EXTRACTOR_VERSION)
        if r.version == articles[r.pmid].version
    }
    todo = [articles[p] for p in pmids if p in articles and p not in stored]
    if todo:
        fresh = list(extract_articles(todo, nlp=load_pipeline(settings.model)))
        if save:
            store.save_results(fresh, extractor_version=EXTRACTOR_VERSION)
        stored.update((r.pmid, r) for r in fresh)
    results = [stored[p] for p in pmids if p in stored]
    return results, [p for p in pmids if p not in articles]


def _print_table(results: list[Any], triples: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)
    table = Table(title=f"{len(triples)} triples from {len(results)} article(s)", show_lines=True)
    for column in (*SHOWN, "evidence"):
        table.add_column(column, overflow="fold", max_width=60 if column == "evidence" else None)
    for row in triples:
        table.add_row(*(str(row[c]) for c in SHOWN), row["evidence"])
    console.print(table)
