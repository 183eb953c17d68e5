"""Evaluation against gold corpora: NER (PubTator) and triples."""
