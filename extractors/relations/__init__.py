"""Relation extraction: mechanism and resistance-cue recognisers, and gene – mechanism – therapy triples.

Importing the package registers the spaCy factories ``resistmine_mechanisms``, ``resistmine_cues`` and
``resistmine_relations``.
"""

from extractors.relations.component import RelationExtractor
from extractors.relations.extract import RELATIONS_VERSION, extract_triples
from extractors.relations.recognisers import CueRecogniser, MechanismRecogniser, find_cues, find_mechanisms

__all__ = [
    "RELATIONS_VERSION",
    "CueRecogniser",
    "MechanismRecogniser",
    "RelationExtractor",
    "extract_triples",
    "find_cues",
    "find_mechanisms",
]
