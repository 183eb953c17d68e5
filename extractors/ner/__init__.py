"""Biomedical NER: lexicons from maintained sources, Aho-Corasick matching, normalisation, abbreviations."""

from extractors.ner.normalise import normalise_gene, resolve_gene

__all__ = ["normalise_gene", "resolve_gene"]
