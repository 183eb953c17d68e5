"""The one place that opens XML: hardened lxml settings and a guard against entity declarations.

PubMed XML never declares entities or an internal DTD subset, so any document that does is refused
before lxml sees it (billion laughs, external entities). On top of that lxml runs with no network,
no DTD loading, no entity resolution and libxml2's size limits kept (``huge_tree`` off), so a single
text node over 10 MB is rejected rather than allocated.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from corpus.errors import InputError, ParseError, UnsafeXMLError

try:  # python-isal: the same gzip streams through Intel's ISA-L, ~2x faster than zlib (on a baseline file,
    # about 6 % of parsing it)
    from isal import igzip as _gzip
    from isal.isal_zlib import error as _InflateError
except ImportError:  # pragma: no cover - isal ships wheels for the usual platforms
    _gzip = gzip
    _InflateError = zlib.error

GZIP_MAGIC = b"\x1f\x8b"
# How far into a document the root element must start; PubMed's prolog is a few hundred bytes.
PROLOG_LIMIT = 64 * 1024

PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)

_ROOT_START = re.compile(rb"<[A-Za-z_]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def hardened_parser() -> etree.XMLParser:
    """An lxml parser for whole (small) documents, e.g. one E-utilities response."""
    return etree.XMLParser(**PARSER_OPTIONS)


def check_prolog(head: bytes, name: str) -> None:
    """Refuse entity declarations and internal DTD subsets in the bytes before the root element."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(f"{name}: UTF-16 XML is not PubMed XML (expected UTF-8)")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # the XML declaration, comments and the DOCTYPE all start with "<?" or "<!"; the root with a name
    match = _ROOT_START.search(body)
    prolog = body if match is None else body[: match.start()]
    complete = match is not None
    doctype = _DOCTYPE.search(prolog)
    if doctype is not None:
        declaration = prolog[doctype.start() :]
        if b"<!ENTITY" in declaration or b"[" in declaration:
            raise UnsafeXMLError(f"{name}: XML declares entities or an internal DTD subset; refused")
    if not complete and len(head) >= PROLOG_LIMIT:
        raise UnsafeXMLError(f"{name}: no root element in the first {PROLOG_LIMIT} bytes; refused")


class GuardedReader(io.RawIOBase):
    """A read-only stream that checks the prolog of the XML it delivers before passing it on."""

    def __init__(self, raw: BinaryIO, name: str) -> None:
        self._raw = raw
        self._name = name
        self._pending = b""
        self._checked = False

    def readable(self) -> bool:
        return True

    def _check(self) -> None:
        head = read_safely(self._raw, PROLOG_LIMIT, self._name)
        check_prolog(head, self._name)
        self._pending = head
        self._checked = True

    def read(self, size: int = -1) -> bytes:
        if not self._checked:
            self._check()
        if self._pending:
            if size is None or size < 0 or size >= len(self._pending):
                chunk, self._pending = self._pending, b""
                if size is None or size < 0:
                    chunk += read_safely(self._raw, -1, self._name)
                return chunk
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        return read_safely(self._raw, size, self._name)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_safely(raw: BinaryIO, size: int, name: str) -> bytes:
    try:
        return raw.read(size)
    except (gzip.BadGzipFile, EOFError, zlib.error, _InflateError) as exc:
        raise ParseError(f"{name}: corrupt or truncated gzip data ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise ParseError(f"{name}: cannot read ({exc})") from None


def open_binary(source: str | Path | bytes | BinaryIO, name: str | None = None) -> tuple[BinaryIO, str, bool]:
    """Open ``source`` as a binary stream, transparently un-gzipping by magic bytes.

    Returns ``(stream, name, owned)``; ``owned`` says whether the caller must close the stream.
    """
    owned = False
    if isinstance(source, bytes | bytearray | memoryview):
        raw: BinaryIO = io.BytesIO(bytes(source))
        name = name or "<bytes>"
        owned = True
    elif isinstance(source, str | Path):
        path = Path(source)
        name = name or str(path)
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise InputError(f"{name}: cannot open ({exc.strerror or exc})") from None
        owned = True
    else:
        raw = source
        name = name or getattr(source, "name", None) or "<stream>"
        name = str(name)
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    try:
        magic = buffered.peek(2)[:2]  # type: ignore[union-attr]
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc})") from None
    if magic == GZIP_MAGIC:
        return _gzip.GzipFile(fileobj=buffered, mode="rb"), name, True  # type: ignore[return-value]
    return buffered, name, owned  # type: ignore[return-value]


def iterparse(
    stream: BinaryIO, name: str, tags: tuple[str, ...], roots: frozenset[str] | set[str] = frozenset()
) -> Iterator[etree._Element]:
    """Yield each element named in ``tags`` at its end; lxml errors become ``ParseError``.

    With ``roots``, a document whose root element is not one of them is refused once read.
    """
    guarded = io.BufferedReader(GuardedReader(stream, name), buffer_size=1 << 16)
    events = etree.iterparse(guarded, events=("end",), tag=tags, **PARSER_OPTIONS)
    try:
        for _event, element in events:
            yield element
    except etree.XMLSyntaxError as exc:
        message = str(exc).lower()
        if "excessive depth" in message:  # libxml2 names XML_PARSE_HUGE here too: test it first
            raise syntax_error(name, "depth", _short(exc)) from None
        if "limit exceeded" in message or "huge" in message or "too big" in message:
            raise syntax_error(name, "huge", _short(exc)) from None
        raise syntax_error(name, "syntax", _short(exc)) from None
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"{name}: undecodable XML ({exc})") from None
    except etree.LxmlError as exc:
        raise ParseError(f"{name}: unreadable XML ({_short(exc)})") from None
    root = getattr(events, "root", None)
    check_document_root(None if root is None else root.tag, name, roots)


def check_document_root(root: str | None, name: str, roots: frozenset[str] | set[str] = frozenset()) -> None:
    """After the whole document: it had a root element, and (given ``roots``) one of those."""
    if root is None:
        raise ParseError(f"{name}: not XML (no root element)")
    if roots and root not in roots:
        raise ParseError(f"{name}: unexpected root element <{root}>")


def syntax_error(name: str, kind: str, detail: str) -> ParseError:
    """The one wording of a parse failure, whichever XML reader met it: ``kind`` is "depth" (nesting past
    libxml2's 256 levels, which the C reader keeps too), "huge" (one text, attribute value, comment or
    processing instruction over libxml2's 10 MB, likewise) or "syntax"."""
    if kind == "depth":
        return ParseError(f"{name}: elements nested deeper than the 256-level limit, refused ({detail})")
    if kind == "huge":
        return ParseError(f"{name}: a text or markup over the 10 MB limit, refused ({detail})")
    return ParseError(f"{name}: malformed or truncated XML ({detail})")


def parse_document(data: bytes, name: str) -> etree._Element:
    """Parse one small XML document in memory with the same guards (E-utilities responses)."""
    check_prolog(data[:PROLOG_LIMIT], name)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{name}: malformed or truncated XML ({_short(exc)})") from None
    if root is None:
        raise ParseError(f"{name}: not XML (empty document)")
    return root


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r" \(<string>, line \d+\)$", "", text)[:200]
