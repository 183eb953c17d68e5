"""What a PMID is, checked once: a positive whole number of at most 10 digits, written without a leading 0."""

from __future__ import annotations

from collections.abc import Iterable

from corpus.build import is_pmid
from corpus.errors import InputError


def validate_pmid(value: object) -> str:
    text = str(value).strip()
    if not is_pmid(text):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InputError(f"invalid PMID {shown!r}: expected a positive whole number of 1 to 10 digits")
    return text


def validate_pmids(values: Iterable[object]) -> list[str]:
    """Validated PMIDs, duplicates dropped, order kept; the first bad one raises ``InputError``."""
    return list(dict.fromkeys(validate_pmid(v) for v in values))
