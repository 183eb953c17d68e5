"""A real process that runs mining jobs in forked children, so tests can SIGKILL real runs cheaply.

It loads the extraction pipeline once, then reads one JSON job per line on stdin, forks a child per job
and prints one JSON line per job: ``{"signal": 9}`` when the child was killed, ``{"exit": 0}`` otherwise.
A job names the store, the output folder, the E-utilities URL and query, and optionally ``crash_at``
(``"stage:n"``, see ``pipeline.mining.crash_points_from_env``) at which the child SIGKILLs itself.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    from extractors.api import load_pipeline
    from pipeline import mining
    from pipeline.config import Settings

    nlp = load_pipeline()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if job.get("crash_at"):
                    os.environ[mining.CRASH_ENV] = job["crash_at"]
                settings = Settings(
                    store=Path(job["store"]),
                    out=Path(job["out"]),
                    eutils_url=job["eutils_url"],
                    query=job["query"],
                    maxdate=job["maxdate"],
                    batch_size=job["batch_size"],
                    api_key=job.get("api_key"),
                    email="resistmine-tests@example.org",
                    max_tries=2,
                    timeout=10,
                )
                checkpoint = mining.crash_points_from_env() or mining._noop
                mining.mine(settings, steps=mining.plain_steps(nlp=nlp, checkpoint=checkpoint))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            print(json.dumps({"signal": os.WTERMSIG(status)}), flush=True)
        else:
            print(json.dumps({"exit": os.WEXITSTATUS(status)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
