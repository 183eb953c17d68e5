"""The shipped example config and Prefect deployment file stay in step with the code."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

from pipeline.config import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_example_config_loads_with_every_setting_known() -> None:
    settings = load_settings(REPO / "resistmine.example.toml")
    assert settings.store == Path("store") and settings.out == Path("outputs/tables")
    assert "resistance" in settings.query and settings.api_key is None


def test_the_prefect_deployment_names_the_flow_and_its_real_parameters() -> None:
    from pipeline import flows

    document = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = document["deployments"]
    path, _, name = deployment["entrypoint"].partition(":")
    assert (REPO / path).is_file() and getattr(flows, name).name == "mine"
    accepted = set(inspect.signature(flows.mine.fn).parameters)
    assert set(deployment["parameters"]) <= accepted
    assert "api_key" not in str(document).lower().replace("ncbi_api_key", "")
    assert deployment["schedules"][0]["cron"] == "0 6 * * 1"
