"""The typed record every parser produces and every extractor reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.pickling import pickled_as_fields


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class AbstractSection:
    """One labelled part of a structured abstract; ``start`` is its offset in ``Article.abstract``."""

    text: str
    label: str | None = None
    nlm_category: str | None = None
    start: int = 0


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class MeshHeading:
    descriptor: str
    ui: str | None = None
    major: bool = False
    qualifiers: tuple[str, ...] = ()


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Article:
    """A PubMed citation, cleaned for mining.

    ``title`` and ``abstract`` are cleaned (mojibake repaired, whitespace normalised);
    ``raw_title``/``raw_abstract`` keep the text as received. All mention offsets refer to
    ``text``, which joins title and abstract with one space, as PubTator does.
    """

    pmid: str
    version: int = 1
    title: str = ""
    abstract: str = ""
    sections: tuple[AbstractSection, ...] = ()
    authors: tuple[str, ...] = ()
    journal: str = ""
    pub_year: int | None = None
    pub_date: str = ""
    doi: str | None = None
    pmcid: str | None = None
    mesh: tuple[MeshHeading, ...] = ()
    keywords: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: str = "eng"
    retracted: bool = False
    raw_title: str = ""
    raw_abstract: str = ""
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def text(self) -> str:
        if not self.abstract:
            return self.title
        return f"{self.title} {self.abstract}"

    @property
    def abstract_offset(self) -> int:
        """Where the abstract starts inside ``text``."""
        return len(self.title) + 1
