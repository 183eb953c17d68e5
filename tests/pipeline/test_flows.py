"""The Prefect flow ``mine`` in Prefect's test harness: tables, artifacts, and no API key anywhere."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from leakcheck import SECRET, assert_secret_absent, files_holding


def _artifacts(key: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))


def _prefect_database() -> Path:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = PREFECT_API_DATABASE_CONNECTION_URL.value()
    return Path(url.split("///", 1)[1])


@pytest.mark.slow
def test_the_flow_mines_offline_and_publishes_its_summary(
    tmp_path, prefect_harness, nlp, monkeypatch
) -> None:
    from pipeline.flows import KNOWLEDGE_ARTIFACT, SUMMARY_ARTIFACT, mine

    monkeypatch.setenv("NCBI_API_KEY", SECRET)
    result = mine(offline=True, store=str(tmp_path / "store"), out=str(tmp_path / "out"))
    assert result["articles"] == 1 and result["triples"] >= 9 and result["failed_pmids"] == []
    with (tmp_path / "out" / "knowledge.csv").open(encoding="utf-8") as handle:
        statuses = [row["status"] for row in csv.DictReader(handle)]
    assert statuses.count("seed") == 9
    summary = _artifacts(SUMMARY_ARTIFACT)[0]
    assert "articles extracted: " in summary.data and "offline" in summary.data
    assert SECRET not in summary.data
    (table,) = _artifacts(KNOWLEDGE_ARTIFACT)
    assert '"status": "seed"' in table.data and SECRET not in table.data


@pytest.mark.slow
def test_a_flow_run_against_pubmed_never_writes_the_api_key(
    tmp_path, prefect_harness, nlp, eutils, monkeypatch
):
    from pipeline.flows import SUMMARY_ARTIFACT, mine

    monkeypatch.setenv("NCBI_API_KEY", SECRET)
    monkeypatch.setenv("RESISTMINE_EUTILS_URL", eutils.base_url)
    monkeypatch.setenv("NCBI_EMAIL", "resistmine-tests@example.org")
    result = mine(
        query="melanoma", maxdate="2024/01/31", store=str(tmp_path / "store"), out=str(tmp_path / "out")
    )
    assert result["articles"] == 3 and result["failed_pmids"] == []
    # the key did reach NCBI (that is its purpose) …
    assert all(r.params.get("api_key") == SECRET for r in eutils.requests)
    # … and no file of the run: store, tables, report, nor Prefect's database and artifacts
    assert assert_secret_absent(tmp_path) >= 6
    database = _prefect_database()
    assert database.is_file()
    assert files_holding(database.parent) == []
    assert SECRET not in _artifacts(SUMMARY_ARTIFACT)[0].data
