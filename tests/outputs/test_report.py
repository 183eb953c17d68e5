from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from table_records import make_article, make_result, make_triple

from outputs.knowledge import Evidence, knowledge_rows, load_seed
from outputs.report import highlight, render_report, write_report
from outputs.tables import TRIPLES_CSV, write_article_tables

ATTACK = "<script>document.body.setAttribute('data-pwned','yes')</script>"


def _report_inputs(tmp_path: Path):
    hostile = make_article("111", title=f"Evil {ATTACK} title")
    plain = make_article("222")
    pairs = [
        (hostile, make_result(hostile, make_triple(hostile, evidence=f"PTEN loss {ATTACK}", gene="PTEN"))),
        (plain, make_result(plain, make_triple(plain))),
    ]
    write_article_tables(tmp_path, pairs)
    rows, evidence = knowledge_rows(tmp_path / TRIPLES_CSV, load_seed())
    rows[0]["review_note"] = "<img src=x onerror=alert(1)>"
    return rows, evidence


def test_highlight_marks_spans_and_escapes_text() -> None:
    ev = Evidence("1", "PTEN <b>loss</b> here", ((0, 4, "gene"), (8, 12, "mechanism")))
    assert highlight(ev) == (
        '<mark class="gene">PTEN</mark> &lt;b&gt;<mark class="mechanism">loss</mark>&lt;/b&gt; here'
    )


def test_report_escapes_everything_and_links_pubmed(tmp_path: Path) -> None:
    rows, evidence = _report_inputs(tmp_path)
    page = render_report(rows, evidence, summary=f"summary {ATTACK}")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/222/"' in page
    assert '<mark class="gene">PTEN</mark>' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_report_in_a_headless_browser_shows_scripts_as_text(tmp_path: Path) -> None:
    rows, evidence = _report_inputs(tmp_path)
    page = tmp_path / "report.html"
    write_report(page, rows, evidence, summary=f"summary {ATTACK}")
    profile = tmp_path / "profile"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    dom = done.stdout
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]  # the script never ran
    assert "<script" not in dom
    assert "&lt;script&gt;document.body.setAttribute" in dom  # shown as text
    assert dom.count("<tr ") == len(rows)
    assert '<mark class="gene">PTEN</mark>' in dom
    assert "https://pubmed.ncbi.nlm.nih.gov/111/" in dom
