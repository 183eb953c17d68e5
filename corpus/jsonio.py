"""JSON forms of the shared records, lossless: ``from_json(to_json(x)) == x`` for Article, Mention, Triple."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from functools import cache
from math import isfinite
from typing import Any

import orjson

from corpus.article import AbstractSection, Article, MeshHeading
from extractors.mentions import Mention
from extractors.triples import Triple


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def flat_dict(record: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` for a record whose fields hold no further dataclasses (Mention, Triple,
    AbstractSection): the same dict without its recursive deep copy, which cost more than the store writes."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


def article_to_dict(article: Article) -> dict[str, Any]:
    """``dataclasses.asdict(article)``, written out (the store serialises every article it sees)."""
    data = flat_dict(article)
    data["sections"] = tuple(map(flat_dict, article.sections))
    data["mesh"] = tuple(map(flat_dict, article.mesh))
    data["extra"] = dict(article.extra)
    return data


def article_from_dict(data: dict[str, Any]) -> Article:
    values = dict(data)
    values["sections"] = tuple(AbstractSection(**s) for s in values.get("sections", ()))
    values["mesh"] = tuple(
        MeshHeading(**{**m, "qualifiers": tuple(m.get("qualifiers", ()))}) for m in values.get("mesh", ())
    )
    for name in ("authors", "keywords", "publication_types"):
        values[name] = tuple(values.get(name, ()))
    known = {f.name for f in fields(Article)}
    return Article(**{k: v for k, v in values.items() if k in known})


def sorted_json(data: dict[str, Any]) -> str:
    """``json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``, five times faster.

    orjson writes the same text for strings, integers, booleans, None, lists and str-keyed dicts, which is
    all an Article holds (the digests of stored articles stay valid); it formats float exponents
    differently (``1e-7``: the same value) and refuses lone surrogates, integers past 64 bits and non-str
    keys, which go through ``json`` as before."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def article_to_json(article: Article) -> str:
    return sorted_json(article_to_dict(article))


def article_from_json(text: str) -> Article:
    return article_from_dict(json.loads(text))


def article_digest(article: Article) -> str:
    """Content hash of everything but ``extra`` bookkeeping; equal digests mean nothing to update."""
    data = article_to_dict(article)
    data.pop("extra", None)
    data.pop("source", None)
    return hashlib.sha256(sorted_json(data).encode("utf-8")).hexdigest()


def mention_from_dict(data: dict[str, Any]) -> Mention:
    return Mention(**{**data, "ids": tuple(data.get("ids", ()))})


def triple_from_dict(data: dict[str, Any]) -> Triple:
    return Triple(**data)


def result_to_json(mentions: tuple[Mention, ...], triples: tuple[Triple, ...]) -> str:
    """Compact JSON of one article's results; orjson writes the dataclasses itself (fields in order).

    orjson would write a NaN or infinite score as null, so such results go through json as before."""
    if all(isfinite(m.score) for m in mentions) and all(isfinite(t.confidence) for t in triples):
        try:
            return orjson.dumps({"mentions": mentions, "triples": triples}).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    payload = {"mentions": [flat_dict(m) for m in mentions], "triples": [flat_dict(t) for t in triples]}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def result_from_json(text: str) -> tuple[tuple[Mention, ...], tuple[Triple, ...]]:
    payload = json.loads(text)
    return (
        tuple(mention_from_dict(m) for m in payload.get("mentions", ())),
        tuple(triple_from_dict(t) for t in payload.get("triples", ())),
    )
