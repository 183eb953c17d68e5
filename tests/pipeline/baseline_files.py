"""Split the shared MEDLINE baseline sample into several smaller, real baseline files for bulk tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from lxml import etree

# under ../shared (tests get it from the ``shared_dir`` fixture, which skips when it is absent)
BASELINE = Path("data", "pubmed_xml", "medline_baseline_samples", "medline16n0902.xml.gz")


def split_baseline(source: Path, out_dir: Path, parts: int, limit: int | None = None) -> list[Path]:
    """``parts`` gzipped files with the sample's citations in order (the last one also gets its
    ``<DeleteCitation>``), each a complete ``MedlineCitationSet`` with the original DOCTYPE."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    tree = etree.parse(gzip.open(source), parser)
    root = tree.getroot()
    citations = root.findall("MedlineCitation")[:limit]
    deletions = root.findall("DeleteCitation")
    doctype = tree.docinfo.doctype
    size = -(-len(citations) // parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(parts):
        part = etree.Element(root.tag)
        part.extend(citations[number * size : (number + 1) * size])
        if number == parts - 1:
            part.extend(deletions)
        body = etree.tostring(part, encoding="UTF-8", xml_declaration=False)
        path = out_dir / f"sample{number + 1:02d}.xml.gz"
        with gzip.open(path, "wb") as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() + b"\n" + body)
        paths.append(path)
    return paths
