"""Throughput and memory of every stage, measured in one run on the same texts.

``run_bench`` parses the corpus files once, then times, on the abstracts found there: XML parsing
(our streaming parser against Biopython's ``Entrez.read`` on the same bytes), spaCy's bare tokenizer
(``spacy.blank("en")``, the floor any pipeline pays), every pipeline component (summed into NER and
relations), and end to end (parse → extract → store) with one process and with every core. Peak
memory is the resident set high-water mark of this process and of its worker processes.

Speed is checked here, by a command anyone can rerun, and never by timed tests.
"""

from __future__ import annotations

import gzip
import io
import os
import platform
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from corpus.article import Article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "pubmed_xml" / "medline_baseline_samples" / (
    "medline16n0902.xml.gz"
)

# The targets for this 2-core machine.
TARGET_E2E_PER_CORE = 400.0  # abstracts/s per core, end to end
TARGET_TOKENIZER_SHARE = 0.25  # end to end (1 process) / bare tokenizer
TARGET_XML_VS_ENTREZ = 5.0  # our parser / Entrez.read
TARGET_PEAK_RSS_MB = 2048.0

# Pipeline factories that belong to relation extraction (the `extractors.relations` package); all other
# components count as NER.
RELATION_FACTORIES = frozenset({"resistmine_mechanisms", "resistmine_cues", "resistmine_relations"})


