"""NCBI E-utilities client: esearch (history server) and efetch in batches, over Bio.Entrez.

Bio.Entrez builds and opens the requests; this module adds what it lacks for unattended runs:

* a configurable base URL — Biopython 1.88 hard-codes NCBI's URL in each function, and every request
  passes through ``Bio.Entrez._build_request``, so :func:`entrez_seam` wraps that one function to point
  requests at ``base_url`` (and give them a timeout, which Biopython never sets);
* pacing (3 requests/s, 10 with an API key) shared by all clients of a process;
* real backoff: Biopython retries 429/5xx at once without waiting, so its own ``max_tries`` is set to 1
  inside the seam and this client retries 429 (honouring ``Retry-After``), 5xx, timeouts, connection
  resets, truncated or malformed XML and an ``<ERROR>`` in a 200 response, exponentially and bounded;
* parsing with the hardened lxml parser of :mod:`corpus.pubmed_xml`, not ``Entrez.read`` (which fails on
  every PubMed DTD newer than the ones Biopython ships, even with ``validate=False``).

After ``max_tries`` a batch fails with :class:`~corpus.errors.FetchError` naming every PMID not fetched;
batches already yielded are complete and can be stored. The API key is sent but never logged: every
message passes through :func:`mask_secrets`.
"""

from __future__ import annotations

import http.client
import logging
import random
import re
import socket
import threading
import time
import urllib.error
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.request import Request

from Bio import Entrez

from corpus.article import Article
from corpus.errors import FetchError, InputError, ParseError
from corpus.pmids import validate_pmids
from corpus.pubmed_xml import parse_pubmed_xml
from corpus.xmlsafe import parse_document

if TYPE_CHECKING:
    from pipeline.config import Settings

log = logging.getLogger("resistmine.eutils")

