"""The gene model's own tokenizer: spaCy's English rules plus splits inside biomedical tokens.

Gene mentions sit inside compounds such as ``IL-17-producing``, ``PI3K/Akt/mTOR``, ``CD4(+)`` and
``anti-PD-1``; a span can only be predicted if its edges are token edges, so the model splits
hyphens, slashes, brackets and ``+`` where a gene name can start or end. The model runs this tokenizer
on the text itself and reports character offsets, so the surrounding pipeline may tokenize differently.
"""

from __future__ import annotations

from collections.abc import Callable

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_prefix_regex

from extractors.gene_model.affixes import AffixRegex, SuffixSearch

# Extra infixes, each a place where a gene mention may begin or end inside a longer token.
EXTRA_INFIXES = (
    r"[/\\]",  # PI3K/Akt, JAK1/2
    r"(?<=[0-9A-Za-zα-ωΑ-Ω)\]])[-–‐](?=[0-9A-Za-zα-ωΑ-Ω(\[])",  # IL-17-producing, anti-PD-1, Cbl-b
    r"[()\[\]]",  # CD4(+), (HNF)-6
    r"[+]",  # CD8+ T
    r"(?<=[a-z]{3})(?=[A-Z]{2})",  # siRNA-free joins such as 'shPTEN' are left alone; 'anti' caps split
    r"[:;,=~*]",  # Pro75:Ala, TNF-α,IL-6, CD72-*2
    r"(?<=[0-9])(?=[a-z]{4,})",  # 17producing
)
EXTRA_PREFIXES = (r"[/\\-]",)  # /Cx3cr1, -GnRH
EXTRA_SUFFIXES = (
    r"(?<=[0-9A-Za-zα-ω])[-–]",  # EPOR- regulated, insulin- and leptin-induced
    r"\.",  # TNF-a. and PI3K. at a sentence end (abbreviations are tokenizer exceptions)
)


def make_nlp() -> Language:
    """A blank English pipeline whose tokenizer splits biomedical compounds at gene boundaries."""
    nlp = spacy.blank("en")
    use_gene_rules(nlp.tokenizer, nlp.Defaults)
    return nlp


def use_gene_rules(tokenizer: Tokenizer, defaults: type) -> None:
    """Give an English ``tokenizer`` the model's splits (its ``defaults`` are the language's ``Defaults``)."""
    # Same splits as the compiled regexes, matched faster on the chunks the tokenizer's cache cannot serve.
    prefixes = compile_prefix_regex(list(defaults.prefixes) + list(EXTRA_PREFIXES))
    tokenizer.infix_finditer = AffixRegex.infixes(list(defaults.infixes) + list(EXTRA_INFIXES)).finditer
    tokenizer.prefix_search = AffixRegex(prefixes).search
    tokenizer.suffix_search = SuffixSearch(list(defaults.suffixes) + list(EXTRA_SUFFIXES)).search


def _pattern(function: Callable | None) -> str | None:
    owner = getattr(function, "__self__", None)
    return getattr(owner, "pattern", None) if function is not None else None


def same_tokenization(a: Tokenizer, b: Tokenizer) -> bool:
    """Do two tokenizers split every text alike (same affix rules, token and URL matches, special cases)?"""
    names = ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match")
    try:
        return all(_pattern(getattr(a, n)) == _pattern(getattr(b, n)) for n in names) and a.rules == b.rules
    except AttributeError:  # not a spaCy rule-based tokenizer
        return False
