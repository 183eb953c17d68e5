"""``resistmine serve``: run the ``mine`` flow on a schedule through a Prefect server.

Each scheduled run is incremental: it asks PubMed only for records entered since the last successful
run (kept in the store). The process serves until interrupted (Ctrl-C or SIGTERM), then stops the local
Prefect server it started, if any.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from pipeline.cli import add_eutils_arguments, add_out_argument, add_store_argument
from pipeline.config import Settings

DEPLOYMENT_NAME = "resistmine-mine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_argument(parser)
    add_out_argument(parser)
    add_eutils_arguments(parser)
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--cron", help='cron schedule, e.g. "0 6 * * 1" (Mondays 06:00; the default)')
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS instead")
    parser.add_argument("--query", help="PubMed query (default from config)")
    parser.add_argument("--max-records", type=int, help="at most this many PMIDs per run")
    parser.add_argument("--offline", action="store_true", help="scheduled runs mine the store only")
    parser.add_argument(
        "--name", default=DEPLOYMENT_NAME, help=f"deployment name (default {DEPLOYMENT_NAME})"
    )
    parser.add_argument("--port", type=int, help="port of the local Prefect server, if one is started")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from corpus.errors import InputError

    if args.interval is not None and args.interval <= 0:
        raise InputError("--interval must be a positive number of seconds")
    cron = args.cron if args.cron or args.interval else "0 6 * * 1"
    if cron:
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=cron)
        except ValueError:
            raise InputError(f"invalid cron expression {cron!r}") from None
    parameters = {
        "offline": args.offline,
        "store": str(Path(settings.store).resolve()),
        "out": str(Path(settings.out).resolve()),
        # Scheduled runs take the query, window and key from config/environment at run time; only
        # explicit CLI choices are fixed in the deployment (never the API key).
        "query": args.query,
        "max_records": args.max_records,
        "config": str(Path(args.config).resolve()) if args.config else None,
        "lock_wait": 60.0,
    }
    from prefect.deployments.runner import EntrypointType

    from pipeline.flows import mine
    from pipeline.serving import prefect_server

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with prefect_server(port=args.port) as api_url:
        when = f"cron {cron!r}" if cron else f"every {args.interval:g} s"
        print(
            f"resistmine: serving flow 'mine' as deployment {args.name!r}, {when}, via {api_url}", flush=True
        )
        try:
            mine.serve(
                name=args.name,
                cron=cron,
                interval=args.interval,
                parameters={k: v for k, v in parameters.items() if v is not None},
                entrypoint_type=EntrypointType.MODULE_PATH,
                print_starting_message=False,
                pause_on_shutdown=False,
            )
        except KeyboardInterrupt:
            pass
    print("resistmine: stopped serving", flush=True)
    return 0
