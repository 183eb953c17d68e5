"""The corpus layer: PubMed in, ``Article`` records out, kept in a local store.

One module per format or service: ``pubmed_xml`` (PubMed/MEDLINE XML, streaming), ``medline_text``,
``abstract_export``, ``bundled`` (the shipped seed review), ``eutils`` (E-utilities over Bio.Entrez),
``store`` (SQLite), ``ingest`` (files into the store); ``xmlsafe`` is the one place XML is opened,
``textclean`` and ``build`` the one place text is cleaned and an ``Article`` assembled.
"""
