"""A real E-utilities server on 127.0.0.1 for tests: real PubMed XML, injectable faults, a request log.

It serves the PubMed records found in ``../shared/data/pubmed_xml/`` (604 citations of the MEDLINE
baseline sample ``medline16n0902.xml.gz``, plus the real efetch responses in ``biopython/Entrez``), so
clients are tested over real HTTP with real bytes — no mock of Bio.Entrez anywhere.

Endpoints (any path prefix; only the last path segment counts)::

    esearch.fcgi  db, term, retstart, retmax, usehistory=y, WebEnv, mindate, maxdate, datetype
                  -> <eSearchResult> with Count, RetMax, RetStart, IdList, WebEnv, QueryKey
    efetch.fcgi   db, id=1,2,3 (GET or POST), or WebEnv + query_key + retstart/retmax
                  -> <PubmedArticleSet> of the known ids, unknown ids omitted (as NCBI does)

Search terms: ``all[sb]`` or ``*`` match everything; ``123[uid] OR 456[uid]`` match those PMIDs;
anything else matches records whose title, abstract or MeSH contain every word (boolean operators,
quotes and ``[field]`` tags ignored). Results are newest first by the record's date (Entrez date, else
DateCreated, else the journal year), which ``mindate``/``maxdate`` filter for every ``datetype`` but
``mdat``: that one filters on the date of the record's last revision (``revise``), else the same date.

Python API::

    server = EutilsServer()                 # or EutilsServer(records=load_records([...files]))
    server.start(); server.base_url         # "http://127.0.0.1:PORT/entrez/eutils/"
    server.add_fault("429", retry_after=1)  # queue faults; each hits the next matching request
    server.add_fault("503", endpoint="efetch", times=2, skip=1)  # the 2nd and 3rd efetch fail
    server.requests                         # [LoggedRequest(time, endpoint, params, status, fault)]
    server.pmids                            # the PMIDs served, newest first
    server.revise(pmid, abstract, "2024/02/15")  # PubMed revises a record: new abstract, new mdat
    server.count_override = 2_500_000       # esearch reports this count (synthetic ids past the real ones)
    server.max_rate = 3.0                   # answer 429 when a client exceeds this many requests/s
    server.stop()                           # also: ``with EutilsServer() as server: ...``

Fault kinds:

* ``"400"``: a bad request, not to be retried; ``"429"``: with ``retry_after`` seconds;
  ``"500"``, ``"502"``, ``"503"``: server errors;
* ``"reset"``: TCP reset, no response; ``"slow"``: waits ``delay`` seconds, then answers normally;
* ``"truncate"``: 200, the body cut in half, connection closed; ``"malformed"``: 200, mismatched tags;
* ``"error"``: 200 with an ``<ERROR>`` element, as NCBI sends for an expired WebEnv;
* ``"count_change"``: esearch only; from then on Count is ``delta`` higher, as when PubMed indexes
  records during a search.

Command line, for manual runs: ``python -m tests.eutils_server --port 8765`` then
``resistmine fetch --eutils-url http://127.0.0.1:8765/entrez/eutils/ ...``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RESISTMINE_SHARED", REPO.parent / "shared"))
XML_DIR = SHARED / "data" / "pubmed_xml"
DEFAULT_FILES = (
    "medline_baseline_samples/medline16n0902.xml.gz",
    "medline_baseline_samples/test_current_medline.xml.gz",
    "medline_baseline_samples/pubmed-29768149.xml",
    "biopython/Entrez/pubmed1.xml",
    "biopython/Entrez/pubmed2.xml",
    "biopython/Entrez/pubmed4.xml",
    "biopython/Entrez/pubmed5.xml",
    "biopython/Entrez/pubmed6.xml",
    "biopython/Entrez/pubmed7.xml",
)
FAULT_KINDS = (
    "400", "429", "500", "502", "503", "reset", "slow", "truncate", "malformed", "error", "count_change",
)  # fmt: skip
SET_HEAD = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)
SET_TAIL = b"</PubmedArticleSet>\n"
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}


@dataclass(frozen=True)
class Record:
    pmid: str
    xml: bytes  # one <PubmedArticle> element
    date: str  # YYYY/MM/DD
    text: str  # lower-cased title, abstract and MeSH, for matching
    modified: str = ""  # YYYY/MM/DD, set by ``EutilsServer.revise``; else ``date``


@dataclass
class Fault:
    kind: str
    endpoint: str | None = None
    times: int = 1
    retry_after: float | None = None
    delay: float = 2.0
    delta: int = 7
    skip: int = 0  # let this many matching requests pass before the fault starts


@dataclass(frozen=True)
class LoggedRequest:
    time: float
    endpoint: str
    params: dict
    status: int
    fault: str | None = None

    @property
    def ids(self) -> list[str]:
        value = self.params.get("id", "")
        return [i for i in value.split(",") if i]


# ------------------------------------------------------------------------------------------- records


def load_records(paths: Iterable[Path | str] | None = None) -> dict[str, Record]:
    """Records from PubMed XML files (``.xml``/``.xml.gz``); the first copy of a PMID wins."""
    files = [Path(p) for p in paths] if paths is not None else [XML_DIR / f for f in DEFAULT_FILES]
    records: dict[str, Record] = {}
    for path in files:
        if not path.exists():
            continue
        opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
        with opener(path, "rb") as handle:
            parser = etree.iterparse(
                handle,
                events=("end",),
                tag=("PubmedArticle", "MedlineCitation"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
            )
            for _, element in parser:
                parent = element.getparent()
                if element.tag == "MedlineCitation" and parent is not None and parent.tag == "PubmedArticle":
                    continue
                record = _record(element)
                if record is not None:
                    records.setdefault(record.pmid, record)
                element.clear(keep_tail=False)
    return records


def _record(element: etree._Element) -> Record | None:
    citation = element if element.tag == "MedlineCitation" else element.find("MedlineCitation")
    if citation is None:
        return None
    pmid = (citation.findtext("PMID") or "").strip()
    if not pmid.isdigit():
        return None
    if element.tag == "MedlineCitation":
        xml = b"<PubmedArticle>" + etree.tostring(element, encoding="utf-8") + b"</PubmedArticle>"
    else:
        xml = etree.tostring(element, encoding="utf-8")
    xml = re.sub(rb"</PubmedArticle>\s*$", b"</PubmedArticle>\n", xml.strip())
    title_node = citation.find("Article/ArticleTitle")
    title = "".join(title_node.itertext()) if title_node is not None else ""
    abstract = " ".join("".join(a.itertext()) for a in citation.iterfind("Article/Abstract/AbstractText"))
    mesh = " ".join(d.text or "" for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName"))
    return Record(pmid, xml, _date(element, citation), f"{title} {abstract} {mesh}".lower())


def _date(element: etree._Element, citation: etree._Element) -> str:
    candidates = [
        element.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']"),
        citation.find("DateCreated"),
        citation.find("DateCompleted"),
        citation.find("Article/Journal/JournalIssue/PubDate"),
    ]
    for node in candidates:
        if node is None:
            continue
        year = (node.findtext("Year") or "").strip()
        if not year.isdigit():
            medline = node.findtext("MedlineDate") or ""
            match = re.search(r"\d{4}", medline)
            if not match:
                continue
            year = match.group(0)
        month_text = (node.findtext("Month") or "1").strip().lower()
        month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text[:3], 1)
        day_text = (node.findtext("Day") or "1").strip()
        day = int(day_text) if day_text.isdigit() else 1
        return f"{int(year):04d}/{month:02d}/{day:02d}"
    return "1900/01/01"


# ------------------------------------------------------------------------------------------- server


class EutilsServer:
    """See the module docstring."""

    def __init__(
        self, records: dict[str, Record] | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.records = records if records is not None else load_records()
        self._ordered = sorted(self.records.values(), key=lambda r: (r.date, int(r.pmid)), reverse=True)
        self.host, self.port = host, port
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self.count_override: int | None = None
        self.max_rate: float | None = None
        self.count_growth = 0
        self._arrivals: list[float] = []
        self._history: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> EutilsServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="eutils", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> EutilsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/entrez/eutils/"

    @property
    def pmids(self) -> list[str]:
        return [r.pmid for r in self._ordered]

    # -- test controls
    def add_fault(
        self,
        kind: str,
        *,
        endpoint: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
        delay: float = 2.0,
        delta: int = 7,
        skip: int = 0,
    ) -> None:
        """Queue a fault for the next ``times`` requests to ``endpoint`` (any), after ``skip`` of them."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self.faults.append(Fault(kind, endpoint, times, retry_after, delay, delta, skip))

    def revise(self, pmid: str, abstract: str, modified: str) -> None:
        """Give a record a new abstract, as PubMed revises records (an abstract added after indexing, a
        correction): its modification date (``datetype=mdat``) becomes ``modified``, its entry date stays."""
        record = self.records[pmid]
        element = etree.fromstring(record.xml)
        article = element.find("MedlineCitation/Article")
        block = article.find("Abstract")
        if block is None:
            block = etree.Element("Abstract")
            article.find("ArticleTitle").addnext(block)
        for old in list(block):
            block.remove(old)
        etree.SubElement(block, "AbstractText").text = abstract
        revised = _record(element)
        with self._lock:
            self.records[pmid] = Record(pmid, revised.xml, record.date, revised.text, modified)
            self._ordered = [self.records[r.pmid] for r in self._ordered]

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()

    def requests_to(self, endpoint: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    def _next_fault(self, endpoint: str) -> Fault | None:
        chosen = None
        with self._lock:
            for fault in list(self.faults):
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.kind == "count_change" and endpoint != "esearch":
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if chosen is None:
                    chosen = fault
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
        return chosen

    def _over_rate(self) -> bool:
        """NCBI's rule: more than ``max_rate`` requests arriving within one second get 429."""
        with self._lock:
            now = time.monotonic()
            self._arrivals = [t for t in self._arrivals if t > now - 1.0] + [now]
            return bool(self.max_rate) and len(self._arrivals) > self.max_rate

    def _log(self, endpoint: str, params: dict, status: int, fault: str | None) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(time.monotonic(), endpoint, params, status, fault))

    # -- E-utilities
    def search(self, params: dict[str, str]) -> tuple[int, list[str]]:
        term = params.get("term", "").strip()
        uid_terms = re.findall(r"(\d+)\s*\[(?:uid|pmid)\]", term, re.IGNORECASE)
        if term.lower() in ("all[sb]", "*", "all"):
            matched = list(self._ordered)
        elif uid_terms:
            wanted = set(uid_terms)
            matched = [r for r in self._ordered if r.pmid in wanted]
        else:
            words = [w.strip('"()').lower() for w in re.sub(r"\[[^\]]*\]", " ", term).split()]
            words = [w for w in words if w and w not in ("and", "or", "not")]
            matched = [r for r in self._ordered if all(w in r.text for w in words)]
        low, high = params.get("mindate"), params.get("maxdate")
        if low or high:
            low_key = _date_key(low or "1800", end=False)
            high_key = _date_key(high or "3000", end=True)
            by_modification = params.get("datetype") == "mdat"
            matched = [r for r in matched
                       if low_key <= ((r.modified or r.date) if by_modification else r.date) <= high_key]
        pmids = [r.pmid for r in matched]
        count = len(pmids)
        if self.count_override is not None:
            count = self.count_override
        return count, pmids

    def efetch_body(self, pmids: list[str]) -> bytes:
        parts = [self.records[p].xml for p in pmids if p in self.records]
        return SET_HEAD + b"".join(parts) + SET_TAIL


