"""knowledge.csv rows: triples aggregated by (gene, mechanism, effect, therapy class), set against the seed.

Aggregation runs in DuckDB over triples.csv, so it streams from disk and never holds every triple in
memory. Negated triples ("loss of PTEN did not cause resistance") are kept in triples.csv but do not
count as support for a knowledge row: they neither add articles nor evidence nor score.

Status of a row: ``seed`` when its key is in the seed knowledge (the seed review's triples, shipped as
``seed_knowledge.tsv``), ``supports`` when it names a seed row's gene, effect and therapy class with a
mechanism that changes the gene in the same direction (PTEN deletion supports PTEN loss), else ``new``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from extractors.triples import knowledge_key
from outputs.tables import KNOWLEDGE_COLUMNS, LIST_SEPARATOR, TRIPLE_TABLE_COLUMNS

SEED_FILE = "seed_knowledge.tsv"
STATUS_ORDER = {"seed": 0, "supports": 1, "new": 2}

# Mechanisms grouped by the direction in which they change the gene's activity.
DIRECTION = {
    "loss": "down",
    "deletion": "down",
    "loss_of_function_mutation": "down",
    "downregulation": "down",
    "silencing": "down",
    "methylation": "down",
    "deficiency": "down",
    "inhibition": "down",
    "amplification": "up",
    "overexpression": "up",
    "upregulation": "up",
    "activation": "up",
}

# Per-article evidence weight: a hedged statement ("may contribute") counts half.
HEDGE_WEIGHT = 0.5
# Confidence is capped below 1 so that the noisy-OR score stays finite and keeps growing with articles.
CONFIDENCE_CAP = 0.99


@dataclass(frozen=True, slots=True)
class SeedTriple:
    pmid: str
    gene: str
    gene_text: str
    mechanism: str
    mechanism_text: str
    effect: str
    therapy: str
    therapy_class: str

    @property
    def key(self) -> str:
        return knowledge_key(self.gene, self.mechanism, self.effect, self.therapy_class)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A knowledge row's best sentence and the spans to highlight in it (offsets in the sentence)."""

    pmid: str
    sentence: str
    spans: tuple[tuple[int, int, str], ...]


