"""The project's trained gene-mention model: data conversion, training, and the spaCy component.

Importing this package registers the ``resistmine_gene_model`` factory.
"""

from extractors.gene_model.component import MODEL_DIR, GeneModelComponent, load_tagger, make_gene_model
from extractors.gene_model.predict import GeneTagger

__all__ = ["MODEL_DIR", "GeneModelComponent", "GeneTagger", "load_tagger", "make_gene_model"]
