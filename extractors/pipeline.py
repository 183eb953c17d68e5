"""Assemble the spaCy pipeline: tokenizer, sentences, abbreviations, recognisers, resolver, relations.

``RECOGNISERS`` and ``RELATION_PIPES`` are the recipe. A user's installed scispaCy/spaCy model
(``Settings.model``) replaces the blank English base: its pipes run first and its entity spans become
extra candidates. Optional stages (the trained gene model, relation extraction) are added when their
packages or weights are present.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from pathlib import Path

import spacy
from spacy.language import Language

from corpus.errors import InputError
from extractors.lex_attrs import faster_getters

LOG = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
# The one definition (gene_model.component.MODEL_DIR). The weights live in the repository's models/; a wheel
# carries them inside this package (setup.py), as models/ is no package of its own.
_WHEEL_MODELS = Path(__file__).resolve().parent / "models"
GENE_MODEL_DIR = (_WHEEL_MODELS if _WHEEL_MODELS.is_dir() else REPO / "models") / "gene_ner"

RECOGNISERS = ("resistmine_genes", "resistmine_chemicals", "resistmine_therapies", "resistmine_cancers")
RELATION_PIPES = ("resistmine_mechanisms", "resistmine_cues", "resistmine_relations")
# spaCy's tokenizer caches how it split each distinct whitespace-delimited chunk, but only the first 10,000:
# on a stream of abstracts that is full after ~200 and every later chunk outside it is split by the affix
# regexes again. Sized for the words a pipeline takes in before ``extractors.api.fresh_pipeline`` rebuilds
# it (~1.7 distinct chunks per new word; ~300 bytes each, so at most ~75 MB).
TOKENIZER_CACHE_CHUNKS = 250_000


def build_pipeline(model: str | None = None, relations: bool = True, gene_model: bool = True,
                   tokenizer: str = "gene") -> Language:
    """A fresh pipeline (use ``extractors.api.load_pipeline`` for the cached one)."""
    import extractors.ner.components  # noqa: F401  (registers the factories)
    import extractors.ner.segment  # noqa: F401
    from extractors.ner.segment import TextKeepingTokenizer

    nlp = _base(model, tokenizer)
    # spaCy runs every lexeme getter on each word it has not seen; same values, less CPU (lex_attrs)
    nlp.vocab.lex_attr_getters = faster_getters(nlp.vocab.lex_attr_getters)
    if hasattr(nlp.tokenizer, "max_cache_size"):
        nlp.tokenizer.max_cache_size = max(nlp.tokenizer.max_cache_size, TOKENIZER_CACHE_CHUNKS)
    if not isinstance(nlp.tokenizer, TextKeepingTokenizer):
        nlp.tokenizer = TextKeepingTokenizer(nlp.tokenizer)
    if model and "ner" in nlp.pipe_names:
        nlp.add_pipe("resistmine_model_entities")
    if not any(p in nlp.pipe_names for p in ("parser", "senter", "sentencizer")):
        nlp.add_pipe("resistmine_sentences")
    if "abbreviation_detector" not in nlp.pipe_names:
        nlp.add_pipe("resistmine_abbreviations")
    for name in RECOGNISERS:
        nlp.add_pipe(name)
    if gene_model and (GENE_MODEL_DIR / "config.cfg").is_file():
        _add_optional(nlp, "extractors.gene_model", ("resistmine_gene_model",))
    elif gene_model:  # e.g. a checkout whose models/ was removed: say so, accuracy drops
        LOG.warning("no gene model weights at %s: gene mentions come from the lexicons alone (BioRED dev "
                    "strict F1 0.78 instead of 0.83); reinstall, or retrain them with "
                    "`resistmine train gene-ner`", GENE_MODEL_DIR)
    nlp.add_pipe("resistmine_resolve_mentions")
    if relations:
        _add_optional(nlp, "extractors.relations", RELATION_PIPES)
    return nlp


def _base(model: str | None, tokenizer: str) -> Language:
    if model:
        try:
            nlp = spacy.load(model)
        except OSError as exc:
            raise InputError(f"spaCy model {model!r} cannot be loaded (is it installed?): {exc}") from None
        for name in ("lemmatizer",):
            if name in nlp.pipe_names:
                nlp.remove_pipe(name)
        return nlp
    nlp = spacy.blank("en")
    if tokenizer == "gene":
        # The trained gene model's rules (spaCy's English plus splits at gene-name edges): the model then
        # reads the pipeline's tokens instead of tokenizing every text a second time. Lexicons match
        # characters; triples, gene and chemical scores are as with scispaCy's tokenizer (README).
        from extractors.gene_model.tokenizer import use_gene_rules

        use_gene_rules(nlp.tokenizer, nlp.Defaults)
    elif tokenizer == "scispacy":
        from scispacy.custom_tokenizer import combined_rule_tokenizer

        with warnings.catch_warnings():
            # scispaCy's own infix pattern trips a FutureWarning of `re` ("Possible set union"); harmless
            warnings.simplefilter("ignore", FutureWarning)
            nlp.tokenizer = combined_rule_tokenizer(nlp)
    elif tokenizer != "spacy":
        raise InputError(f"unknown tokenizer {tokenizer!r} (gene, scispacy or spacy)")
    return nlp


def _add_optional(nlp: Language, module: str, pipes: tuple[str, ...]) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        LOG.info("%s not available (%s): pipeline built without %s", module, exc, ", ".join(pipes))
        return
    for name in pipes:
        if name in nlp.pipe_names:
            continue
        try:
            nlp.add_pipe(name)
        except (ValueError, OSError) as exc:  # factory missing or weights absent
            LOG.info("skipping %s: %s", name, str(exc).splitlines()[0])
