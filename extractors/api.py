"""The NER + relation extraction entry points: ``load_pipeline`` and ``extract_articles``.

Results are plain frozen dataclasses (``Mention``, ``Triple``) on the Doc's ``_.mentions``/``_.triples``
extensions, declared here and nowhere else, and gathered per article into ``ArticleResult``.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from spacy.tokens import Doc

from corpus.article import Article
from corpus.errors import InputError
from corpus.pickling import pickled_as_fields
from extractors.mentions import Mention
from extractors.triples import Triple
from extractors.version import extractor_version

if TYPE_CHECKING:
    from spacy.language import Language

# Stamped on every result; a run re-extracts what no result of this version covers (``extractors.version``).
EXTRACTOR_VERSION = extractor_version()
# New words a cached pipeline may take in before ``fresh_pipeline`` rebuilds it. Every word the vocab has
# not seen adds a lexeme, strings, tokenizer cache entries and token vectors that spaCy never frees: about
# 5 KB of resident memory each (`resistmine bench`, first-sight stage). 150,000 caps that at ~750 MB over
# the ~500 MB of the loaded pipeline, where mining the whole baseline would otherwise grow without bound.
MAX_NEW_WORDS = 150_000


def register_extensions() -> None:
    """``Doc._.pmid``, ``Doc._.mentions`` (sorted ``Mention``s), ``Doc._.triples`` (``Triple``s).

    The lists live in ``doc.user_data`` per document (a mutable ``default=`` would be shared by all docs).
    """
    if not Doc.has_extension("pmid"):
        Doc.set_extension("pmid", default=None)
    for name in ("mentions", "triples"):
        # authoritative: a plain ``default=None`` declared elsewhere first is replaced by the per-doc list
        if not Doc.has_extension(name) or Doc.get_extension(name)[2] is None:
            Doc.set_extension(name, getter=_list_getter(name), setter=_list_setter(name), force=True)


def _list_getter(name: str):
    key = ("resistmine", name)

    def get(doc: Doc) -> list:
        value = doc.user_data.get(key)
        if value is None:
            value = doc.user_data[key] = []
        return value

    return get


def _list_setter(name: str):
    key = ("resistmine", name)

    def set_(doc: Doc, value: list) -> None:
        doc.user_data[key] = list(value)

    return set_


register_extensions()


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class ArticleResult:
    pmid: str
    version: int
    mentions: tuple[Mention, ...]
    triples: tuple[Triple, ...]
    extractor_version: str = EXTRACTOR_VERSION


PipelineKey = tuple[str | None, bool, bool]  # load_pipeline's arguments: model, relations, gene_model
_PIPELINES: dict[PipelineKey, Language] = {}
_BUILT_WORDS: WeakKeyDictionary[Language, int] = WeakKeyDictionary()


def load_pipeline(model: str | None = None, relations: bool = True, gene_model: bool = True) -> Language:
    """The pipeline for ``model`` (a spaCy/scispaCy package name or path; None = blank English), cached.

    ``gene_model=False`` leaves out the trained gene tagger even when its weights are present.

    The heap is frozen once the pipeline is built: the lexicons are millions of long-lived objects, and
    without ``gc.freeze()`` every full garbage collection walks them all (in forked workers that walk also
    copies their pages, copy-on-write). Measured on the baseline sample: +15 % abstracts per CPU second in one
    process, +40 % with two. This is the one place it is done; callers rely on it.
    """
    key = (model, relations, gene_model)
    nlp = _PIPELINES.get(key)
    if nlp is None:
        from extractors.pipeline import build_pipeline

        nlp = _PIPELINES[key] = build_pipeline(model, relations=relations, gene_model=gene_model)
        gc.collect()
        gc.freeze()
        _BUILT_WORDS[nlp] = len(nlp.vocab)
    return nlp


def new_words(nlp: Language) -> int:
    """Words ``nlp``'s vocab has taken in since ``load_pipeline`` built it (0 for other pipelines)."""
    built = _BUILT_WORDS.get(nlp)
    return 0 if built is None else len(nlp.vocab) - built


