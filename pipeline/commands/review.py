"""``resistmine review``: the review state of knowledge.csv — counts per status and the pending rows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli import add_out_argument
from pipeline.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_out_argument(parser)
    parser.add_argument("--limit", type=int, default=50, help="show at most N pending rows (default 50)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import InputError
    from outputs.review import summarize
    from outputs.tables import KNOWLEDGE_CSV

    path = Path(settings.out) / KNOWLEDGE_CSV
    if not path.is_file():
        raise InputError(f"{path} does not exist; run `resistmine run` first")
    counts, pending = summarize(path)
    if args.json:
        print(json.dumps({"file": str(path), "counts": counts, "pending": pending}, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)
    shown = pending[: max(args.limit, 0)]
    table = Table(title=f"pending rows in {path} ({len(shown)} of {len(pending)} shown)")
    for column in ("key", "status", "n_articles", "score", "evidence"):
        table.add_column(column, overflow="fold", max_width=70 if column == "evidence" else None)
    for row in shown:
        table.add_row(row["key"], row.get("status", ""), row.get("n_articles", ""), row.get("score", ""),
                      row.get("evidence", ""))  # fmt: skip
    console.print(table)
    total = sum(counts.values())
    console.print(
        f"{total} knowledge rows: " + ", ".join(f"{n} {status}" for status, n in counts.items())
        + ". Edit review_status (pending/accepted/rejected) and review_note in the file; reruns keep them."
    )  # fmt: skip
    return 0
