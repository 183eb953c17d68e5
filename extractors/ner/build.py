"""Build, cache and load the lexicons: the only place that turns sources into ``Lexicon`` objects.

The first call builds from the installed wheels (a few seconds) and caches a gzip'd pickle under
``cache_dir()``; later calls load the cache. Filters learnt on TRAIN splits (``data/filters.tsv``) and
curated additions are part of the cache fingerprint, so changing them rebuilds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from extractors.mentions import CANCER, CHEMICAL, GENE, THERAPY
from extractors.ner import sources
from extractors.ner.lexicon import Concept, Entry, Lexicon, cache_dir, fingerprint, load_cache, save_cache

LOG = logging.getLogger(__name__)
LEXICON_VERSION = "1"
FILTERS = sources.DATA / "filters.tsv"
AMBIGUOUS = sources.DATA / "ambiguous.tsv"
LEARNED = sources.DATA / "learned.tsv"
CURATED = sources.DATA / "curated.tsv"
# Learnt or curated rows that choose among an ambiguous form's concepts (lower priority wins).
PRIORITY_BY_CATEGORY = {"override": -2, "prefer": -1}

BUILDERS: dict[str, Callable[[], Iterable[Entry]]] = {
    GENE: sources.gene_entries,
    CHEMICAL: sources.chemical_entries,
    THERAPY: sources.therapy_entries,
    CANCER: sources.cancer_entries,
}


def read_filters(path: Path = FILTERS) -> dict[str, dict[str, str]]:
    """``label -> {folded key: action}``, action ``drop`` or ``context`` (needs gene context)."""
    out: dict[str, dict[str, str]] = {}
    for path_ in (path, AMBIGUOUS):
        if not path_.is_file():
            continue
        for line in path_.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            label, key, action = line.split("\t")[:3]
            out.setdefault(label, {})[key] = action
    return out


def learned_entries(label: str, path: Path = LEARNED) -> Iterator[Entry]:
    """Extra surface forms (``label, surface, norm, ids, category``): curated, or learnt from TRAIN gold."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        row_label, surface, norm, ids, category = line.split("\t")[:5]
        if row_label != label:
            continue
        # "prefer": train gold usually means this concept by this (ambiguous) form, so it beats the rest;
        # "override": a curator's reading of the form in this field, which beats train-gold preferences
        priority = PRIORITY_BY_CATEGORY.get(category, 1)
        category = "gene" if category in PRIORITY_BY_CATEGORY else category
        concept = Concept(label, norm, tuple(i for i in ids.split(";") if i), category)
        # multi-word names are matched in any case ("Programmed death-ligand 1"); symbols exactly
        yield Entry(surface, concept, priority, not (" " in surface and len(surface) >= 8))


def build_lexicon(label: str, *, filtered: bool = True) -> Lexicon:
    entries: Iterable[Entry] = BUILDERS[label]()
    filters = read_filters().get(label, {}) if filtered else {}
    if filtered:
        entries = [*entries, *learned_entries(label, CURATED), *learned_entries(label)]
    drop = [k for k, a in filters.items() if a == "drop"]
    context = [k for k, a in filters.items() if a == "context"]
    return Lexicon.from_entries(entries, drop=drop, context=context)


def _cache_path(filtered: bool) -> Path:
    versions = sources.source_versions()
    key = fingerprint(
        LEXICON_VERSION, str(sorted(versions.items())), str(filtered),
        sources.DATA / "therapies.tsv", FILTERS, AMBIGUOUS, LEARNED, CURATED,
        Path(sources.__file__), Path(__file__), Path(sources.__file__).with_name("text.py"),
    )
    return cache_dir() / f"lexicons-{key}.pkl.gz"


@cache
def load_lexicons(filtered: bool = True) -> dict[str, Lexicon]:
    """All lexicons, from the cache when it is current, else built now and cached."""
    path = _cache_path(filtered)
    cached = load_cache(path)
    if isinstance(cached, dict):
        return cached
    lexicons = rebuild(filtered)
    return lexicons


@cache
def disease_names() -> frozenset[str]:
    """Disease and phenotype names (abbreviation veto), cached beside the lexicons."""
    path = _cache_path(False).with_name(_cache_path(False).name.replace("lexicons-", "diseases-"))
    cached = load_cache(path)
    if isinstance(cached, frozenset):
        return cached
    names = sources.disease_name_set()
    try:
        save_cache(path, names)
    except OSError as exc:
        LOG.warning("could not write the disease name cache: %s", exc)
    return names


def rebuild(filtered: bool = True) -> dict[str, Lexicon]:
    """(Re)build every lexicon from its sources and write the cache."""
    LOG.info("building lexicons from %s", sources.source_versions())
    lexicons = {label: build_lexicon(label, filtered=filtered) for label in BUILDERS}
    try:
        save_cache(_cache_path(filtered), lexicons)
    except OSError as exc:  # a read-only home still works, only slower
        LOG.warning("could not write the lexicon cache: %s", exc)
    return lexicons


def main() -> int:
    """``python -m extractors.ner.build``: rebuild the lexicon cache and print what it holds."""
    lexicons = rebuild()
    disease_names.cache_clear()
    print(f"sources: {sources.source_versions()}; cache: {_cache_path(True)}")
    for label, lexicon in lexicons.items():
        print(f"{label}: {len(lexicon.keys)} surface keys, {len(lexicon.concepts)} concepts, "
              f"{len(lexicon.context_keys)} need gene context")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