def load_seed(path: Path | None = None) -> tuple[SeedTriple, ...]:
    """The seed knowledge shipped in the package (or ``path``)."""
    if path is None:
        text = resources.files("outputs").joinpath(SEED_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(SeedTriple(**{name: row[name] for name in SeedTriple.__slots__}) for row in reader)


def seed_status(key: str, seed_keys: set[str]) -> str:
    if key in seed_keys:
        return "seed"
    gene, mechanism, effect, therapy_class = key.split("|")
    direction = DIRECTION.get(mechanism)
    for seed_key in seed_keys:
        s_gene, s_mechanism, s_effect, s_class = seed_key.split("|")
        if (s_gene, s_effect, s_class) == (gene, effect, therapy_class) and (
            direction is not None and DIRECTION.get(s_mechanism) == direction
        ):
            return "supports"
    return "new"


def _unescape_sql(column: str) -> str:
    return f"CASE WHEN regexp_matches({column}, '^''[=+@\\t\\r-]') THEN substr({column}, 2) ELSE {column} END"


def aggregate(triples_csv: Path) -> tuple[list[dict[str, Any]], dict[str, Evidence]]:
    """Aggregate triples.csv into knowledge rows (without review columns) and each row's best evidence."""
    import duckdb

    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in TRIPLE_TABLE_COLUMNS) + "}"
    text_columns = (
        "knowledge_key",
        "gene",
        "gene_id",
        "mechanism",
        "effect",
        "therapy_class",
        "therapy",
        "cancer_type",
        "evidence",
    )
    select = ", ".join(f"{_unescape_sql(c)} AS {c}" for c in text_columns)
    query = f"""
    WITH raw AS (
        SELECT * FROM read_csv(?, header = true, delim = ',', quote = '"', escape = '"',
                               columns = {columns}, auto_detect = false)
    ), t AS (
        SELECT {select},
               pmid, CAST(pmid AS BIGINT) AS pmid_n, CAST(sentence_id AS INTEGER) AS sentence_id,
               TRY_CAST(pub_year AS INTEGER) AS year, CAST(confidence AS DOUBLE) AS confidence,
               hedged = 'true' AS hedged, therapy_scope,
               CAST(sentence_start AS INTEGER) AS s0,
               CAST(gene_start AS INTEGER) AS g0, CAST(gene_end AS INTEGER) AS g1,
               CAST(mechanism_start AS INTEGER) AS m0, CAST(mechanism_end AS INTEGER) AS m1,
               CAST(therapy_start AS INTEGER) AS t0, CAST(therapy_end AS INTEGER) AS t1
        FROM raw WHERE negated <> 'true'
    ), per_article AS (
        SELECT knowledge_key, pmid_n,
               max(CASE WHEN hedged THEN confidence * {HEDGE_WEIGHT} ELSE confidence END) AS c
        FROM t GROUP BY knowledge_key, pmid_n
    ), scores AS (
        SELECT knowledge_key, 1 - exp(sum(ln(1 - least(c, {CONFIDENCE_CAP})))) AS score
        FROM per_article GROUP BY knowledge_key
    ), ranked AS (
        SELECT *, row_number() OVER (
            PARTITION BY knowledge_key
            ORDER BY hedged, confidence DESC, (therapy_scope = 'sentence') DESC, pmid_n, sentence_id, g0
        ) AS rank
        FROM t
    ), agg AS (
        SELECT knowledge_key,
               min(gene) AS gene, min(gene_id) AS gene_id, min(mechanism) AS mechanism, min(effect) AS effect,
               min(therapy_class) AS therapy_class,
               array_to_string(list_sort(list_distinct(list(therapy))), '{LIST_SEPARATOR}') AS therapies,
               array_to_string(list_sort(list_distinct(list(cancer_type) FILTER (cancer_type <> ''))),
                               '{LIST_SEPARATOR}') AS cancer_types,
               count(DISTINCT pmid_n) AS n_articles, count(DISTINCT (pmid_n, sentence_id)) AS n_sentences,
               array_to_string(list_sort(list_distinct(list(pmid_n))), '{LIST_SEPARATOR}') AS pmids,
               min(year) AS first_year, max(year) AS last_year
        FROM t GROUP BY knowledge_key
    )
    SELECT agg.*, round(scores.score, 4) AS score,
           b.evidence, b.pmid AS evidence_pmid, b.therapy_scope, b.s0, b.g0, b.g1, b.m0, b.m1, b.t0, b.t1
    FROM agg
    JOIN scores USING (knowledge_key)
    JOIN ranked b ON b.knowledge_key = agg.knowledge_key AND b.rank = 1
    ORDER BY agg.knowledge_key
    """
    with tempfile.TemporaryDirectory(prefix="resistmine-duckdb-") as spill:
        con = duckdb.connect(config={"temp_directory": spill, "threads": 2})
        try:
            cursor = con.execute(query, [str(triples_csv)])
            names = [d[0] for d in cursor.description]
            records = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        finally:
            con.close()
    rows: list[dict[str, Any]] = []
    evidence: dict[str, Evidence] = {}
    for record in records:
        key = record["knowledge_key"]
        row = {name: record.get(name) for name in KNOWLEDGE_COLUMNS if name in record}
        row["key"] = key
        rows.append(row)
        spans = [(record["g0"], record["g1"], "gene"), (record["m0"], record["m1"], "mechanism")]
        if record["therapy_scope"] == "sentence":
            spans.append((record["t0"], record["t1"], "therapy"))
        sentence = record["evidence"] or ""
        local = tuple(
            sorted(
                (start - record["s0"], end - record["s0"], kind)
                for start, end, kind in spans
                if start is not None and 0 <= start - record["s0"] <= end - record["s0"] <= len(sentence)
            )
        )
        evidence[key] = Evidence(str(record["evidence_pmid"]), sentence, local)
    return rows, evidence


def knowledge_rows(
    triples_csv: Path, seed: Iterable[SeedTriple]
) -> tuple[list[dict[str, Any]], dict[str, Evidence]]:
    """Knowledge rows (review columns pending) in their stable order: seed, supports, new; then by support."""
    rows, evidence = aggregate(triples_csv)
    seed = tuple(seed)
    seed_keys = {entry.key for entry in seed}
    by_key = {row["key"]: row for row in rows}
    for entry in seed:
        if entry.key not in by_key:
            by_key[entry.key] = {
                "key": entry.key,
                "gene": entry.gene.upper(),
                "gene_id": "",
                "mechanism": entry.mechanism,
                "effect": entry.effect,
                "therapy_class": entry.therapy_class,
                "therapies": entry.therapy,
                "cancer_types": "",
                "n_articles": 0,
                "n_sentences": 0,
                "pmids": "",
                "first_year": None,
                "last_year": None,
                "score": 0.0,
                "evidence": "",
                "evidence_pmid": "",
            }
    for row in by_key.values():
        row["status"] = seed_status(row["key"], seed_keys)
        row["review_status"] = "pending"
        row["review_note"] = ""
    ordered = sorted(by_key.values(), key=lambda r: (STATUS_ORDER[r["status"]], -r["n_articles"], r["key"]))
    return ordered, evidence