@dataclass(frozen=True)
class StageResult:
    """One timed stage: ``items`` processed in ``seconds``; ``error`` says why it could not run."""

    name: str
    items: int
    seconds: float
    unit: str = "abstracts"
    processes: int = 1
    note: str = ""
    error: str = ""
    cpu_seconds: float | None = None  # user + system time of this process and its workers

    @property
    def rate(self) -> float | None:
        if self.error or self.seconds <= 0:
            return None
        return self.items / self.seconds

    @property
    def cpu_rate(self) -> float | None:
        """Items per CPU second: what one dedicated core does, even when the machine is shared."""
        if self.error or not self.cpu_seconds:
            return None
        return self.items / self.cpu_seconds

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["per_second"] = None if self.rate is None else round(self.rate, 1)
        out["per_cpu_second"] = None if self.cpu_rate is None else round(self.cpu_rate, 1)
        out["seconds"] = round(self.seconds, 4)
        if self.cpu_seconds is not None:
            out["cpu_seconds"] = round(self.cpu_seconds, 4)
        return out


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class BenchReport:
    corpus: tuple[str, ...]
    citations: int
    abstracts: int
    characters: int
    cores: int
    stages: tuple[StageResult, ...]
    components: dict[str, float]
    peak_rss_mb: float
    peak_rss_children_mb: float
    pipeline_rss_mb: float
    environment: dict[str, str] = field(default_factory=dict)
    copies: int = 1  # the corpus was mined this many times over (``replicate_corpus``)
    # peak RSS of a fresh process that only loads the pipeline and mines the corpus (``mining_peak_rss``);
    # None when it could not run, and then the target falls back to this process and its workers
    mining_peak_rss_mb: float | None = None

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    def _rate(self, name: str, cpu: bool = False) -> float | None:
        found = self.stage(name)
        if found is None:
            return None
        return found.cpu_rate if cpu else found.rate

    def ratios(self) -> dict[str, float | None]:
        """The figures the targets are stated in; ``None`` when a stage failed."""
        rate = self._rate
        e2e_all = self.stage("end_to_end_all_cores")
        per_core = None
        if e2e_all and e2e_all.rate is not None:
            per_core = round(e2e_all.rate / max(1, e2e_all.processes), 1)
        return {
            "xml_vs_entrez": _div(rate("xml_parse"), rate("entrez_read")),
            "xml_lxml_reader_vs_entrez": _div(rate("xml_parse_lxml"), rate("entrez_read")),
            "end_to_end_1_vs_tokenizer": _div(rate("end_to_end_1_process"), rate("blank_tokenizer")),
            "ner_vs_tokenizer": _div(rate("ner"), rate("blank_tokenizer")),
            "end_to_end_per_core": per_core,
            "end_to_end_1_process": _round(rate("end_to_end_1_process")),
            "all_cores_speedup": _div(rate("end_to_end_all_cores"), rate("end_to_end_1_process")),
        }

    def cpu_ratios(self) -> dict[str, float | None]:
        """The same figures per CPU second: what dedicated cores give when the machine is shared."""

        def rate(name: str) -> float | None:
            return self._rate(name, cpu=True)

        return {
            "xml_vs_entrez": _div(rate("xml_parse"), rate("entrez_read")),
            "xml_lxml_reader_vs_entrez": _div(rate("xml_parse_lxml"), rate("entrez_read")),
            "end_to_end_1_vs_tokenizer": _div(rate("end_to_end_1_process"), rate("blank_tokenizer")),
            "end_to_end_per_core": _round(rate("end_to_end_1_process")),
            "end_to_end_first_sight_per_core": _round(rate("end_to_end_first_sight")),
            "end_to_end_after_warm_up_per_core": _round(rate("end_to_end_after_warm_up")),
            "end_to_end_all_cores_per_core": _round(rate("end_to_end_all_cores")),
        }

    def cpu_projection_hours(self, abstracts: int = 26_000_000, workers: int = 1,
                             new_text: bool = False) -> float | None:
        """Wall time on ``workers`` dedicated cores at the per-CPU-second rate on repeated texts, or with
        ``new_text`` at the rate on abstracts the pipeline has not seen (after the warm-up when there was
        one: a long run's pipeline has seen many abstracts)."""
        ratios = self.cpu_ratios()
        if new_text:
            per_core = ratios["end_to_end_after_warm_up_per_core"]
            per_core = per_core or ratios["end_to_end_first_sight_per_core"]
        else:
            per_core = ratios["end_to_end_per_core"]
        return self._hours(abstracts, per_core, workers, cpu=True)

    def writer_limit(self, cpu: bool = False) -> float | None:
        """Abstracts/s the single store writer can take (its citations/s times abstracts per citation)."""
        found = self.stage("store_write")
        rate = None if found is None else found.cpu_rate if cpu else found.rate
        if not rate or not self.citations:
            return None
        return rate * self.abstracts / self.citations

    def _hours(self, abstracts: int, per_core: float | None, workers: int, cpu: bool) -> float | None:
        """Compute-bound wall time, unless the one store writer is slower than the workers together."""
        if not per_core:
            return None
        throughput = per_core * workers
        limit = self.writer_limit(cpu) if workers > 1 else None
        if limit:
            throughput = min(throughput, limit)
        return round(abstracts / throughput / 3600, 2)

    def targets(self) -> dict[str, bool | None]:
        r = self.ratios()

        def at_least(value: float | None, target: float) -> bool | None:
            return None if value is None else value >= target

        # Per core: the better of the 1-process figure and the all-cores figure divided by cores.
        per_core = max((v for v in (r["end_to_end_per_core"], r["end_to_end_1_process"]) if v), default=None)
        return {
            f"end_to_end >= {TARGET_E2E_PER_CORE:.0f} abstracts/s per core": at_least(
                per_core, TARGET_E2E_PER_CORE
            ),
            f"end_to_end >= {TARGET_TOKENIZER_SHARE:.0%} of bare tokenizer": at_least(
                r["end_to_end_1_vs_tokenizer"], TARGET_TOKENIZER_SHARE
            ),
            f"xml parsing >= {TARGET_XML_VS_ENTREZ:.0f}x Entrez.read": at_least(
                r["xml_vs_entrez"], TARGET_XML_VS_ENTREZ
            ),
            f"peak RSS < {TARGET_PEAK_RSS_MB:.0f} MiB": self.mining_rss_mb() < TARGET_PEAK_RSS_MB,
        }

    def mining_rss_mb(self) -> float:
        """The memory a mining process needs: measured alone when it could be, else this process's peak,
        which also holds the bench's own lists and ``Entrez.read``'s records (~90 KB a citation)."""
        if self.mining_peak_rss_mb is not None:
            return self.mining_peak_rss_mb
        return max(self.peak_rss_mb, self.peak_rss_children_mb)

    def projection_hours(self, abstracts: int = 26_000_000, workers: int = 1) -> float | None:
        """Wall time for ``abstracts`` at the measured per-core rate on ``workers`` single-core workers
        (capped by the store writer's rate)."""
        r = self.ratios()
        per_core = max((v for v in (r["end_to_end_per_core"], r["end_to_end_1_process"]) if v), default=None)
        return self._hours(abstracts, per_core, workers, cpu=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "corpus": list(self.corpus),
            "copies": self.copies,
            "citations": self.citations,
            "abstracts": self.abstracts,
            "characters": self.characters,
            "cores": self.cores,
            "stages": {s.name: s.as_dict() for s in self.stages},
            "components_seconds": {k: round(v, 4) for k, v in self.components.items()},
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_rss_children_mb": round(self.peak_rss_children_mb, 1),
            "mining_peak_rss_mb": _round(self.mining_peak_rss_mb),
            "pipeline_rss_mb": round(self.pipeline_rss_mb, 1),
            "ratios": self.ratios(),
            "targets": self.targets(),
            "ratios_per_cpu_second": self.cpu_ratios(),
            "store_writer_limit_abstracts_per_second": {
                "wall": None if self.writer_limit() is None else round(self.writer_limit(), 1),
                "cpu": None if self.writer_limit(True) is None else round(self.writer_limit(True), 1),
            },
            "projection_hours_26M": {
                "this_machine": self.projection_hours(workers=self.cores),
                **{f"{n}_workers": self.projection_hours(workers=n) for n in (8, 32, 128)},
            },
            "projection_hours_26M_per_cpu_second": {
                "this_machine": self.cpu_projection_hours(workers=self.cores),
                **{f"{n}_workers": self.cpu_projection_hours(workers=n) for n in (8, 32, 128)},
            },
            "projection_hours_26M_new_text_per_cpu_second": {
                "this_machine": self.cpu_projection_hours(workers=self.cores, new_text=True),
                **{f"{n}_workers": self.cpu_projection_hours(workers=n, new_text=True) for n in (8, 32, 128)},
            },
            "environment": self.environment,
        }


