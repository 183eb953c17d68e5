"""The bulk flow on a real Dask LocalCluster of two worker processes writes the tables one process writes.

``prefect_harness`` is the session fixture of tests/pipeline/conftest.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from baseline_files import BASELINE, split_baseline

from corpus.errors import InputError
from outputs.parquet import read_table
from pipeline.bulk import run_bulk
from pipeline.config import Settings

TABLES = ("articles.csv", "entities.csv", "triples.csv", "knowledge.csv")


def test_dask_options_are_checked_before_anything_runs(tmp_path):
    settings = Settings(store=tmp_path / "store", out=tmp_path / "out")
    with pytest.raises(InputError, match="either --dask-address or --workers"):
        run_bulk([tmp_path / "x.xml"], settings, dask_address="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(InputError, match="at least 1"):
        run_bulk([tmp_path / "x.xml"], settings, workers=0)
    with pytest.raises(InputError, match="does not exist"):
        run_bulk([tmp_path / "x.xml"], settings, workers=2)
    with pytest.raises(InputError, match="max_new_words must be a whole number"):
        run_bulk([tmp_path / "x.xml"], replace(settings, max_new_words="lots"))
    for processes in (0, "two"):
        with pytest.raises(InputError, match=r"n_process \(--processes\) must be a whole number"):
            run_bulk([tmp_path / "x.xml"], replace(settings, n_process=processes))
    assert not (tmp_path / "store").exists()


@pytest.mark.slow
def test_two_dask_workers_produce_the_single_process_tables(shared_dir, tmp_path, prefect_harness):
    # run_bulk hands the harness's API URL to the workers through the settings context
    files = split_baseline(shared_dir / BASELINE, tmp_path / "baseline", 4)
    single = run_bulk(files, Settings(store=tmp_path / "s-store", out=tmp_path / "s-out"), chunk_size=100)
    dask = run_bulk(
        files, Settings(store=tmp_path / "d-store", out=tmp_path / "d-out"), workers=2, chunk_size=100
    )

    assert single.runner == "local" and dask.runner == "dask:LocalCluster(2)"
    assert dask.mined == single.mined == tuple(f.name for f in files)
    assert len({outcome.worker for outcome in dask.files}) == 2, "both workers should have mined files"
    assert single.abstracts == dask.abstracts > 500
    for name in TABLES:
        assert (tmp_path / "d-out" / name).read_bytes() == (tmp_path / "s-out" / name).read_bytes(), name
    for table in ("articles", "entities", "triples"):
        assert read_table(tmp_path / "d-out", table).equals(read_table(tmp_path / "s-out", table)), table

    again = run_bulk(files, Settings(store=tmp_path / "d-store", out=tmp_path / "d-out"), workers=2)
    assert again.mined == () and again.skipped == dask.mined  # nothing re-mined on a rerun