def _date_key(value: str, end: bool) -> str:
    parts = re.split(r"[/-]", value.strip())
    year = parts[0]
    month = parts[1] if len(parts) > 1 else ("12" if end else "01")
    day = parts[2] if len(parts) > 2 else ("31" if end else "01")
    return f"{int(year):04d}/{int(month):02d}/{int(day):02d}"


class _Handler(BaseHTTPRequestHandler):
    server_state: EutilsServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle(parse_qs(urlparse(self.path).query))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        params = parse_qs(urlparse(self.path).query)
        params.update(parse_qs(body))
        self._handle(params)

    def _handle(self, raw: dict[str, list[str]]) -> None:
        state = self.server_state
        params = {k: v[-1] for k, v in raw.items()}
        endpoint = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
        if endpoint not in ("esearch", "efetch"):
            state._log(endpoint, params, 404, None)
            return self._send(404, b"unknown E-utility", "text/plain")
        if state._over_rate():
            state._log(endpoint, params, 429, "rate")
            return self._send(
                429, b'{"error":"API rate limit exceeded"}', "application/json", {"Retry-After": "1"}
            )
        fault = state._next_fault(endpoint)
        kind = fault.kind if fault else None
        try:
            if kind in ("400", "429", "500", "502", "503"):
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                state._log(endpoint, params, int(kind), kind)
                return self._send(int(kind), f"fault {kind}".encode(), "text/plain", headers)
            if kind == "reset":
                state._log(endpoint, params, 0, kind)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if kind == "slow":
                state._log(endpoint, params, 200, kind)  # logged on arrival: the client has gone by the end
                time.sleep(fault.delay)
            body = self._esearch(params, fault) if endpoint == "esearch" else self._efetch(params)
            if kind == "malformed":
                body = (
                    SET_HEAD + b"<PubmedArticle><MedlineCitation><PMID>1</PMID></PubmedArticle>\n" + SET_TAIL
                )
            elif kind == "error":
                root = b"eSearchResult" if endpoint == "esearch" else b"eFetchResult"
                body = _error_body("Unable to obtain query #1", root)
            if kind != "slow":
                state._log(endpoint, params, 200, kind)
            if kind == "truncate":
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: max(1, len(body) // 2)])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(200, body, "text/xml; charset=UTF-8")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (e.g. timed out on a slow response)

    def _esearch(self, params: dict[str, str], fault: Fault | None) -> bytes:
        state = self.server_state
        count, pmids = state.search(params)
        if fault is not None and fault.kind == "count_change":
            with state._lock:
                state.count_growth += fault.delta  # PubMed keeps growing: the change persists
        count += state.count_growth
        retstart = int(params.get("retstart", 0) or 0)
        retmax = int(params.get("retmax", 20) or 0)
        if state.count_override is not None:  # a huge result: synthetic ids after the real ones
            stop = min(retstart + retmax, count)
            ids = [pmids[i] if i < len(pmids) else str(90_000_000 + i) for i in range(retstart, stop)]
        else:
            ids = list(pmids[retstart : retstart + retmax])
        webenv = params.get("WebEnv") or f"MCID_{uuid.uuid4().hex[:24]}"
        with state._lock:
            query_key = str(sum(1 for key in state._history if key[0] == webenv) + 1)
            state._history[(webenv, query_key)] = pmids
        id_xml = "".join(f"<Id>{i}</Id>\n" for i in ids)
        text = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
            '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
            f"<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax><RetStart>{retstart}</RetStart>"
            f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv><IdList>\n{id_xml}</IdList>"
            "<TranslationSet/></eSearchResult>\n"
        )
        return text.encode("utf-8")

    def _efetch(self, params: dict[str, str]) -> bytes:
        state = self.server_state
        if params.get("id"):
            pmids = [p.strip() for p in params["id"].split(",") if p.strip()]
        elif params.get("WebEnv") and params.get("query_key"):
            stored = state._history.get((params["WebEnv"], params["query_key"]))
            if stored is None:
                return _error_body(f"Unable to obtain query #{params['query_key']}")
            retstart = int(params.get("retstart", 0) or 0)
            retmax = int(params.get("retmax", 20) or 20)
            pmids = stored[retstart : retstart + retmax]
        else:
            return _error_body("Empty id list - nothing todo")
        return state.efetch_body(pmids)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _error_body(message: str, root: bytes = b"eFetchResult") -> bytes:
    """What NCBI sends with status 200 when it cannot answer: an <ERROR> element."""
    head = b'<?xml version="1.0" encoding="UTF-8" ?>\n<' + root + b">\n\t<ERROR>"
    return head + message.encode() + b"</ERROR>\n</" + root + b">\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local E-utilities server over real PubMed XML")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--file", action="append", help="PubMed XML file to serve (default: the shared samples)"
    )
    parser.add_argument(
        "--fault", action="append", default=[], help=f"queue a fault, one of {', '.join(FAULT_KINDS)}"
    )
    args = parser.parse_args(argv)
    server = EutilsServer(load_records(args.file) if args.file else None, host=args.host, port=args.port)
    for kind in args.fault:
        server.add_fault(kind)
    server.start()
    print(f"serving {len(server.records)} PubMed records at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