# --------------------------------------------------------------------------------------------- stages


def _timed(func: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    items = func()
    return items, time.perf_counter() - start


def parse_files(files: Sequence[Path], engine: str | None = None) -> list[Article]:
    """Every citation in ``files`` (deletions dropped), parsed by the project's streaming parser."""
    from corpus.pubmed_xml import iter_pubmed_xml

    return [record for path in files for record in iter_pubmed_xml(path, engine=engine)
            if isinstance(record, Article)]


def bench_xml_parse(files: Sequence[Path], repeat: int = 3,
                    engine: str | None = None) -> tuple[StageResult, list[Article]]:
    """Our streaming parser from the file (gzip included), as the bulk flow reads it; best of ``repeat``.

    ``engine``: the XML reader (default: the one the bulk flow uses, ``corpus.pubmed_xml.DEFAULT_ENGINE``).
    """
    from corpus.pubmed_xml import DEFAULT_ENGINE

    engine = engine or DEFAULT_ENGINE
    best, best_cpu, articles = float("inf"), 0.0, []
    for _ in range(max(1, repeat)):
        start, cpu_start = time.perf_counter(), cpu_seconds()
        articles = parse_files(files, engine)
        if time.perf_counter() - start < best:
            best, best_cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    name = "xml_parse" if engine == DEFAULT_ENGINE else f"xml_parse_{engine}"
    stage = StageResult(name, len(articles), best, unit="citations",
                        note=f"{engine} reader; best of {repeat}", cpu_seconds=best_cpu)
    return stage, articles


_DTD_RE = re.compile(rb"([a-z_]+?)_?(\d{6})\.dtd")
_RECORDS = re.compile(r"<(?:PubmedArticle|MedlineCitation|PubmedBookArticle|DeleteCitation)[\s>]")
_RECORD_END = re.compile(r"</(?:PubmedArticle|MedlineCitation|PubmedBookArticle|DeleteCitation)>")
_PMID_ELEMENT = re.compile(r"(<PMID\b[^>]*>)\s*(\d+)\s*(</PMID>)")
PMID_OFFSET = 100_000_000  # copy k adds k times this to every PMID


def _renumbered(records: str, shift: int) -> str:
    return _PMID_ELEMENT.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + shift}{m.group(3)}", records)


def replicate_corpus(files: Sequence[Path], copies: int, out_dir: Path) -> list[Path]:
    """Each file's records ``copies`` times over, in one new ``.xml.gz`` per file, every PMID of copy k
    raised by k × ``PMID_OFFSET``: a larger input whose multi-process run is not dominated by starting
    the worker pool. The texts repeat, so its caches run as warm as on repeated texts."""
    out = []
    for number, path in enumerate(files):
        text = _entrez_input(path).decode("utf-8")
        starts, ends = list(_RECORDS.finditer(text)), list(_RECORD_END.finditer(text))
        if not starts or not ends:
            out.append(path)
            continue
        first, last = starts[0].start(), ends[-1].end()
        head, body, tail = text[:first], text[first:last], text[last:]
        parts = [_renumbered(body, copy * PMID_OFFSET) for copy in range(copies)]
        out.append(_write_derived(out_dir, f"copies{copies}-{number}", path, head + "\n".join(parts) + tail))
    return out


def _write_derived(out_dir: Path, label: str, source: Path, text: str) -> Path:
    """``text`` as ``out_dir/LABEL-STEM.xml.gz``, STEM the name of the file it was made from."""
    stem = source.name.removesuffix(".gz").removesuffix(".xml")
    target = out_dir / f"{label}-{stem}.xml.gz"
    with gzip.open(target, "wt", encoding="utf-8") as handle:
        handle.write(text)
    return target


