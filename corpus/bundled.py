"""The corpus shipped with resistmine for offline runs: the seed review, PMID 31205532.

The file is PubMed's abstract text export of the review, as the user gave it (mis-decoded ``FcÎ³``
included; cleaning repairs it and keeps the original in ``raw_abstract``). No other abstract is shipped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from corpus.abstract_export import iter_abstract_export
from corpus.article import Article

SOURCE = "bundled"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"  # shipped as package data
BUNDLED_FILES = ("pmid31205532.txt",)


def bundled_articles() -> list[Article]:
    """The bundled articles, parsed fresh on every call (a few KB)."""
    articles = []
    for file_name in BUNDLED_FILES:
        data = (BUNDLED_DIR / file_name).read_bytes()
        for article in iter_abstract_export(data, name=f"bundled/{file_name}"):
            articles.append(replace(article, source=SOURCE))
    return articles
