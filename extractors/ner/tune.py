"""Learn lexicon filters and additions from TRAIN splits only: ``python -m extractors.ner.tune``.

For every lexicon key, count how often the recogniser matches it in the train texts and how often that
match is exactly a gold mention of the label. Keys that are rarely gold (English words, units, other
entity types) are dropped or made to need gene context; gold surface forms the lexicons lack are added
when they are usually annotated where they occur; ambiguous gene forms get the concept train gold uses
most. Output: ``data/filters.tsv`` and ``data/learned.tsv`` (small, committed, reviewable).

Train corpora used: BioRED Train, GNormPlus Train (genes), BC5CDR Training (chemicals, diseases).
BioRED Dev, NLM-Gene and NCBI disease are never read here: they stay held out for evaluation.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from extractors.evaluation.ner import TYPE_MAP
from extractors.evaluation.pubtator import PubtatorDocument, read_pubtator
from extractors.mentions import CHEMICAL, GENE
from extractors.ner.build import FILTERS, LEARNED, build_lexicon
from extractors.ner.lexicon import Concept, Lexicon
from extractors.ner.matcher import LexiconMatcher
from extractors.ner.sources import hgnc_rows
from extractors.ner.text import fold

REPO = Path(__file__).resolve().parents[2]
TRAIN = {
    GENE: ["biored/Train.PubTator", "gnormplus/GNormPlus_Train.PubTator"],
    CHEMICAL: ["biored/Train.PubTator", "bc5cdr/CDR_TrainingSet.PubTator.txt"],
}
# Cancer mentions are not filtered: disease corpora annotate spans by conventions (modifiers, composite
# mentions) that say little about whether a neoplasm name is one.
# Thresholds on the smoothed gold rate (gold + 1) / (matches + 2).
DROP_BELOW = 0.25
CONTEXT_BELOW = 0.5
MIN_MATCHES = 3
LEARN_MIN_RATE = 0.5
PREFER_MIN_SHARE = 0.6
PREFER_MIN_COUNT = 2  # documents
LEARN_MAX_WORDS = 6


def gold_by_label(doc: PubtatorDocument, label: str) -> dict[tuple[int, int], set[str]]:
    spans: dict[tuple[int, int], set[str]] = {}
    for m in doc.mentions:
        if TYPE_MAP.get(m.type) == label and m.type not in {"Modifier"}:
            spans.setdefault((m.start, m.end), set()).update(m.ids)
    return spans


def key_statistics(docs: Iterable[PubtatorDocument], label: str, matcher: LexiconMatcher):
    """Per folded key: matches, exact gold matches, and per surface the documents each gold id is seen in
    (one document that uses a form unusually must not decide it for all)."""
    matches: Counter[str] = Counter()
    gold_hits: Counter[str] = Counter()
    gold_ids: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        text = doc.text
        gold = gold_by_label(doc, label)
        seen: dict[str, set[str]] = defaultdict(set)
        for hit in matcher.find(text):
            matches[hit.key] += 1
            ids = gold.get((hit.start, hit.end))
            if ids is not None:
                gold_hits[hit.key] += 1
                seen[text[hit.start:hit.end]].update(ids)
        for surface, ids in seen.items():
            gold_ids[surface].update(ids)
    return matches, gold_hits, gold_ids


def lowercase_words(docs: Iterable[PubtatorDocument], min_count: int = 3) -> set[str]:
    """Words written in lower case at least ``min_count`` times in the train texts: English, not symbols."""
    counts = Counter(w for d in docs for w in re.findall(r"(?<![\w-])[a-z]{3,8}(?![\w-])", d.text))
    return {w for w, n in counts.items() if n >= min_count}


def filters_for(matches: Counter[str], gold_hits: Counter[str],
                label: str, words: set[str] = frozenset(), keys: Iterable[str] = ()) -> dict[str, tuple]:
    """Drop keys rarely gold where they match; gene keys that are common lower-case words need context."""
    out = {}
    if label == GENE:
        for key in keys:
            reliable = matches[key] >= MIN_MATCHES and gold_hits[key] >= CONTEXT_BELOW * matches[key]
            if key in words and not reliable:
                out[key] = ("context", matches[key], gold_hits[key])
    for key, n in matches.items():
        if n < MIN_MATCHES - (1 if label == GENE else 0):
            continue
        rate = (gold_hits[key] + 1) / (n + 2)
        if rate < DROP_BELOW and n >= MIN_MATCHES:
            out[key] = ("drop", n, gold_hits[key])
        elif rate < CONTEXT_BELOW and label == GENE:
            out[key] = ("context", n, gold_hits[key])
        elif rate < CONTEXT_BELOW and n >= MIN_MATCHES:
            out[key] = ("drop", n, gold_hits[key])
    return out


def occurrences(texts: list[str], surface: str) -> int:
    pattern = re.compile(r"(?<![\w])" + re.escape(surface) + r"(?![\w])")
    return sum(len(pattern.findall(t)) for t in texts)


def learned_for(docs: list[PubtatorDocument], label: str, lexicon: Lexicon,
                gold_ids: dict[str, Counter[str]]) -> list[tuple[str, str, str, str, str]]:
    """New surface forms from gold, and preferred concepts for ambiguous gene forms."""
    ncbi_column = "NCBI Gene ID(supplied by NCBI)"
    by_ncbi = {r[ncbi_column]: r for r in hgnc_rows() if r[ncbi_column]}
    texts = [d.text for d in docs]
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for (start, end), ids in gold_by_label(doc, label).items():
            surfaces[doc.text[start:end]].update(ids or {""})
    rows = []
    for surface, ids in sorted(surfaces.items()):
        total = sum(ids.values())
        if (len(surface) < 3 or "\n" in surface or "\t" in surface or len(surface.split()) > LEARN_MAX_WORDS
                or not surface[0].isalnum() or not surface[-1].isalnum() and surface[-1] not in ")]+"):
            continue
        known = lexicon.candidates(fold(surface), surface)
        concept = _concept(label, surface, ids, by_ncbi)
        if concept is None:
            continue
        if known:
            if label == GENE and len(lexicon.keys.get(fold(surface), ())) > 0:
                seen = gold_ids.get(surface, Counter())
                best, count = (seen.most_common(1) or [("", 0)])[0]
                share = count / max(1, sum(seen.values()))
                # only choose among the concepts the lexicon already links to this form
                options = [c for c, _ in known if f"NCBIGene:{best}" in c.ids]
                if (options and share >= PREFER_MIN_SHARE and count >= PREFER_MIN_COUNT
                        and options[0] != known[0][0]):
                    rows.append((label, surface, options[0].norm, ";".join(options[0].ids), "prefer"))
            continue
        if total / max(1, occurrences(texts, surface)) < LEARN_MIN_RATE:
            continue
        rows.append((label, surface, concept.norm, ";".join(concept.ids), concept.category))
    return rows


def _concept(label: str, surface: str, ids: Counter[str], by_ncbi: dict) -> Concept | None:
    best = [i for i, _ in ids.most_common() if i]
    if label == GENE:
        for ncbi in best:
            row = by_ncbi.get(ncbi)
            if row:
                return Concept(GENE, row["Approved symbol"], (row["HGNC ID"], f"NCBIGene:{ncbi}"), "gene")
        return None
    if not best:
        return None
    mesh = best[0] if best[0].startswith("MESH:") else f"MESH:{best[0]}"
    return Concept(label, surface, (mesh,), label.lower())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    filter_rows, learned_rows = [], []
    for label, files in TRAIN.items():
        docs = [d for f in files for d in read_pubtator(args.shared / f)]
        lexicon = build_lexicon(label, filtered=False)
        matches, gold_hits, gold_ids = key_statistics(docs, label, LexiconMatcher(lexicon))
        words = lowercase_words(docs) if label == GENE else set()
        word_keys = [k for k, cands in lexicon.keys.items() if k in words and any(
            c.surfaces is None or any(not s.islower() for s in c.surfaces) for c in cands)]
        found = filters_for(matches, gold_hits, label, words, word_keys)
        for key, (action, n, g) in sorted(found.items()):
            filter_rows.append(f"{label}\t{key}\t{action}\t{n}\t{g}")
        if label in (GENE, CHEMICAL):
            learned_rows += ["\t".join(r) for r in learned_for(docs, label, lexicon, gold_ids)]
        print(f"{label}: {len(docs)} train documents, {len(matches)} keys matched")
    header = "# written by `python -m extractors.ner.tune` from TRAIN splits only; edit by rerunning\n"
    FILTERS.write_text(header + "# label\tkey\taction\tmatches\tgold\n" + "\n".join(filter_rows) + "\n")
    LEARNED.write_text(header + "# label\tsurface\tnorm\tids\tcategory\n" + "\n".join(learned_rows) + "\n")
    print(f"{len(filter_rows)} filters -> {FILTERS.name}, {len(learned_rows)} learned -> {LEARNED.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