NCBI_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
MAX_BATCH = 200  # NCBI: efetch at most 200 UIDs per request is what they ask of scripts
MAX_PAGE = 10_000  # esearch retmax limit for PubMed
PUBMED_SEARCH_LIMIT = 10_000  # esearch cannot page past the first 10,000 PubMed records
# E-utilities' date fields for mindate/maxdate, and what they date
DATETYPES = {
    "edat": "entry date", "pdat": "publication date", "mdat": "modification date", "crdt": "create date",
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")

# Biopython's many-line warning about a missing e-mail becomes one line from this client (see __init__)
warnings.filterwarnings("ignore", message=r"\s*Email address is not specified", category=UserWarning)

# ----------------------------------------------------------------------------------- the Entrez seam

_seam_lock = threading.Lock()
_seam_users = 0
_seam_saved: dict[str, Any] = {}
_seam_local = threading.local()


class _TimedRequest(Request):
    """A Request that keeps its own timeout: ``urlopen`` without one would overwrite it with 'none'."""

    def __init__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own_timeout = timeout

    @property
    def timeout(self) -> float | None:  # type: ignore[override]
        return self._own_timeout

    @timeout.setter
    def timeout(self, value: Any) -> None:
        if value is not socket._GLOBAL_DEFAULT_TIMEOUT and value is not None:  # type: ignore[attr-defined]
            self._own_timeout = value


def _build_request_via_seam(*args: Any, **kwargs: Any) -> Request:
    request = _seam_saved["build_request"](*args, **kwargs)
    base_url = getattr(_seam_local, "base_url", None)
    if base_url is None:
        return request
    url = request.full_url
    if url.startswith(NCBI_BASE_URL):
        url = base_url + url[len(NCBI_BASE_URL) :]
    redirected = _TimedRequest(
        url, data=request.data, method=request.get_method(), timeout=getattr(_seam_local, "timeout", None)
    )
    for key, value in request.header_items():
        redirected.add_header(key, value)
    return redirected


@contextmanager
def entrez_seam(base_url: str, timeout: float | None) -> Iterator[None]:
    """Within the block, this thread's Bio.Entrez requests go to ``base_url`` with ``timeout``.

    The first user installs the wrapper around ``Bio.Entrez._build_request`` and sets Biopython's
    ``max_tries`` to 1 (retries are ours); the last one restores both.
    """
    global _seam_users
    if not base_url.endswith("/"):
        base_url += "/"
    with _seam_lock:
        if _seam_users == 0:
            _seam_saved["build_request"] = Entrez._build_request
            _seam_saved["max_tries"] = Entrez.max_tries
            Entrez._build_request = _build_request_via_seam
            Entrez.max_tries = 1
        _seam_users += 1
    _seam_local.base_url, _seam_local.timeout = base_url, timeout
    Entrez._open.previous = 0.0  # our RateLimiter paces requests; Biopython's own pause would double it
    try:
        yield
    finally:
        _seam_local.base_url = _seam_local.timeout = None
        with _seam_lock:
            _seam_users -= 1
            if _seam_users == 0:
                Entrez._build_request = _seam_saved.pop("build_request")
                Entrez.max_tries = _seam_saved.pop("max_tries")


# ----------------------------------------------------------------------------------- pacing, secrets


class RateLimiter:
    """At most ``rate`` request starts per second, across threads.

    Starts are spaced 10 % wider than ``1/rate``: at exactly 1/3 s NCBI still answers some requests with
    429 (Biopython found the same and waits 0.37 s).
    """

    MARGIN = 1.1

    def __init__(self, rate: float) -> None:
        self.interval = self.MARGIN / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def _limiter_for(base_url: str, rate: float) -> RateLimiter:
    """One limiter per service and rate, shared by every client in the process (NCBI counts per IP/key)."""
    with _limiters_lock:
        return _limiters.setdefault((base_url, rate), RateLimiter(rate))


_KEY_PARAM = re.compile(r"(api_key=)[^&\s]+", re.IGNORECASE)


def mask_secrets(text: str, api_key: str | None = None) -> str:
    text = _KEY_PARAM.sub(r"\1***", text)
    if api_key:
        text = text.replace(api_key, "***")
    return text


# ----------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SearchResult:
    count: int
    pmids: tuple[str, ...]
    webenv: str | None = None
    query_key: str | None = None
    truncated: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Page:
    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


# ----------------------------------------------------------------------------------- client


class EutilsClient:
    """E-utilities for PubMed; see the module docstring for what it adds to Bio.Entrez."""

    def __init__(
        self,
        base_url: str = NCBI_BASE_URL,
        email: str | None = None,
        tool: str = "resistmine",
        api_key: str | None = None,
        timeout: float = 30.0,
        max_tries: int = 5,
        batch_size: int = MAX_BATCH,
        *,
        rate: float | None = None,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_max: float = 300.0,
        page_size: int = MAX_PAGE,
        max_records: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"E-utilities URL {base_url!r} is not an http(s) URL")
        if not 1 <= batch_size <= MAX_BATCH:
            raise InputError(f"batch size {batch_size} is outside 1..{MAX_BATCH}")
        if max_tries < 1:
            raise InputError(f"max_tries must be at least 1, not {max_tries}")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.email = email
        self.tool = tool
        self._api_key = api_key or None
        self.timeout = timeout
        self.max_tries = max_tries
        self.batch_size = batch_size
        self.rate = rate if rate is not None else (10.0 if self._api_key else 3.0)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.page_size = max(1, min(page_size, MAX_PAGE))
        self.max_records = max_records
        self._sleep = sleep
        self._limiter = _limiter_for(self.base_url, self.rate)
        self.not_found: list[str] = []
        if not email:
            log.warning("no contact e-mail for NCBI (set --email or NCBI_EMAIL); NCBI asks scripts for one")

    def __repr__(self) -> str:  # never the key
        key = "set" if self._api_key else "none"
        return f"EutilsClient(base_url={self.base_url!r}, tool={self.tool!r}, api_key={key})"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EutilsClient:
        values: dict[str, Any] = dict(
            base_url=settings.eutils_url,
            email=settings.email,
            tool=settings.tool,
            api_key=settings.api_key,
            timeout=settings.timeout,
            max_tries=settings.max_tries,
            batch_size=min(settings.batch_size, MAX_BATCH),
            max_records=settings.max_records,
        )
        values.update(overrides)
        return cls(**values)

    # ------------------------------------------------------------------ search

    def search(
        self,
        query: str,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "edat",
        max_records: int | None = None,
    ) -> SearchResult:
        """PMIDs matching ``query`` (newest first, as PubMed sorts), at most ``max_records`` of them.

        A count that changes between pages (PubMed indexing during the search) restarts the search,
        up to twice; after that the union is returned, de-duplicated, with a warning.
        """
        if not query or not query.strip():
            raise InputError("empty query")
        limit = max_records if max_records is not None else self.max_records
        if limit is not None and limit < 1:
            raise InputError(f"--max-records must be at least 1, not {limit}")
        dates = _date_params(mindate, maxdate, datetype)
        cap = min(limit, PUBMED_SEARCH_LIMIT) if limit is not None else PUBMED_SEARCH_LIMIT
        warnings: list[str] = []
        for attempt in range(3):
            pmids: list[str] = []
            first: _Page | None = None
            count = 0
            changed = False
            while True:
                page = self._esearch(query, len(pmids), min(self.page_size, cap - len(pmids)), dates, first)
                if first is None:
                    first, count = page, page.count
                elif page.count != count:
                    message = f"esearch count changed between pages ({count} -> {page.count})"
                    count = page.count
                    if attempt < 2:
                        changed = True
                        break
                    # the last attempt keeps paging: de-duplicated below, the next run fills any gap
                    warnings.append(f"{message}; results may be incomplete, the next run completes them")
                    log.warning(warnings[-1])
                pmids.extend(page.ids)
                if not page.ids or len(pmids) >= min(count, cap):
                    break
            if not changed:
                break
            log.warning("%s; restarting the search", message)
        assert first is not None
        pmids = list(dict.fromkeys(pmids))[:cap]
        truncated = count > cap
        if truncated:
            if limit is not None and limit <= PUBMED_SEARCH_LIMIT:
                note = f"only the first {cap} are used (raise --max-records)"
            else:
                note = f"E-utilities returns only the first {cap} of a search (narrow it, e.g. by date)"
            warnings.append(f"query matches {count} records; {note}")
            log.warning(warnings[-1])
        return SearchResult(count, tuple(pmids), first.webenv, first.query_key, truncated, tuple(warnings))

    def _esearch(
        self, query: str, retstart: int, retmax: int, dates: dict[str, str], first: _Page | None
    ) -> _Page:
        params: dict[str, Any] = dict(
            db="pubmed", term=query, retstart=retstart, retmax=retmax, usehistory="y"
        )
        params.update(dates)
        if first is not None and first.webenv:
            params["WebEnv"] = first.webenv
        return self._call("esearch", params, _parse_esearch, ())

    # ------------------------------------------------------------------ fetch

    def fetch(self, pmids: Sequence[str]) -> Iterator[list[Article]]:
        """Fetch ``pmids`` in batches of ``batch_size``; yield each batch's articles when complete.

        PMIDs that PubMed does not return (unknown or withdrawn) are collected in ``self.not_found``.
        On a batch that fails after ``max_tries``, raise ``FetchError`` naming that batch's PMIDs and
        those of all later batches.
        """
        wanted = validate_pmids(pmids)
        self.not_found = []
        batches = [wanted[i : i + self.batch_size] for i in range(0, len(wanted), self.batch_size)]
        for index, batch in enumerate(batches):
            params = dict(db="pubmed", id=",".join(batch), retmode="xml", rettype="abstract")
            remaining = tuple(p for later in batches[index:] for p in later)

            def parse(body: bytes, batch_no: int = index) -> list[Article]:
                return parse_pubmed_xml(body, name=f"efetch batch {batch_no + 1}")

            articles = self._call("efetch", params, parse, remaining)
            returned = {a.pmid for a in articles}
            missing = [p for p in batch if p not in returned]
            if missing:
                self.not_found.extend(missing)
                log.warning("PubMed returned no record for %d PMID(s): %s", len(missing), _some(missing))
            yield articles

    # ------------------------------------------------------------------ one request, retried

    def _call(
        self, util: str, params: dict[str, Any], parse: Callable[[bytes], T], pending: tuple[str, ...]
    ) -> T:
        params = dict(params, tool=self.tool, email=self.email, api_key=self._api_key)
        last = "no attempt"
        for attempt in range(1, self.max_tries + 1):
            self._limiter.wait()
            try:
                return parse(self._open(util, params))
            except _Retry as exc:
                last, delay = exc.reason, exc.delay
            except ParseError as exc:
                last, delay = str(exc), None
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES:
                    raise FetchError(
                        _failure(util, f"HTTP {exc.code} {exc.reason}", pending), pending
                    ) from None
                last, delay = f"HTTP {exc.code} {exc.reason}", _retry_after(exc.headers)
            except TimeoutError as exc:
                last, delay = f"timed out after {self.timeout:g} s ({exc or 'no response'})", None
            except urllib.error.URLError as exc:
                last, delay = f"connection failed ({exc.reason})", None
            except (http.client.HTTPException, ConnectionError, OSError) as exc:
                last, delay = f"connection broken ({type(exc).__name__}: {exc})", None
            last = mask_secrets(last, self._api_key)
            if attempt == self.max_tries:
                break
            wait = self._delay(attempt, delay)
            log.warning(
                "%s attempt %d/%d failed: %s; retrying in %.2f s", util, attempt, self.max_tries, last, wait
            )
            self._sleep(wait)
        raise FetchError(_failure(util, f"failed after {self.max_tries} tries: {last}", pending), pending)

    def _open(self, util: str, params: dict[str, Any]) -> bytes:
        function = getattr(Entrez, util)
        call = dict(params)
        with entrez_seam(self.base_url, self.timeout):
            if util == "esearch":
                handle = function(call.pop("db"), call.pop("term"), **call)
            else:
                handle = function(**call)
        try:
            body = handle.read()
        finally:
            handle.close()
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not body.strip():
            raise _Retry("empty response body")
        return body

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_max)
        base = min(self.backoff * 2 ** (attempt - 1), self.backoff_max)
        return base * (0.5 + random.random() / 2)  # jitter: concurrent clients do not retry in step


