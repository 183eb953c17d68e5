"""`resistmine serve` with a real local Prefect server: the schedule fires and a real flow run completes."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.serving import healthy

RESISTMINE = Path(sys.executable).with_name("resistmine")


def _post(api: str, path: str, body: dict) -> list:
    request = urllib.request.Request(
        api + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_serve_starts_a_server_registers_the_schedule_and_a_run_completes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    out = tmp_path / "out"
    command = [str(RESISTMINE), "serve", "--interval", "5", "--offline", "--store", str(tmp_path / "store"),
               "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen: list[str] = []
    api = None
    try:
        deadline = time.monotonic() + 300
        completed: list = []
        while time.monotonic() < deadline and not completed:
            try:
                line = lines.get(timeout=2)
                seen.append(line)
                if "Prefect server ready at " in line:
                    api = line.split("ready at ", 1)[1].split(";")[0]
            except queue.Empty:
                pass
            assert process.poll() is None, "".join(seen)
            if api and (out / "knowledge.csv").exists():
                body = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}
                completed = _post(api, "/flow_runs/filter", body)
        assert completed, "no completed flow run:\n" + "".join(seen[-30:])
        assert "starting a local Prefect server" in "".join(seen)
        deployments = _post(api, "/deployments/filter", {})
        assert [d["name"] for d in deployments] == ["resistmine-mine"]
        schedules = deployments[0]["schedules"]
        assert schedules and schedules[0]["schedule"]["interval"] == 5.0
        assert completed[0]["deployment_id"] == deployments[0]["id"]
        assert (out / "report.html").is_file()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=90)
    assert code == 0, "".join(seen[-30:])
    assert api is not None and not healthy(api)  # the local server was stopped with the command
