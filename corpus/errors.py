"""Typed errors with the exit codes the CLI maps them to (documented in the README)."""

from __future__ import annotations


class ResistmineError(Exception):
    """Base of every error the CLI reports as one line; ``exit_code`` is what the process returns."""

    exit_code = 1


class InputError(ResistmineError):
    """The user's input is wrong: a malformed PMID, an unreadable file, a bad option."""

    exit_code = 2


class FetchError(ResistmineError):
    """E-utilities could not deliver after bounded retries; names what was not fetched."""

    exit_code = 3

    def __init__(self, message: str, missing_pmids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing_pmids = missing_pmids


class StoreError(ResistmineError):
    """The corpus store is locked by another run, or unreadable."""

    exit_code = 4


class ReviewFileError(ResistmineError):
    """A hand-edited review table cannot be read; it is reported and never overwritten."""

    exit_code = 5


class ParseError(InputError):
    """A file or response is not the format it claims: truncated, malformed, binary, or unsafe XML."""


class UnsafeXMLError(ParseError):
    """XML that declares entities or an internal DTD subset (billion laughs, external entities)."""
