"""The E-utilities client against the local server (real HTTP, real PubMed XML), with injected faults."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from Bio import Entrez

from corpus.errors import FetchError, InputError
from corpus.eutils import NCBI_BASE_URL, EutilsClient, entrez_seam, mask_secrets
from corpus.store import CorpusStore

KEY = "SECRET-KEY-0123456789"


def client_for(server, **options) -> EutilsClient:
    values = dict(email="test@example.org", rate=200.0, backoff=0.01, timeout=0.5, max_tries=4)
    values.update(options)
    return EutilsClient(server.base_url, **values)


def fetched(client: EutilsClient, pmids) -> list[str]:
    return [a.pmid for batch in client.fetch(pmids) for a in batch]


# ----------------------------------------------------------------------------------------- the seam


def test_seam_redirects_this_threads_requests_and_restores_biopython():
    original, tries = Entrez._build_request, Entrez.max_tries
    seen = {}

    def other_thread():
        seen["other"] = Entrez._build_request(
            NCBI_BASE_URL + "esearch.fcgi", {"db": "pubmed", "term": "x", "email": "t@example.org"}
        )

    with entrez_seam("http://127.0.0.1:9/mirror", timeout=2.5):
        request = Entrez._build_request(
            NCBI_BASE_URL + "efetch.fcgi", {"db": "pubmed", "id": "1,2", "email": "t@example.org"}
        )
        assert Entrez.max_tries == 1
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert request.full_url.startswith("http://127.0.0.1:9/mirror/efetch.fcgi?db=pubmed&id=1%2C2")
    assert request.timeout == 2.5
    request.timeout = object.__new__(object)  # what urlopen does without a timeout: ignored
    assert seen["other"].full_url.startswith(NCBI_BASE_URL)  # other threads are not redirected
    assert (Entrez._build_request, Entrez.max_tries) == (original, tries)


def test_mask_secrets():
    url = f"http://h/efetch.fcgi?db=pubmed&api_key={KEY}&id=1"
    assert KEY not in mask_secrets(url) and "api_key=***" in mask_secrets(url)
    assert mask_secrets(f"key {KEY} here", KEY) == "key *** here"


# ----------------------------------------------------------------------------------------- search


def test_search_pages_through_the_history_server(eutils_server):
    client = client_for(eutils_server, page_size=100)
    result = client.search("all[sb]")
    assert result.count == len(eutils_server.records) == 617
    assert list(result.pmids) == eutils_server.pmids
    assert result.webenv.startswith("MCID_") and result.query_key
    pages = eutils_server.requests_to("esearch")
    assert len(pages) == 7
    assert all(p.params["usehistory"] == "y" and int(p.params["retmax"]) <= 100 for p in pages)
    assert [int(p.params["retstart"]) for p in pages] == list(range(0, 700, 100))
    assert all(p.params["tool"] == "resistmine" and p.params["email"] == "test@example.org" for p in pages)


def test_date_bounded_search(eutils_server):
    result = client_for(eutils_server).search("cancer", mindate="2015", maxdate="2016/12/31", datetype="pdat")
    [request] = eutils_server.requests_to("esearch")
    assert (request.params["mindate"], request.params["maxdate"], request.params["datetype"]) == (
        "2015", "2016/12/31", "pdat",
    )  # fmt: skip
    dates = {r.pmid: r.date for r in eutils_server.records.values()}
    assert result.pmids and all("2015/01/01" <= dates[p] <= "2016/12/31" for p in result.pmids)
    everything = client_for(eutils_server).search("cancer")
    assert set(result.pmids) < set(everything.pmids)


def test_open_ended_date_range_gets_both_bounds(eutils_server):
    client_for(eutils_server).search("cancer", mindate="2016-03")
    [request] = eutils_server.requests_to("esearch")
    assert (request.params["mindate"], request.params["maxdate"]) == ("2016/03", "3000")


@pytest.mark.parametrize(
    "options",
    [{"mindate": "yesterday"}, {"mindate": "2016/13"}, {"mindate": "2020", "maxdate": "2019"},
     {"mindate": "2020", "datetype": "xdat"}, {"max_records": 0}],
)  # fmt: skip
def test_bad_search_options_are_refused_before_any_request(eutils_server, options):
    with pytest.raises(InputError):
        client_for(eutils_server).search("cancer", **options)
    assert eutils_server.requests == []


def test_huge_result_is_bounded_by_max_records_with_a_warning(eutils_server, caplog):
    eutils_server.count_override = 2_500_000
    with caplog.at_level(logging.WARNING, logger="resistmine.eutils"):
        result = client_for(eutils_server, page_size=100).search("all[sb]", max_records=250)
    assert result.count == 2_500_000 and result.truncated
    assert len(result.pmids) == 250 and len(set(result.pmids)) == 250
    assert len(eutils_server.requests_to("esearch")) == 3  # 100 + 100 + 50, never the millions
    assert "query matches 2500000 records; only the first 250" in caplog.text


def test_count_change_between_pages_restarts_the_search(eutils_server, caplog):
    client = client_for(eutils_server, page_size=200)
    eutils_server.add_fault("count_change", delta=3, skip=1)  # PubMed indexes 3 records after page 1
    with caplog.at_level(logging.WARNING, logger="resistmine.eutils"):
        result = client.search("all[sb]")
    assert list(result.pmids) == eutils_server.pmids and not result.warnings
    assert "count changed between pages (617 -> 620); restarting" in caplog.text
    assert len(eutils_server.requests_to("esearch")) > 2 + 3  # two pages, then a clean full search


def test_persistent_count_changes_end_with_a_warning_not_a_crash(eutils_server):
    eutils_server.add_fault("count_change", times=100)
    result = client_for(eutils_server, page_size=300).search("all[sb]")
    assert result.warnings and "count changed" in result.warnings[0]
    assert len(set(result.pmids)) == len(result.pmids)


def test_esearch_failure_is_a_fetch_error(eutils_server):
    eutils_server.add_fault("503", times=10)
    with pytest.raises(FetchError, match="esearch failed after 4 tries: HTTP 503"):
        client_for(eutils_server).search("cancer")


# ----------------------------------------------------------------------------------------- fetch


def test_fetch_in_batches_of_at_most_200(eutils_server):
    pmids = eutils_server.pmids[:450]
    client = client_for(eutils_server)
    batches = list(client.fetch(pmids))
    assert [len(b) for b in batches] == [200, 200, 50]
    assert [a.pmid for b in batches for a in b] == pmids  # the server answers in request order
    requests = eutils_server.requests_to("efetch")
    assert [len(r.ids) for r in requests] == [200, 200, 50]
    assert all(r.params["retmode"] == "xml" and r.params["db"] == "pubmed" for r in requests)


def test_batch_size_is_capped_at_200():
    with pytest.raises(InputError):
        EutilsClient("http://127.0.0.1:9/", batch_size=500)


@pytest.mark.parametrize("bad", ["abc", "-1", "12345678901234567890", "0", "", "1.5"])
def test_invalid_pmids_are_refused_before_any_request(eutils_server, bad):
    with pytest.raises(InputError, match="invalid PMID"):
        list(client_for(eutils_server).fetch(["31205532", bad]))
    assert eutils_server.requests == []


def test_unknown_pmids_are_reported_not_fatal(eutils_server):
    client = client_for(eutils_server)
    known = eutils_server.pmids[0]
    assert fetched(client, [known, "99999999"]) == [known]
    assert client.not_found == ["99999999"]


@pytest.mark.parametrize(
    "fault", ["429", "500", "502", "503", "reset", "slow", "truncate", "malformed", "error"]
)
def test_each_fault_is_retried_and_the_batch_completes(eutils_server, fault, caplog):
    pmids = eutils_server.pmids[:5]
    eutils_server.add_fault(fault, delay=1.5)  # "slow" answers after the client's 0.5 s timeout
    with caplog.at_level(logging.WARNING, logger="resistmine.eutils"):
        assert fetched(client_for(eutils_server), pmids) == pmids
    requests = eutils_server.requests_to("efetch")
    assert [r.fault for r in requests] == [fault, None]
    assert "efetch attempt 1/4 failed" in caplog.text


def test_retry_after_is_honoured(eutils_server):
    eutils_server.add_fault("429", retry_after=1)
    fetched(client_for(eutils_server), eutils_server.pmids[:3])
    first, second = eutils_server.requests_to("efetch")
    assert second.time - first.time >= 0.95


def test_backoff_grows_between_tries(eutils_server):
    eutils_server.add_fault("503", times=3)
    fetched(client_for(eutils_server, backoff=0.2, max_tries=5), eutils_server.pmids[:3])
    times = [r.time for r in eutils_server.requests_to("efetch")]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 3
    # 0.2, 0.4, 0.8 s with jitter in [0.5, 1.0] of each
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4


def test_requests_are_paced_to_the_rate_limit(eutils_server):
    eutils_server.max_rate = 3  # the server answers 429 past NCBI's limit without a key
    client = EutilsClient(
        eutils_server.base_url, email="test@example.org", batch_size=1, timeout=5, backoff=0.01
    )
    assert client.rate == 3.0
    start = time.monotonic()
    fetched(client, eutils_server.pmids[:7])
    elapsed = time.monotonic() - start
    requests = eutils_server.requests_to("efetch")
    assert [r.status for r in requests] == [200] * 7  # never rate-limited
    assert elapsed >= 6 / 3 - 0.05
    gaps = [b.time - a.time for a, b in zip(requests, requests[1:], strict=False)]
    assert min(gaps) >= 1 / 3 - 0.03


def test_api_key_is_sent_raises_the_rate_and_is_never_logged(eutils_server, caplog):
    client = client_for(eutils_server, api_key=KEY, rate=None, max_tries=2)
    assert client.rate == 10.0 and KEY not in repr(client)
    eutils_server.add_fault("503", times=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(FetchError) as failure:
        fetched(client, eutils_server.pmids[:3])
    assert all(r.params.get("api_key") == KEY for r in eutils_server.requests)
    assert KEY not in caplog.text and KEY not in str(failure.value)


def test_failed_batch_names_missing_pmids_and_the_next_run_picks_them_up(eutils_server, tmp_path):
    pmids = eutils_server.pmids[:450]
    store = CorpusStore(tmp_path)
    client = client_for(eutils_server, max_tries=3)

    # the first batch succeeds, the second arrives truncated three times in a row
    def run_once():
        for batch in client.fetch(store.missing(pmids)):
            store.upsert_articles(batch, source="eutils")

    eutils_server.add_fault("truncate", endpoint="efetch", skip=1, times=3)
    with pytest.raises(FetchError) as failure:
        run_once()
    assert failure.value.missing_pmids == tuple(pmids[200:])
    assert "250 PMID(s) not fetched" in str(failure.value) and pmids[200] in str(failure.value)
    assert store.count() == 200  # the complete batch is stored, nothing of the broken one
    assert set(store.versions()) == set(pmids[:200])
    run_once()  # the next run fetches exactly what is missing
    assert store.count() == 450
    assert [len(r.ids) for r in eutils_server.requests_to("efetch")[-2:]] == [200, 50]


def test_a_bad_request_is_not_retried(eutils_server):
    eutils_server.add_fault("400", times=5)
    pmids = eutils_server.pmids[:3]
    with pytest.raises(FetchError, match="efetch HTTP 400") as failure:
        fetched(client_for(eutils_server), pmids)
    assert failure.value.missing_pmids == tuple(pmids)
    assert len(eutils_server.requests_to("efetch")) == 1


def test_searches_stop_at_pubmeds_10000_record_window(eutils_server, caplog):
    eutils_server.count_override = 2_500_000
    with caplog.at_level(logging.WARNING, logger="resistmine.eutils"):
        result = client_for(eutils_server, page_size=5000).search("all[sb]", max_records=50_000)
    assert len(result.pmids) == 10_000 and result.truncated
    assert max(int(r.params["retstart"]) + int(r.params["retmax"]) for r in eutils_server.requests) == 10_000
    assert "E-utilities returns only the first 10000 of a search (narrow it, e.g. by date)" in caplog.text


def test_concurrent_clients_reach_their_own_servers(eutils_server, eutils_records):
    with type(eutils_server)(records=eutils_records) as mirror:
        results: dict[str, list[str]] = {}

        def work(name, server, pmids):
            client = client_for(server, batch_size=5)
            results[name] = fetched(client, pmids)

        first, second = eutils_server.pmids[:40], eutils_server.pmids[40:80]
        threads = [threading.Thread(target=work, args=("a", eutils_server, first)),
                   threading.Thread(target=work, args=("b", mirror, second))]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == {"a": first, "b": second}
        assert [p for r in eutils_server.requests for p in r.ids] == first
        assert [p for r in mirror.requests for p in r.ids] == second
    assert Entrez._build_request.__name__ == "_build_request"  # the seam is gone once no client is inside
