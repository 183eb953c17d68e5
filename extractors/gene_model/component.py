"""``resistmine_gene_model``: the trained gene-mention model as a spaCy pipeline component.

It reads ``doc.text`` (not the outer pipeline's tokens: the model has its own tokenizer, see
``tokenizer``), runs the model on windows around gene-like tokens and appends
``Mention(label="GENE", source="model")`` objects to ``Doc._.mentions`` for the resolver to merge with
lexicon matches and normalise. The character ranges the model was run on go to
``Doc.user_data[MODEL_SEEN_KEY]``: the resolver lets the model overrule lexicon-only acronyms there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch
from spacy.vocab import Vocab

from extractors.gene_model.predict import DEFAULT_WINDOW, GeneTagger
from extractors.gene_model.predict import load_tagger as _load
from extractors.gene_model.tokenizer import make_nlp, same_tokenization
from extractors.mentions import GENE, Mention
from extractors.ner.components import MODEL_SEEN_KEY
from extractors.ner.segment import doc_text
from extractors.pipeline import GENE_MODEL_DIR as MODEL_DIR

SOURCE = "model"


def _ensure_extension() -> None:
    if not Doc.has_extension("mentions"):
        Doc.set_extension("mentions", default=None)


def load_tagger(
    model_path: str | Path | None = None, window: int | None = DEFAULT_WINDOW, vocab: Vocab | None = None
) -> GeneTagger:
    """The shipped (or given) weights as a ``GeneTagger``; raises ``InputError`` if they are missing."""
    return _load(Path(model_path) if model_path else MODEL_DIR, window=window, vocab=vocab)


def mentions_for(text: str, spans: Iterable[tuple[int, int]]) -> list[Mention]:
    """Model spans as GENE mentions; ``norm`` is the surface text until the resolver normalises it."""
    return [Mention(s, e, text[s:e], GENE, text[s:e], (), "", SOURCE, 1.0) for s, e in spans]


class GeneModelComponent:
    """Finds gene mentions with the trained model and appends them to ``Doc._.mentions``."""

    def __init__(self, name: str, tagger: GeneTagger, batch_size: int = 64, shared_tokens: bool = False):
        self.name = name
        self.tagger = tagger
        self.batch_size = batch_size
        # The pipeline tokenizes as the model does: read its tokens instead of tokenizing every text again.
        self.shared_tokens = shared_tokens
        _ensure_extension()

    def __call__(self, doc: Doc) -> Doc:
        return self._annotate([doc])[0]

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size or self.batch_size):
            yield from self._annotate(list(batch))

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        texts = [doc_text(doc) for doc in docs]
        if self.shared_tokens:
            predicted = self.tagger.predict_docs_with_coverage(docs)
        else:
            predicted = self.tagger.predict_with_coverage(texts)
        for doc, text, (spans, seen) in zip(docs, texts, predicted, strict=True):
            mentions = list(doc._.mentions or [])
            mentions.extend(mentions_for(text, spans))
            mentions.sort(key=lambda m: (m.start, m.end, m.label, m.source))
            doc._.mentions = mentions
            doc.user_data[MODEL_SEEN_KEY] = seen
        return docs


@Language.factory(
    "resistmine_gene_model",
    default_config={"model_path": None, "window": DEFAULT_WINDOW, "batch_size": 64},
)
def make_gene_model(
    nlp: Language, name: str, model_path: str | None, window: int | None, batch_size: int
) -> GeneModelComponent:
    """``model_path`` None = the weights in ``models/gene_ner``; ``window`` None = run on whole texts."""
    # A blank English pipeline that tokenizes by the model's rules shares its vocab with the tagger, which
    # then reads the pipeline's tokens; any other pipeline (a user's scispaCy model) is tokenized again.
    shared = nlp.lang == "en" and not nlp.vocab.vectors.shape[0] and same_tokenization(
        nlp.tokenizer, make_nlp().tokenizer
    )
    tagger = load_tagger(model_path, window, vocab=nlp.vocab if shared else None)
    if shared and not same_tokenization(nlp.tokenizer, tagger.nlp.tokenizer):  # weights with other rules
        tagger, shared = load_tagger(model_path, window), False
    return GeneModelComponent(name, tagger, batch_size, shared_tokens=shared)