def fresh_pipeline(model: str | None = None, max_new_words: int = MAX_NEW_WORDS) -> Language:
    """``load_pipeline(model)``, rebuilt once its vocab has grown by more than ``max_new_words``.

    spaCy's vocab only grows (``Language.memory_zone`` frees strings but not our components' lexemes, and
    turns the tokenizer cache off), so a process that mines file after file calls this between files:
    the rebuild takes about half a second, as the lexicons stay loaded, and the freed memory is reused by
    the next pipeline. Callers must drop their reference to the old pipeline."""
    nlp = load_pipeline(model)
    if new_words(nlp) <= max_new_words:
        return nlp
    del _PIPELINES[_pipeline_key(nlp)], nlp
    gc.unfreeze()  # the old pipeline's reference cycles sit in the frozen generation until now
    return load_pipeline(model)


def result_from_doc(doc: Doc, article: Article) -> ArticleResult:
    mentions, triples = tuple(doc._.mentions or ()), tuple(doc._.triples or ())
    return ArticleResult(article.pmid, article.version, mentions, triples)


def extract_articles(articles: Iterable[Article], nlp: Language | None = None, n_process: int = 1,
                     batch_size: int = 256) -> Iterator[ArticleResult]:
    """One ``ArticleResult`` per article, in input order; ``n_process > 1`` uses worker processes.

    Each component runs over a whole batch before the next one starts (``extractors.batching``): on the
    baseline sample 256 runs ~5 % faster than 64, as the lexicons' automata stay in the CPU cache longer."""
    if n_process > 1:
        yield from _extract_parallel(articles, nlp, n_process, batch_size)
        return
    nlp = nlp or load_pipeline()
    for doc, article in nlp.pipe(_docs_with_pmid(nlp, articles), as_tuples=True, batch_size=batch_size):
        yield result_from_doc(doc, article)


def _docs_with_pmid(nlp: Language, articles: Iterable[Article]) -> Iterator[tuple[Doc, Article]]:
    """Docs made up front so ``Doc._.pmid`` is set before the relation component stamps triples with it."""
    for article in articles:
        doc = nlp.make_doc(article.text)
        doc._.pmid = article.pmid
        yield doc, article


def annotate(doc_or_text: str, nlp: Language | None = None, pmid: str | None = None) -> Doc:
    nlp = nlp or load_pipeline()
    doc = nlp.make_doc(doc_or_text)
    doc._.pmid = pmid
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc


_WORKER_NLP: Language | None = None


def _init_worker(nlp: Language | PipelineKey | None) -> None:
    global _WORKER_NLP
    _WORKER_NLP = load_pipeline(*nlp) if isinstance(nlp, tuple) else nlp or load_pipeline()


def _pipeline_key(nlp: Language) -> PipelineKey | None:
    """The ``load_pipeline`` arguments that built ``nlp``, if it did."""
    return next((key for key, cached in _PIPELINES.items() if cached is nlp), None)


def _extract_chunk(articles: list[Article]) -> list[ArticleResult]:
    return list(extract_articles(articles, _WORKER_NLP, 1, batch_size=max(1, len(articles))))


def _extract_parallel(articles: Iterable[Article], nlp: Language | None, n_process: int,
                      batch_size: int) -> Iterator[ArticleResult]:
    """Plain-data results cross process boundaries (spaCy's own multiprocessing would have to serialise
    the ``Mention`` objects through msgpack)."""
    nlp = nlp or load_pipeline()
    iterator = iter(articles)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    # A forked worker inherits the pipeline. A spawned one (no fork: Windows) builds its own from the
    # arguments that built this one: a pipeline holds automata that do not pickle.
    sent: Language | PipelineKey | None = nlp
    if context.get_start_method() != "fork":
        sent = _pipeline_key(nlp)
        if sent is None:
            raise InputError("worker processes without fork need a pipeline made by load_pipeline (each "
                             "worker builds its own); mine with one process, or pass no pipeline")
    executor = ProcessPoolExecutor(n_process, mp_context=context, initializer=_init_worker, initargs=(sent,))
    with executor as pool:
        pending = []
        while True:
            chunk = list(islice(iterator, batch_size))
            if chunk:
                pending.append(pool.submit(_extract_chunk, chunk))
            while pending and (len(pending) > 2 * n_process or not chunk):
                yield from pending.pop(0).result()
            if not chunk:
                break
