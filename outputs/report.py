"""The HTML report beside the CSVs: the knowledge table with each best evidence sentence highlighted.

Every piece of text from an article or a person is HTML-escaped (a title containing ``<script>`` shows
as text), and the page's Content-Security-Policy forbids scripts altogether as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from outputs.csvsafe import unescape_cell, write_text_atomic
from outputs.knowledge import Evidence

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def _text(value: Any) -> str:
    return "" if value is None else unescape_cell(str(value))


def highlight(evidence: Evidence) -> str:
    """The sentence as HTML with gene, mechanism and therapy spans marked; overlapping spans are skipped."""
    parts: list[str] = []
    cursor = 0
    for start, end, kind in evidence.spans:
        if start < cursor or end <= start:
            continue
        parts.append(html.escape(evidence.sentence[cursor:start]))
        parts.append(f'<mark class="{kind}">{html.escape(evidence.sentence[start:end])}</mark>')
        cursor = end
    parts.append(html.escape(evidence.sentence[cursor:]))
    return "".join(parts)


def _pubmed_link(pmid: str) -> str:
    pmid = pmid.strip()
    if not pmid.isdigit():
        return html.escape(pmid)
    return f'<a href="{html.escape(PUBMED_URL.format(pmid=pmid))}">PMID {pmid}</a>'


def _therapy_cell(row: Mapping[str, Any]) -> str:
    therapy_class, therapies = _text(row.get("therapy_class")), _text(row.get("therapies"))
    cell = html.escape(therapy_class)
    if therapies and therapies != therapy_class:
        cell += f"<br><small>{html.escape(therapies)}</small>"
    return cell


def render_row(row: Mapping[str, Any], evidence: Evidence | None) -> str:
    status = _text(row.get("status"))
    review = _text(row.get("review_status"))
    note = _text(row.get("review_note"))
    first, last = _text(row.get("first_year")), _text(row.get("last_year"))
    years = "–".join(dict.fromkeys(y for y in (first, last) if y))
    if evidence is not None and evidence.sentence:
        sentence = highlight(evidence)
        source = _pubmed_link(evidence.pmid)
    else:
        sentence = html.escape(_text(row.get("evidence")))
        source = _pubmed_link(_text(row.get("evidence_pmid"))) if row.get("evidence_pmid") else ""
    pmids = _text(row.get("pmids"))
    links = ", ".join(_pubmed_link(p) for p in pmids.split(";") if p) if pmids else ""
    cells = [
        html.escape(_text(row.get("gene"))),
        html.escape(_text(row.get("mechanism"))),
        html.escape(_text(row.get("effect"))),
        _therapy_cell(row),
        f'<span class="status-{html.escape(status)}">{html.escape(status)}</span>',
        html.escape(review) + (f"<br><small>{html.escape(note)}</small>" if note else ""),
        f"{html.escape(_text(row.get('n_articles')))}<br><small>{links}</small>",
        html.escape(years),
        html.escape(_text(row.get("score"))),
        f'<div class="evidence">{sentence}</div><small>{source}</small>',
    ]
    body = "".join(f"<td>{cell}</td>" for cell in cells)
    key = html.escape(_text(row.get("key")))
    return f'<tr class="review-{html.escape(review)}" data-key="{key}">{body}</tr>'


def render_report(rows: Iterable[Mapping[str, Any]], evidence: Mapping[str, Evidence], summary: str) -> str:
    source = resources.files("outputs").joinpath("report_template.html")
    template = Template(source.read_text(encoding="utf-8"))
    rendered = "\n".join(render_row(row, evidence.get(_text(row.get("key")))) for row in rows)
    return template.substitute(rows=rendered, summary=html.escape(summary))


def write_report(
    path: Path, rows: Iterable[Mapping[str, Any]], evidence: Mapping[str, Evidence], summary: str
) -> None:
    write_text_atomic(path, render_report(rows, evidence, summary))
