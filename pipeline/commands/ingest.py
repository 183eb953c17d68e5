"""``resistmine ingest FILE...``: load PubMed XML (.xml/.xml.gz), MEDLINE text or abstract exports.

Each file is reported on one line with its counts; a broken file gets one error line naming it, the
other files still load, and the exit code is 2. Files already ingested unchanged are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli import add_store_argument
from pipeline.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="PubMed XML (.xml, .xml.gz), MEDLINE text, export"
    )
    add_store_argument(parser)
    parser.add_argument(
        "--force", action="store_true", help="re-read files already ingested (changes nothing)"
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="records per transaction (default 1000)")
    parser.add_argument(
        "--wait-lock", type=float, default=0.0, metavar="SECONDS",
        help="wait this long for another run holding the store lock (default: exit at once)",
    )  # fmt: skip


def run(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from corpus.errors import InputError, ResistmineError
    from corpus.ingest import ingest_file
    from corpus.store import CorpusStore, UpsertStats

    if args.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, not {args.batch_size}")
    store = CorpusStore(settings.store)
    console = Console(stderr=True)
    total = UpsertStats()
    failed = 0
    with store.lock(wait=args.wait_lock):
        progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"),
            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
        )  # fmt: skip
        with progress:
            for name in args.files:
                path = Path(name)
                task = progress.add_task(path.name, total=None)
                try:
                    outcome = ingest_file(
                        store, path, batch_size=args.batch_size, force=args.force,
                        on_batch=lambda n, task=task: progress.update(task, completed=n),
                    )  # fmt: skip
                except ResistmineError as exc:
                    failed += 1
                    progress.remove_task(task)
                    print(f"resistmine: error: {exc}", file=sys.stderr, flush=True)
                    continue
                progress.remove_task(task)
                if outcome.skipped:
                    print(f"{path}: already ingested, skipped (use --force to re-read)")
                    continue
                total += outcome.stats
                notes = []
                if outcome.without_abstract:
                    notes.append(f"{outcome.without_abstract} without abstract")
                if outcome.not_english:
                    notes.append(f"{outcome.not_english} not in English")
                extra = f"; {', '.join(notes)}" if notes else ""
                print(
                    f"{path}: {outcome.records} records ({outcome.format}): {_counts(outcome.stats)}{extra}"
                )
    if len(args.files) > 1:
        print(f"total: {_counts(total)}; store holds {store.count()} articles")
    if failed:
        print(f"resistmine: error: {failed} of {len(args.files)} file(s) failed", file=sys.stderr)
        return InputError.exit_code
    return 0


def _counts(stats) -> str:
    text = f"{stats.inserted} inserted, {stats.updated} updated, {stats.unchanged} unchanged"
    text += f", {stats.deleted} deleted"
    if stats.older:
        text += f", {stats.older} older than stored (ignored)"
    return text
