"""The ``resistmine`` command: one subcommand per module in ``pipeline.commands``.

Each command module exposes ``add_arguments(parser)`` and ``run(args, settings) -> int`` and imports
heavy libraries (spaCy, Prefect) inside ``run`` so that ``resistmine --help`` stays fast. Errors derived
from ``ResistmineError`` become one line on stderr and the error's exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from corpus.errors import ResistmineError
from pipeline.config import load_settings

# subcommand -> (module in pipeline.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the mining flow: search, fetch, extract, write tables"),
    "extract": ("extract", "extract triples for PMIDs (from the store, fetching if missing)"),
    "ingest": ("ingest", "load PubMed/MEDLINE XML, MEDLINE text or abstract exports into the store"),
    "fetch": ("fetch", "fetch PMIDs or a query from E-utilities into the store"),
    "serve": ("serve", "serve the flow on a schedule through a Prefect server"),
    "review": ("review", "list pending knowledge rows and summarise review decisions"),
    "evaluate": ("evaluate", "measure NER or triple extraction against a gold file"),
    "bench": ("bench", "measure throughput and memory on PubMed XML"),
    "train": ("train", "retrain the project's models from the shared corpora"),
}

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resistmine",
        description="Mine PubMed for gene – mechanism – therapy triples on why cancer immunotherapy fails "
        "and what overcomes it.",
        epilog="Exit codes: 0 ok, 2 bad input, 3 E-utilities failed, 4 store locked or unreadable, "
        "5 unreadable knowledge.csv, 130 interrupted.",
    )
    parser.add_argument(
        "--config", help="TOML config file (default: ./resistmine.toml or $RESISTMINE_CONFIG)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(f"pipeline.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipeline.commands.{module_name}":
                raise
            continue
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="corpus store directory (default from config)")


def add_out_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="output directory for tables (default from config)")


def add_eutils_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--eutils-url", help="E-utilities base URL (default $RESISTMINE_EUTILS_URL or NCBI)")
    parser.add_argument("--email", help="contact e-mail sent to NCBI (default $NCBI_EMAIL)")


def main(argv: Sequence[str] | None = None) -> int:
    # Prefect's usage telemetry is off unless the user turns it on: runs are often offline, and its
    # heartbeat races the ephemeral server's first writes on a cold PREFECT_HOME ("database is locked").
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            args.config,
            store=getattr(args, "store", None),
            out=getattr(args, "out", None),
            eutils_url=getattr(args, "eutils_url", None),
            email=getattr(args, "email", None),
        )
        return int(args._module.run(args, settings) or 0)
    except ResistmineError as exc:
        print(f"resistmine: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("resistmine: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