def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _parse_esearch(body: bytes) -> _Page:
    root = parse_document(body, "esearch response")
    if root.tag != "eSearchResult":
        raise ParseError(f"esearch response: unexpected root element <{root.tag}>")
    error = root.findtext("ERROR")
    if error is not None:
        raise ParseError(f"esearch response: E-utilities returned an error: {' '.join(error.split())[:200]}")
    count = (root.findtext("Count") or "").strip()
    if not count.isdigit():
        raise ParseError("esearch response: no <Count>")
    ids = tuple((node.text or "").strip() for node in root.iterfind("IdList/Id"))
    return _Page(int(count), tuple(i for i in ids if i), root.findtext("WebEnv"), root.findtext("QueryKey"))


_DATE = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")


def normalise_date(value: str, option: str) -> str:
    """``2024``, ``2024/03``, ``2024-03-15`` -> E-utilities' ``YYYY[/MM[/DD]]``; else ``InputError``."""
    match = _DATE.match(value.strip())
    if not match:
        raise InputError(f"{option} {value!r} is not a date (use YYYY, YYYY/MM or YYYY/MM/DD)")
    year, month, day = match.groups()
    if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
        raise InputError(f"{option} {value!r} is not a valid date")
    return "/".join(p.zfill(2) if i else p for i, p in enumerate(x for x in (year, month, day) if x))


def _date_params(mindate: str | None, maxdate: str | None, datetype: str) -> dict[str, str]:
    if not mindate and not maxdate:
        return {}
    if datetype not in DATETYPES:
        raise InputError(f"--datetype {datetype!r} is not one of {', '.join(DATETYPES)}")
    # E-utilities needs both ends; an open end is the earliest/latest date PubMed accepts
    low = normalise_date(mindate, "--mindate") if mindate else "1800"
    high = normalise_date(maxdate, "--maxdate") if maxdate else "3000"
    if low.split("/")[0] > high.split("/")[0]:
        raise InputError(f"--mindate {mindate} is after --maxdate {maxdate}")
    return {"mindate": low, "maxdate": high, "datetype": datetype}


def _some(pmids: Sequence[str], shown: int = 10) -> str:
    text = ", ".join(pmids[:shown])
    return text + (f" (+{len(pmids) - shown} more)" if len(pmids) > shown else "")


def _failure(util: str, reason: str, pending: tuple[str, ...]) -> str:
    if not pending:
        return f"{util} {reason}"
    return f"{util} {reason}; {len(pending)} PMID(s) not fetched: {_some(pending)}"
