"""Per-token BILUO/BIO tags for gene spans, and their decoding back into spans.

The tagger head predicts each token's tag independently, so its output can be an invalid sequence
(``O I``, ``B O``, ``B B``, ``L`` alone). Decoding never drops a tagged token: a token outside ``O``
always lands in some span, and spans are cut where the tags say one ends (``L``, ``U``), another
starts (``B``, ``U``), the tags stop (``O``) or the sequence (a model window) ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy

SCHEMES = ("BILUO", "BIO")
# Tag codes; a tag string's first letter names its code ("B-GENE" -> B).
TAG_O, TAG_B, TAG_I, TAG_L, TAG_U = range(5)
CODES = "OBILU"


def tag_names(scheme: str, label: str) -> tuple[str, ...]:
    """The tag strings of ``scheme`` for one entity label (``O`` first)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r} (expected one of {', '.join(SCHEMES)})")
    return ("O",) + tuple(f"{letter}-{label}" for letter in scheme if letter != "O")


def encode(n_tokens: int, spans: Iterable[tuple[int, int]], scheme: str, label: str) -> list[str]:
    """Tags of ``n_tokens`` tokens for non-overlapping token spans ``[start, end)``."""
    tag_names(scheme, label)
    tags = ["O"] * n_tokens
    for start, end in spans:
        if end - start == 1:
            tags[start] = f"{'U' if scheme == 'BILUO' else 'B'}-{label}"
            continue
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
        if scheme == "BILUO":
            tags[end - 1] = f"L-{label}"
    return tags


def codes_of(tags: Sequence[str]) -> numpy.ndarray:
    """Tag strings as codes (``O``, ``B``, ``I``, ``L``, ``U``)."""
    return numpy.array([CODES.index(tag[0]) for tag in tags], dtype="int8")


def decode_codes(codes: numpy.ndarray, lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Token spans ``[start, end)`` of tag codes of consecutive sequences of ``lengths`` tokens.

    Offsets index the concatenation; no span crosses a sequence boundary. Vectorised, because the
    pipeline decodes thousands of short windows per batch.
    """
    n = len(codes)
    if not n:
        return []
    first = numpy.zeros(n, dtype=bool)
    edges = numpy.cumsum(lengths)[:-1]
    first[0] = True
    first[edges[edges < n]] = True
    last = numpy.roll(first, -1)
    inside = codes != TAG_O
    prev = numpy.roll(codes, 1)
    prev[first] = TAG_O
    nxt = numpy.roll(codes, -1)
    nxt[last] = TAG_O
    opens = (codes == TAG_B) | (codes == TAG_U) | (prev == TAG_O) | (prev == TAG_L) | (prev == TAG_U)
    closes = (codes == TAG_L) | (codes == TAG_U) | (nxt == TAG_O) | (nxt == TAG_B) | (nxt == TAG_U)
    starts = numpy.flatnonzero(inside & opens)
    ends = numpy.flatnonzero(inside & closes) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def decode(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Token spans of one tag sequence, invalid sequences repaired (see the module docstring)."""
    return decode_codes(codes_of(tags), [len(tags)]) if tags else []


def _transitions(scheme: str) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(allowed[prev, next], allowed first, allowed last) over the five codes, for ``scheme``."""
    allowed = numpy.zeros((5, 5), dtype=bool)
    if scheme == "BILUO":
        for prev in (TAG_O, TAG_L, TAG_U):
            allowed[prev, [TAG_O, TAG_B, TAG_U]] = True
        for prev in (TAG_B, TAG_I):
            allowed[prev, [TAG_I, TAG_L]] = True
        first, last = [TAG_O, TAG_B, TAG_U], [TAG_O, TAG_L, TAG_U]
    else:
        allowed[TAG_O, [TAG_O, TAG_B]] = True
        allowed[TAG_B, [TAG_O, TAG_B, TAG_I]] = True
        allowed[TAG_I, [TAG_O, TAG_B, TAG_I]] = True
        first, last = [TAG_O, TAG_B], [TAG_O, TAG_B, TAG_I]
    starts, ends = numpy.zeros(5, dtype=bool), numpy.zeros(5, dtype=bool)
    starts[first], ends[last] = True, True
    return allowed, starts, ends


def viterbi_codes(logprobs: numpy.ndarray, lengths: Sequence[int], scheme: str) -> numpy.ndarray:
    """Best valid tag codes per sequence under ``scheme``'s transitions, from per-token log-probabilities.

    ``logprobs`` has one column per code (``O``, ``B``, ``I``, ``L``, ``U``; a scheme's unused codes may
    hold anything). All sequences advance together, one step per position of the longest, so the
    Python loop runs ``max(lengths)`` times, not once per token.
    """
    n = len(logprobs)
    out = numpy.zeros(n, dtype="int8")
    if not n:
        return out
    allowed, first_ok, last_ok = _transitions(scheme)
    penalty = numpy.where(allowed, 0.0, -numpy.inf).astype("f")
    lengths = numpy.asarray(lengths, dtype="int64")
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]])
    order = numpy.argsort(-lengths, kind="stable")
    lengths, offsets = lengths[order], offsets[order]
    # active[t]: how many sequences (longest first) have a position t.
    active = len(lengths) - numpy.searchsorted(lengths[::-1], numpy.arange(int(lengths[0])), side="right")
    back = numpy.zeros((n, 5), dtype="int8")
    score = logprobs[offsets].astype("f") + numpy.where(first_ok, 0.0, -numpy.inf).astype("f")
    for t in range(1, int(lengths[0])):
        k = active[t]
        candidates = score[:k, :, None] + penalty[None, :, :]
        best = candidates.argmax(axis=1)
        idx = offsets[:k] + t
        back[idx] = best
        score[:k] = numpy.take_along_axis(candidates, best[:, None, :], axis=1)[:, 0, :] + logprobs[idx]
    state = (score + numpy.where(last_ok, 0.0, -numpy.inf)).argmax(axis=1)
    for t in range(int(lengths[0]) - 1, -1, -1):
        # A sequence that ends at t starts its walk back from its best last tag; longer ones continue.
        k = active[t]
        idx = offsets[:k] + t
        out[idx] = state[:k]
        state[:k] = back[idx, state[:k]]
    return out