def _entrez_input(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.read()


def _nearest_bundled_dtd(data: bytes) -> tuple[bytes, str] | None:
    """Point the DOCTYPE at the newest shipped DTD of the same family when Biopython lacks the named one."""
    from Bio import Entrez

    head = data[:2048]
    match = _DTD_RE.search(head)
    if not match:
        return None
    family, stamp = match.group(1).decode(), match.group(2).decode()
    dtd_dir = Path(Entrez.__file__).parent / "DTDs"
    def stamp_of(name: str) -> str:
        return name[len(family) + 1 : -4]

    shipped = sorted(p.name for p in dtd_dir.glob(f"{family}_*.dtd") if stamp_of(p.name).isdigit())
    older = [name for name in shipped if stamp_of(name) <= stamp]
    if not older or older[-1] == match.group(0).decode():
        return None
    replaced = data[:2048].replace(match.group(0), older[-1].encode(), 1) + data[2048:]
    return replaced, f"{match.group(0).decode()} is not shipped with Biopython; timed with {older[-1]}"


def _count_entrez(record: Any) -> int:
    if isinstance(record, dict):
        keys = ("PubmedArticle", "MedlineCitation", "PubmedBookArticle")
        return sum(len(record.get(key, ())) for key in keys)
    return len(record)


def bench_entrez_read(files: Sequence[Path], repeat: int = 3) -> StageResult:
    """Biopython's ``Entrez.read`` (validate=False) on the same files, best of ``repeat``; failures shown."""
    return _best_entrez([_entrez_once(files) for _ in range(max(1, repeat))])


def _best_entrez(runs: Sequence[StageResult]) -> StageResult:
    best = min(runs, key=lambda r: (bool(r.error), r.seconds))
    note = "; ".join(filter(None, [f"best of {len(runs)}", best.note]))
    return StageResult(best.name, best.items, best.seconds, best.unit, note=note, error=best.error,
                       cpu_seconds=best.cpu_seconds)


def bench_xml_readers(files: Sequence[Path], repeat: int = 3) -> tuple[list[StageResult], list[Article]]:
    """Each XML reader built (``xml_parse``: the default; ``xml_parse_lxml``: the fallback, for reference)
    and ``Entrez.read``, in turns, best of ``repeat`` each. Taking turns puts the machine's slow and fast
    spells on all of them alike; timed one after the other, a short stage could fall in one spell alone."""
    from corpus.pubmed_xml import ENGINES

    runs: dict[str, list[StageResult]] = {engine: [] for engine in ENGINES}
    entrez: list[StageResult] = []
    articles: list[Article] = []
    for round_number in range(max(1, repeat)):
        for engine in ENGINES:
            stage, parsed = bench_xml_parse(files, 1, engine)
            runs[engine].append(stage)
            if not round_number and engine == ENGINES[0]:
                articles = parsed  # one copy is all the other stages need (a baseline file's is ~230 MB)
        entrez.append(_entrez_once(files))
    stages = [
        replace(min(timed, key=lambda stage: stage.seconds),
                note=f"{engine} reader; best of {len(timed)}, in turns with Entrez.read")
        for engine, timed in runs.items()
    ]
    return [*stages, _best_entrez(entrez)], articles


def _entrez_once(files: Sequence[Path]) -> StageResult:
    """Wall and CPU time of reading each file and of its successful ``Entrez.read``: a first attempt that
    fails (a DTD Biopython does not ship) is counted in neither, so the comparison stays fair to it."""
    from Bio import Entrez

    items, seconds, cpu, notes, errors = 0, 0.0, 0.0, [], []
    for path in files:
        start, cpu_start = time.perf_counter(), cpu_seconds()
        data = _entrez_input(path)  # reading and gunzip are timed, as they are for our parser
        read_seconds, read_cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        attempts = [(data, "")]
        fallback = _nearest_bundled_dtd(data)
        if fallback:
            attempts.append(fallback)
        for payload, note in attempts:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            try:
                record = Entrez.read(io.BytesIO(payload), validate=False)
            except Exception as exc:  # Entrez.read raises many types; each is a finding to report
                errors.append(f"{path.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
                continue
            seconds += read_seconds + time.perf_counter() - start
            cpu += read_cpu + cpu_seconds() - cpu_start
            items += _count_entrez(record)
            if note:
                notes.append(f"{path.name}: {note}")
            break
        else:
            return StageResult("entrez_read", 0, 0.0, unit="citations", note="; ".join(notes),
                               error="; ".join(errors))
    return StageResult("entrez_read", items, seconds, unit="citations",
                       note="; ".join(notes + [f"first attempt failed: {e}" for e in errors]),
                       cpu_seconds=cpu)


class TokenizerReference:
    """spaCy's bare English tokenizer over the same texts: the floor any spaCy pipeline pays. After one
    warm-up pass (its caches), each timed pass runs just before a 1-process end-to-end run
    (``time_once``), so that the two sides of the ratio meet the machine in the same state."""

    def __init__(self, texts: Sequence[str], batch_size: int, repeat: int = 3) -> None:
        import spacy

        self.nlp = spacy.blank("en")
        self.texts, self.batch_size, self.repeat = texts, batch_size, max(1, repeat)
        self.runs: list[tuple[int, float, float]] = []
        self._pass()

    def _pass(self) -> tuple[int, float, float]:
        cpu_start = cpu_seconds()
        items, seconds = _timed(lambda: sum(1 for _ in self.nlp.pipe(self.texts, batch_size=self.batch_size)))
        return items, seconds, cpu_seconds() - cpu_start

    def time_once(self) -> None:
        self.runs.append(self._pass())

    def stage(self) -> StageResult:
        while len(self.runs) < self.repeat:  # the end-to-end runs failed early: time the rest now
            self.time_once()
        items, seconds, cpu = min(self.runs, key=lambda r: r[1])
        return StageResult("blank_tokenizer", items, seconds, cpu_seconds=cpu,
                           note=f"best of {len(self.runs)} after a warm-up, each before an end-to-end run")


def bench_components(nlp: Any, articles: Sequence[Article], batch_size: int) -> dict[str, float]:
    """Seconds in the tokenizer and in each pipeline component, each run over all docs in turn."""
    start = time.perf_counter()
    docs = [nlp.make_doc(article.text) for article in articles]
    timings = {"tokenizer": time.perf_counter() - start}
    if docs and docs[0].has_extension("pmid"):
        for doc, article in zip(docs, articles, strict=True):
            doc._.pmid = article.pmid
    for name, proc in nlp.pipeline:
        start = time.perf_counter()
        if hasattr(proc, "pipe"):
            docs = list(proc.pipe(docs, batch_size=batch_size))
        else:
            docs = [proc(doc) for doc in docs]
        timings[name] = time.perf_counter() - start
    return timings


def split_components(nlp: Any, timings: dict[str, float]) -> tuple[float, float]:
    """(NER seconds incl. tokenizer, relation seconds) from per-component timings."""
    relations = sum(
        seconds for name, seconds in timings.items()
        if name != "tokenizer" and nlp.get_pipe_meta(name).factory in RELATION_FACTORIES
    )
    return sum(timings.values()) - relations, relations


def end_to_end(files: Sequence[Path], nlp: Any, n_process: int, batch_size: int, limit: int | None,
               store_dir: Path) -> tuple[int, float, int, float, float]:
    """Parse → NER → relations → store, streaming, as the bulk flow does.

    Returns (abstracts, seconds, citations stored, wall and CPU seconds of the store writes): the store
    is one writer for every Dask worker, so its own rate bounds how far a cluster scales.
    """
    from corpus.store import CorpusStore
    from pipeline.bulk import iter_file_chunks

    store = CorpusStore(store_dir)
    start = time.perf_counter()
    done = stored = 0
    store_seconds = store_cpu = 0.0
    for path in files:
        for chunk in iter_file_chunks(path, nlp=nlp, n_process=n_process, batch_size=batch_size,
                                      limit=None if limit is None else limit - done):
            save_start, cpu_start = time.perf_counter(), _own_cpu()
            chunk.save(store)
            store_seconds += time.perf_counter() - save_start
            store_cpu += _own_cpu() - cpu_start
            done += chunk.abstracts
            stored += len(chunk.records)
        if limit is not None and done >= limit:
            break
    return done, time.perf_counter() - start, stored, store_seconds, store_cpu


def split_corpus(files: Sequence[Path], out_dir: Path,
                 records: int | None = None) -> tuple[list[Path], list[Path]]:
    """The first ``records`` records of ``files`` (all by default) cut into two halves, written as PubMed
    XML files with the same prolog and root: the first-sight stage times each half on a pipeline that has
    mined only the other one."""
    spans = []  # (file number, path, head, tail, record texts)
    for number, path in enumerate(files):
        text = _entrez_input(path).decode("utf-8")
        start = _RECORDS.search(text)
        if start is None:
            continue
        tag = start.group(0)[1:-1].strip()  # the top-level record element: PubmedArticle or MedlineCitation
        ends = [m.end() for m in re.finditer(f"</{tag}>", text)]
        bounds = [start.start(), *ends]
        bodies = [text[i:j] for i, j in zip(bounds, bounds[1:], strict=False)]
        spans.append((number, path, text[: start.start()], text[ends[-1] :] if ends else "", bodies))
    total = sum(len(bodies) for *_, bodies in spans)
    budget = total if records is None else min(records, total)
    cut = budget // 2
    first, second = [], []
    taken = 0
    for number, path, head, tail, bodies in spans:
        bodies = bodies[: max(0, budget - taken)]
        mine = {1: bodies[: max(0, cut - taken)], 2: bodies[max(0, cut - taken) :]}
        taken += len(bodies)
        for half, out in ((1, first), (2, second)):
            if mine[half]:
                text = head + "".join(mine[half]) + tail
                out.append(_write_derived(out_dir, f"half{half}-{number}", path, text))
    return first, second


def read_warm_up(paths: Sequence[Path], skip_pmids: set[str] = frozenset()) -> list[Article]:
    """Abstracts to mine before a first-sight run: PubMed XML (``.xml``/``.xml.gz``) or PubTator files,
    minus the benchmark's own PMIDs, so that what is timed stays unseen."""
    from corpus.build import make_article
    from corpus.errors import InputError
    from corpus.pubmed_xml import iter_pubmed_xml
    from extractors.evaluation.pubtator import read_pubtator

    articles: list[Article] = []
    for path in paths:
        if not path.is_file():
            raise InputError(f"warm-up corpus {path} does not exist")
        if path.name.endswith((".xml", ".xml.gz")):
            found = (a for a in iter_pubmed_xml(path) if isinstance(a, Article) and a.abstract)
        else:
            found = (make_article(d.pmid, d.title, [(None, None, d.abstract)]) for d in read_pubtator(path))
        articles.extend(a for a in found if a.pmid not in skip_pmids)
    unique = {a.pmid: a for a in articles}  # the annotated corpora share some abstracts
    if not unique:
        raise InputError(f"no abstracts in the warm-up corpus {', '.join(map(str, paths))} "
                         "but the benchmark's own")
    return list(unique.values())


def bench_first_sight(halves: tuple[Sequence[Path], Sequence[Path]], nlp: Any, batch_size: int,
                      warm_up: Sequence[Article] = (), name: str = "end_to_end_first_sight") -> StageResult:
    """End to end over abstracts the pipeline has not seen, on the same texts as every other stage: each
    half of the corpus is timed once, in a forked copy of the process, after that copy has mined the
    ``warm_up`` abstracts and the other half (lazy loads done, caches warm).

    Every other stage repeats texts it has already seen, and its caches (the tokenizer's, the lexicon
    flags, the gene tagger's token vectors) make repeats faster than new text. The halves are timed
    crosswise because they differ (the sample's first half has 16 % more characters)."""
    runs = []
    for timed, other in (halves, halves[::-1]):
        if not timed or not other:
            return StageResult(name, 0, 0.0, error="fewer than 2 records")
        runs.append(_in_child(_first_sight_half, timed, other, nlp, batch_size, warm_up))
    failed = next((run for run in runs if isinstance(run, str)), None)
    if failed is not None:
        return StageResult(name, 0, 0.0, error=failed)
    items = sum(run[0] for run in runs)
    added = sum(run[3] for run in runs)
    kilobytes = sum(run[4] for run in runs) * 1024 / max(1, added)
    seen = f"{len(warm_up)} other abstracts and " if warm_up else ""
    return StageResult(name, items, sum(run[1] for run in runs), cpu_seconds=sum(run[2] for run in runs),
                       note=f"parse + NER + relations + store; each half once, after {seen}the other half; "
                       f"{added / max(1, items):.1f} new words per abstract, "
                       f"{kilobytes:.1f} KB more resident memory each")


def _first_sight_half(timed: Sequence[Path], other: Sequence[Path], nlp: Any, batch_size: int,
                      warm_up: Sequence[Article]) -> tuple[int, float, float, int, float]:
    """(abstracts, seconds, CPU seconds, words new to the vocab, MiB of resident memory they added)."""
    from extractors.api import extract_articles

    seen = [a for a in parse_files(other) if a.abstract]
    for _ in extract_articles([*warm_up, *seen], nlp, batch_size=batch_size):
        pass
    words, rss, cpu_start = len(nlp.vocab), _rss_now_mb(), cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="resistmine-bench-") as tmp:
        items, seconds, *_ = end_to_end(timed, nlp, 1, batch_size, None, Path(tmp))
    # What a long run's memory grows by: spaCy keeps every new word (extractors.api.fresh_pipeline).
    return items, seconds, cpu_seconds() - cpu_start, len(nlp.vocab) - words, _rss_now_mb() - rss


_CHILD_CALL: tuple = ()


def _child_job() -> Any:
    func, args = _CHILD_CALL
    return func(*args)


def _in_child(func: Callable[..., Any], *args: Any, fresh: bool = False) -> Any:
    """``func(*args)`` in a forked copy of this process, so that what it leaves behind (grown caches
    and vocab) does not change the stages measured after it here; without fork, in this process. With
    ``fresh``, in a newly started interpreter that inherits no memory (``args`` must pickle). A failure
    comes back as its message."""
    import multiprocessing

    global _CHILD_CALL
    _CHILD_CALL = (func, args)
    try:
        if fresh:
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                return pool.apply(func, args)
        if "fork" not in multiprocessing.get_all_start_methods():
            return _child_job()
        with multiprocessing.get_context("fork").Pool(1) as pool:
            return pool.apply(_child_job)
    except Exception as exc:  # reported in the output: a broken stage must not hide the others
        return f"{type(exc).__name__}: {exc}"
    finally:
        _CHILD_CALL = ()


def mining_peak_rss(files: Sequence[Path], model: str | None, batch_size: int,
                    limit: int | None) -> float | str:
    """Peak RSS (MiB) of a fresh process that loads the pipeline and mines ``files`` end to end, one
    process, as a bulk run does: the bench's own process also holds every parsed article and the records
    ``Entrez.read`` builds, which on a full baseline file would be most of its peak. A failure comes
    back as its message."""
    return _in_child(_mine_and_measure, [str(f) for f in files], model, batch_size, limit, fresh=True)


def _mine_and_measure(files: list[str], model: str | None, batch_size: int, limit: int | None) -> float:
    from extractors.api import load_pipeline

    nlp = load_pipeline(model)
    with tempfile.TemporaryDirectory(prefix="resistmine-bench-rss-") as tmp:
        end_to_end([Path(f) for f in files], nlp, 1, batch_size, limit, Path(tmp))
    return _own_high_water_mb()


def _own_high_water_mb() -> float:
    """This process's own peak RSS. Linux keeps ``ru_maxrss`` across exec, so a spawned process would
    report its parent's peak; the memory map's high-water mark (``VmHWM``) starts afresh at exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    return _peak_mb(resource.RUSAGE_SELF)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished (reaped) worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rss_now_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return 0.0


def _peak_mb(who: int) -> float:
    # ru_maxrss is in KiB on Linux and bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(who).ru_maxrss * scale / 2**20


def _with_abstract(articles: Iterable[Article]) -> Iterator[Article]:
    return (a for a in articles if a.abstract)


def run_bench(files: Sequence[Path] | None = None, limit: int | None = None, model: str | None = None,
              n_process: int | None = None, batch_size: int = 64, repeat: int = 3,
              progress: Callable[[str], None] | None = None, copies: int = 1,
              warm_up: Sequence[Path] = (), _copied: bool = False) -> BenchReport:
    """Run every stage on the same texts and return the measurements (``copies``: ``replicate_corpus``;
    ``warm_up``: abstracts a long run's pipeline would have seen before, ``read_warm_up``)."""
    from corpus.errors import InputError

    files = [Path(f) for f in (files or [DEFAULT_CORPUS])]
    for path in files:
        if not path.is_file():
            raise InputError(f"bench corpus {path} does not exist")
    say = progress or (lambda _message: None)
    if copies > 1:
        with tempfile.TemporaryDirectory(prefix="resistmine-bench-copies-") as tmp:
            say(f"writing the corpus {copies} times over")
            copied = replicate_corpus(files, copies, Path(tmp))
            report = run_bench(copied, limit, model, n_process, batch_size, repeat, progress, _copied=True)
        return replace(report, corpus=tuple(str(f) for f in files), copies=copies)
    cores = n_process or os.cpu_count() or 1
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: report it

    say("parsing XML, and Entrez.read on the same XML")
    xml_stages, articles = bench_xml_readers(files, repeat)
    # read now, so that a bad warm-up file is reported before the long stages
    warm = read_warm_up([Path(f) for f in warm_up], {a.pmid for a in articles}) if warm_up else []
    with_abstract = list(_with_abstract(articles))[:limit] if limit else list(_with_abstract(articles))
    if not with_abstract:
        raise InputError(f"no abstracts in {', '.join(map(str, files))}")
    texts = [a.text for a in with_abstract]
    say(f"bare tokenizer on {len(texts)} abstracts (warm-up; timed beside the end-to-end runs)")
    tokenizer = TokenizerReference(texts, batch_size, repeat)

    say("loading the pipeline")
    from extractors.api import load_pipeline

    nlp = load_pipeline(model)  # as the bulk flow runs it: every lexicon loaded, heap frozen (load_pipeline)
    pipeline_rss = _rss_now_mb()
    if _copied:  # each half would hold the same texts as the other: nothing would be new
        skipped = "not measured with --copies: the copies repeat the same texts"
        first_sight = [StageResult("end_to_end_first_sight", 0, 0.0, error=skipped)]
    else:
        say("end to end on abstracts the pipeline has not seen")
        records = next(i for i, a in enumerate(articles) if a is with_abstract[-1]) + 1  # up to --limit
        with tempfile.TemporaryDirectory(prefix="resistmine-bench-halves-") as tmp:
            halves = split_corpus(files, Path(tmp), records)
            first_sight = [bench_first_sight(halves, nlp, batch_size)]
            if warm:
                say(f"end to end on new abstracts after {len(warm)} others")
                first_sight.append(bench_first_sight(halves, nlp, batch_size, warm,
                                                     "end_to_end_after_warm_up"))
    bench_components(nlp, with_abstract, batch_size)  # warm-up: lazy loads, tokenizer caches
    say("timing each component")
    runs = []
    for _ in range(repeat):
        cpu_start = cpu_seconds()
        timings = bench_components(nlp, with_abstract, batch_size)
        runs.append((timings, cpu_seconds() - cpu_start))
    components, components_cpu = min(runs, key=lambda run: sum(run[0].values()))
    ner_seconds, relation_seconds = split_components(nlp, components)
    # CPU time split between the two in the proportion of their wall time (one thread, same run)
    cpu_share = components_cpu / max(sum(components.values()), 1e-9)
    stages = [
        *xml_stages,
        StageResult("ner", len(texts), ner_seconds,
                    note=f"tokenizer + recognisers + resolution; best of {repeat}",
                    cpu_seconds=ner_seconds * cpu_share),
        StageResult("relations", len(texts), relation_seconds,
                    note="mechanism and cue recognisers + relation extraction"
                    if relation_seconds else "no relation components in the pipeline",
                    error="" if relation_seconds else "not in pipeline",
                    cpu_seconds=relation_seconds * cpu_share),
    ]
    stages.extend(first_sight)
    with tempfile.TemporaryDirectory(prefix="resistmine-bench-") as tmp:
        for label, procs in (("end_to_end_1_process", 1), ("end_to_end_all_cores", cores)):
            say(f"end to end with {procs} process(es)")
            try:
                attempts = []
                for attempt in range(max(1, repeat)):  # each into a new store, as a first run would be
                    if procs == 1:
                        tokenizer.time_once()
                    cpu_start = cpu_seconds()
                    store_dir = Path(tmp) / f"{label}-{attempt}"
                    run = end_to_end(files, nlp, procs, batch_size, len(texts), store_dir)
                    attempts.append((run, cpu_seconds() - cpu_start))
                (items, seconds, stored, store_seconds, store_cpu), cpu = min(attempts, key=lambda a: a[0][1])
                stages.append(StageResult(label, items, seconds, processes=procs,
                                          note=f"parse + NER + relations + store; best of {len(attempts)}",
                                          cpu_seconds=cpu))
                if procs == 1:
                    stages.append(StageResult("store_write", stored, store_seconds, unit="citations",
                                              note="articles and results, SQLite, one writer",
                                              cpu_seconds=store_cpu))
            except Exception as exc:  # reported in the output: a broken stage must not hide the others
                stages.append(StageResult(label, 0, 0.0, processes=procs,
                                          error=f"{type(exc).__name__}: {exc}"))

    stages.insert(len(xml_stages), tokenizer.stage())
    say("peak memory of a fresh mining process")
    mining_rss = mining_peak_rss(files, model, batch_size, len(texts))
    if isinstance(mining_rss, str):
        stages.append(StageResult("mining_memory", 0, 0.0, error=mining_rss))
        mining_rss = None

    import spacy

    return BenchReport(
        corpus=tuple(str(f) for f in files),
        citations=xml_stages[0].items,
        abstracts=len(texts),
        characters=sum(map(len, texts)),
        cores=cores,
        stages=tuple(stages),
        components=components,
        peak_rss_mb=_peak_mb(resource.RUSAGE_SELF),
        peak_rss_children_mb=_peak_mb(resource.RUSAGE_CHILDREN),
        pipeline_rss_mb=pipeline_rss,
        mining_peak_rss_mb=mining_rss,
        environment={
            "python": platform.python_version(),
            "spacy": spacy.__version__,
            "machine": platform.machine(),
            "cpu_count": str(os.cpu_count()),
            "load_average_1min": f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after",
        },
    )


def format_report(report: BenchReport) -> str:
    """A human-readable table of the stages, ratios, targets and projection."""
    copies = f" × {report.copies} (PMIDs renumbered)" if report.copies > 1 else ""
    lines = [
        f"corpus: {', '.join(Path(c).name for c in report.corpus)}{copies} — {report.citations} citations, "
        f"{report.abstracts} abstracts, {report.characters:,} characters; {report.cores} core(s)",
        "",
        f"{'stage':<24}{'items':>8}{'seconds':>10}{'per second':>12}{'per CPU s':>11}  note",
    ]
    for stage in report.stages:
        rate = "failed" if stage.error else f"{stage.rate:,.0f}" if stage.rate else "-"
        cpu_rate = f"{stage.cpu_rate:,.0f}" if stage.cpu_rate else "-"
        note = stage.error or stage.note
        figures = f"{stage.items:>8}{stage.seconds:>10.3f}{rate:>12}{cpu_rate:>11}"
        lines.append(f"{stage.name:<24}{figures}  {note}")
    lines += ["", "components (seconds): " + ", ".join(f"{k} {v:.3f}" for k, v in report.components.items())]
    mining = ("not measured" if report.mining_peak_rss_mb is None
              else f"{report.mining_peak_rss_mb:.0f} MiB")
    lines += [
        f"peak RSS: a fresh process mining the corpus {mining}; this process, with its reference runs, "
        f"{report.peak_rss_mb:.0f} MiB; its largest worker {report.peak_rss_children_mb:.0f} MiB; "
        f"after loading the pipeline {report.pipeline_rss_mb:.0f} MiB",
        f"machine load (1-min average): {report.environment.get('load_average_1min', '?')}",
        "",
        "ratios: " + ", ".join(f"{k} {v}" for k, v in report.ratios().items()),
        "per CPU second: " + ", ".join(f"{k} {v}" for k, v in report.cpu_ratios().items()),
        "targets:",
    ]
    for name, met in report.targets().items():
        lines.append(f"  [{'ok' if met else 'MISSED' if met is False else 'n/a'}] {name}")
    hours = report.projection_hours(workers=report.cores)
    if hours is not None:
        others = ", ".join(f"{report.projection_hours(workers=n)} h on {n} workers" for n in (8, 32, 128))
        lines.append(f"projection for 26M abstracts: {hours} h on {report.cores} core(s); {others}")
    limit, cpu_limit = report.writer_limit(), report.writer_limit(cpu=True)
    if limit:
        lines.append(f"  the single store writer takes {limit:,.0f} abstracts/s "
                     f"({cpu_limit or 0:,.0f} per CPU second); projections for many workers are capped by it")
    cpu_hours = report.cpu_projection_hours(workers=report.cores)
    if cpu_hours is not None:
        others = ", ".join(f"{report.cpu_projection_hours(workers=n)} h on {n}" for n in (8, 32, 128))
        lines.append(f"  per CPU second (dedicated cores): {cpu_hours} h on {report.cores}; {others}")
    new_hours = report.cpu_projection_hours(workers=report.cores, new_text=True)
    if new_hours is not None:
        others = ", ".join(
            f"{report.cpu_projection_hours(workers=n, new_text=True)} h on {n}" for n in (8, 32, 128)
        )
        lines.append(f"  per CPU second on new abstracts: {new_hours} h on {report.cores}; {others}")
    return "\n".join(lines)
