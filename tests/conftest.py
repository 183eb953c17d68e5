"""Shared test fixtures: where ``../shared`` lives, and skipping cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RESISTMINE_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ``../shared``; the calling test is skipped with the reason when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (tests read corpora from ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not available: {SHARED}")
    return SHARED


# --- the local E-utilities server (tests/eutils_server.py; its docstring documents the API) ---------


def eutils_server_module():
    """``tests/eutils_server.py``, importable whether or not ``tests`` is a package."""
    try:
        import eutils_server
    except ModuleNotFoundError:
        from tests import eutils_server
    return eutils_server


@pytest.fixture(scope="session")
def eutils_records():
    """The PubMed records the local server serves, parsed once per session."""
    shared_path("data", "pubmed_xml", "medline_baseline_samples", "medline16n0902.xml.gz")
    return eutils_server_module().load_records()


@pytest.fixture
def eutils_server(eutils_records):
    """A fresh local E-utilities server (own fault queue and request log) on 127.0.0.1, stopped after."""
    server = eutils_server_module().EutilsServer(records=eutils_records).start()
    try:
        yield server
    finally:
        server.stop()
