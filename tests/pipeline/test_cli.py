"""The commands as people type them: output, one-line errors and exit codes (in-process, real files)."""

from __future__ import annotations

import json

import pytest

from corpus.store import CorpusStore
from extractors.api import EXTRACTOR_VERSION
from pipeline.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_extract_prints_the_nine_seed_triples_offline(tmp_path, capsys, nlp) -> None:
    store = str(tmp_path / "store")
    code, out, _ = _run(capsys, "extract", "31205532", "--offline", "--json", "--store", store)
    assert code == 0
    triples = json.loads(out)["triples"]
    assert len(triples) == 9
    assert {(t["gene"], t["mechanism"], t["effect"]) for t in triples} >= {
        ("PTEN", "loss", "resistance"),
        ("IDO1", "inhibition", "countermeasure"),
    }
    code, out, _ = _run(capsys, "extract", "31205532", "--offline", "--store", store)
    assert code == 0 and "9 triples from 1 article" in out and "PTEN" in out


@pytest.mark.parametrize("pmid", ["abc", "-1", "12345678901234567890", "0"])
def test_invalid_pmids_are_one_line_errors_with_exit_code_2(tmp_path, capsys, pmid) -> None:
    code, out, err = _run(capsys, "extract", "--store", str(tmp_path / "s"), "--offline", "--", pmid)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("resistmine: error: invalid PMID")


def test_a_pmid_that_is_nowhere_exits_3(tmp_path, capsys, nlp) -> None:
    code, _, err = _run(capsys, "extract", "99999999", "--offline", "--store", str(tmp_path / "s"), "--json")
    assert code == 3 and "not found" in err and "99999999" in err


def test_run_review_and_their_errors(tmp_path, capsys, nlp) -> None:
    store, out = str(tmp_path / "store"), tmp_path / "out"
    code, _, err = _run(capsys, "review", "--out", str(out))
    assert code == 2 and "run `resistmine run` first" in err
    code, stdout, _ = _run(capsys, "run", "--offline", "--no-prefect", "--store", store, "--out", str(out))
    assert code == 0 and "9 knowledge rows" in stdout
    code, stdout, _ = _run(capsys, "review", "--out", str(out), "--json")
    assert code == 0
    review = json.loads(stdout)
    assert review["counts"] == {"pending": 9, "accepted": 0, "rejected": 0} and len(review["pending"]) == 9
    code, stdout, _ = _run(capsys, "review", "--out", str(out))
    assert code == 0 and "9 pending, 0 accepted, 0 rejected" in stdout

    with CorpusStore(store).lock():
        code, _, err = _run(capsys, "run", "--offline", "--no-prefect", "--store", store, "--out", str(out))
    assert code == 4 and "another run holds the store lock" in err and err.count("\n") == 1

    (out / "knowledge.csv").write_text("key,review_status,review_note\nA|b|c|d,yes,\n", encoding="utf-8")
    code, _, err = _run(capsys, "run", "--offline", "--no-prefect", "--store", store, "--out", str(out))
    assert code == 5 and "line 2" in err and err.count("\n") == 1


def test_extract_fetches_a_missing_pmid_and_names_one_that_does_not_exist(
    tmp_path, capsys, nlp, eutils
) -> None:
    store = str(tmp_path / "store")
    pmid = eutils.search({"term": "melanoma"})[1][0]
    online = ("--store", store, "--eutils-url", eutils.base_url, "--email", "resistmine-tests@example.org")
    code, out, _ = _run(capsys, "extract", pmid, "--json", *online)
    assert code == 0 and json.loads(out)["missing"] == []
    with CorpusStore(store) as corpus:
        assert pmid in corpus and corpus.pending_extraction(EXTRACTOR_VERSION) == []
    fetches = len(eutils.requests_to("efetch"))
    code, out, _ = _run(capsys, "extract", pmid, "--json", *online)
    assert code == 0 and len(eutils.requests_to("efetch")) == fetches  # now from the store
    code, _, err = _run(capsys, "extract", pmid, "99999999", "--json", *online)
    assert (
        code == 3
        and err.strip().splitlines()[-1] == "resistmine: error: PMID(s) not found in PubMed: 99999999"
    )


def test_run_options_that_do_not_go_together_are_input_errors(tmp_path, capsys) -> None:
    base = ("run", "--offline", "--no-prefect", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"))
    for option in ("--workers", "--processes"):
        code, _, err = _run(capsys, *base, option, "2")
        assert code == 2 and "--dask-address, --workers and --processes go with --files" in err
    code, _, err = _run(capsys, *base, "--max-records", "0")
    assert code == 2 and "--max-records must be at least 1" in err
    assert not (tmp_path / "o").exists()


def test_processes_set_the_cores_per_file_of_a_bulk_run(tmp_path, capsys, monkeypatch) -> None:
    import pipeline.bulk

    seen = []
    monkeypatch.setattr(pipeline.bulk, "run_bulk", lambda files, settings, **_: seen.append(settings) or "")
    config = tmp_path / "resistmine.toml"
    config.write_text("n_process = 3\n", encoding="utf-8")
    monkeypatch.setenv("RESISTMINE_CONFIG", str(config))
    base = ("run", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--files", "a.xml.gz")
    assert _run(capsys, *base, "--processes", "2")[0] == 0
    assert _run(capsys, *base)[0] == 0
    assert [s.n_process for s in seen] == [2, 3]  # the flag, else the config's
