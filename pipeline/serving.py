"""A Prefect server for ``resistmine serve``: the one named by ``PREFECT_API_URL``, or a local one.

Prefect's ephemeral mode runs flows but cannot hold a schedule, so ``serve`` needs a real server. When
none is configured it starts ``prefect server start --host 127.0.0.1 --port N`` (says so on stdout),
waits until ``/api/health`` answers, points this process at it, and stops it on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import ResistmineError

API_URL_ENV = "PREFECT_API_URL"
STARTUP_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _prefect_command() -> list[str]:
    script = Path(sys.executable).with_name("prefect")
    if script.exists():
        return [str(script)]
    found = shutil.which("prefect")
    return [found] if found else [sys.executable, "-m", "prefect"]


@contextmanager
def prefect_server(
    port: int | None = None,
    log_path: Path | None = None,
    timeout: float = STARTUP_TIMEOUT,
    echo: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Yield the URL of a healthy Prefect API, starting (and finally stopping) a local server if needed."""
    echo = echo or _say
    configured = os.environ.get(API_URL_ENV)
    if configured:
        if not healthy(configured, timeout=10):
            raise ResistmineError(f"the Prefect server at {configured} ({API_URL_ENV}) does not answer")
        echo(f"resistmine: using the Prefect server at {configured}")
        yield configured
        return
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.pop(API_URL_ENV, None)
    command = [*_prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log_handle = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    echo(f"resistmine: starting a local Prefect server at {api_url} (no {API_URL_ENV} set)")
    process = subprocess.Popen(
        command, env=env, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while not healthy(api_url):
            if process.poll() is not None:
                raise ResistmineError(f"the local Prefect server exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise ResistmineError(f"the local Prefect server did not become healthy in {timeout:.0f} s")
            time.sleep(0.5)
        echo(f"resistmine: Prefect server ready at {api_url}; UI at http://127.0.0.1:{port}")
        os.environ[API_URL_ENV] = api_url
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        if os.environ.get(API_URL_ENV) == api_url:
            del os.environ[API_URL_ENV]
        stop_process_group(process)
        if log_path:
            log_handle.close()
        echo("resistmine: local Prefect server stopped")


def _say(line: str) -> None:
    print(line, flush=True)


def stop_process_group(process: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after ``grace`` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
