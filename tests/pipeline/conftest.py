"""Fixtures for the flow tests: Prefect kept in a temporary home, the harness started once per session.

The repository root goes first on ``sys.path`` so that ``pipeline`` is the project's package and not
this test folder (see tests/outputs/conftest.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO):
    sys.path.insert(0, str(REPO))
for _name in ("pipeline", "outputs"):
    if _name in sys.modules and getattr(sys.modules[_name], "__file__", None) is None:
        del sys.modules[_name]

# Before Prefect reads its settings: never the user's ~/.prefect, never a configured server.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="resistmine-prefect-home-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)

# Prefect binds its console log handler to the sys.stderr of the moment it is imported. Imported here,
# during collection, that is pytest's session-long capture, not a per-test ``capsys`` stream that is
# closed after the test (which made later flow tests fail on logging into a closed file).
import prefect  # noqa: E402, F401


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect's test harness (a temporary database and API), once per session: it costs ~12 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def nlp():
    """The real extraction pipeline, loaded once."""
    from extractors.api import load_pipeline

    return load_pipeline()


@pytest.fixture
def eutils():
    """The local E-utilities server of tests/eutils_server.py over the shared PubMed samples."""
    from eutils_server import XML_DIR, EutilsServer

    if not XML_DIR.is_dir():
        pytest.skip(f"shared data not available: {XML_DIR} (the local E-utilities server serves it)")

    with EutilsServer() as server:
        yield server
